"""The decoder of an encoder–decoder with Bahdanau attention (Burkov, appendix D).

One layer holds the decoder's weights and runs it two ways:

- **teacher forcing** (training): ``decoder([encoder_states, decoder_input])``
  feeds the true previous token at every step and returns the probabilities
  of the next token, ``(batch, T, vocab)``, and the attention weights;
- **greedy decoding** (inference): ``decoder([encoder_states])`` starts from
  ``start_token``, feeds back its own most probable token for ``max_length``
  steps and returns the tokens ``(batch, max_length)`` (0 after the stop
  token) and the attention weights ``(batch, max_length, T_encoder)``.

Both modes return two tensors (Keras checks a functional graph against the
number of outputs of a layer's first call, so the modes must agree). Both loops
are unrolled over a static number of steps, so the exported graph needs no
dynamic control flow: it converts to TFLite builtin ops.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from custom_layers.additive_attention import BahdanauAttention
from custom_layers.minimal_gru_cell import MinimalGRUCell

CELLS = ("lstm", "gru", "minimal_gru", "simple_rnn")


def _first_argmax(probs):
    """Index of the largest probability (the first one on ties), as int32.

    ``keras.ops.argmax`` guards against -0.0 with a sign-bit test that lowers
    to TFLite's non-builtin BitwiseAnd; probabilities are never negative, so
    max / compare / min does the same with builtin ops only.
    """
    best = ops.max(probs, axis=-1, keepdims=True)
    positions = ops.arange(probs.shape[-1], dtype="int32")
    candidates = ops.where(probs >= best, positions, probs.shape[-1])
    return ops.min(candidates, axis=-1)


@keras.saving.register_keras_serializable(package="nncompile")
class AttentionDecoder(keras.layers.Layer):
    """Recurrent decoder attending over all encoder states at every step.

    At step t, with previous decoder state s_{t-1} and previous token y_{t-1}:
    ``a_t = attention(s_{t-1}, h_1..h_T)``, ``s_t = cell([E y_{t-1}; a_t], s_{t-1})``,
    ``p(y_t) = softmax(V [s_t; a_t] + c)``. The first state is
    ``s_0 = tanh(W_0 mean_j h_j + b_0)`` over the unmasked encoder steps.

    Args:
        vocab_size: Number of output symbols (ids 0..vocab_size-1; 0 is padding).
        units: Size of the decoder state.
        embedding_dim: Size of the output-symbol embedding.
        attention_units: Hidden size of the alignment model (default: units).
        cell: "gru", "lstm", "minimal_gru" or "simple_rnn".
        start_token: Id fed at the first step.
        stop_token: Id that ends a sequence; later greedy outputs are 0.
        max_length: Steps of greedy decoding.
        dropout: Dropout on the cell's inputs while training.

    Call arguments:
        inputs: ``[encoder_states, decoder_input]`` (teacher forcing) or
            ``[encoder_states]`` (greedy decoding). encoder_states is
            ``(batch, T_enc, d)``; decoder_input ``(batch, T)`` int ids.
        mask: masks of the inputs; the encoder mask keeps padded encoder steps
            out of the attention.

    Example:

    >>> dec = AttentionDecoder(vocab_size=13, units=32, embedding_dim=8, max_length=11)
    >>> h = keras.ops.ones((2, 29, 16)); y = keras.ops.ones((2, 11), "int32")
    >>> probs, alpha = dec([h, y])
    >>> tuple(probs.shape), tuple(alpha.shape)
    ((2, 11, 13), (2, 11, 29))
    >>> tokens, alpha = dec([h])
    >>> tuple(tokens.shape), tuple(alpha.shape)
    ((2, 11), (2, 11, 29))
    """

    def __init__(self, vocab_size: int, units: int, embedding_dim: int = 32,
                 attention_units: int | None = None, cell: str = "gru", start_token: int = 1,
                 stop_token: int = 2, max_length: int = 20, dropout: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for arg, value in (("vocab_size", vocab_size), ("units", units),
                           ("embedding_dim", embedding_dim), ("max_length", max_length)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Received an invalid value for argument `{arg}`, expected a "
                                 f"positive integer, got {value!r}.")
        if cell not in CELLS:
            raise ValueError(f"Received an invalid value for argument `cell`, expected one of "
                             f"{', '.join(CELLS)}, got {cell!r}.")
        self.vocab_size = vocab_size
        self.units = units
        self.embedding_dim = embedding_dim
        self.attention_units = attention_units or units
        self.cell_type = cell
        self.start_token = start_token
        self.stop_token = stop_token
        self.max_length = max_length
        self.dropout = dropout
        self.supports_masking = True
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.attention = BahdanauAttention(self.attention_units, name="attention")
        cell_kwargs = {"dropout": dropout, "name": "cell"}
        self.cell = {
            "lstm": lambda: keras.layers.LSTMCell(units, **cell_kwargs),
            "gru": lambda: keras.layers.GRUCell(units, **cell_kwargs),
            "simple_rnn": lambda: keras.layers.SimpleRNNCell(units, **cell_kwargs),
            "minimal_gru": lambda: MinimalGRUCell(units, **cell_kwargs),
        }[cell]()
        self.initial_state_layer = keras.layers.Dense(units, activation="tanh",
                                                      name="initial_state")
        self.output_layer = keras.layers.Dense(vocab_size, activation="softmax", name="output")

    def build(self, input_shape) -> None:
        encoder_shape = input_shape[0]
        features = encoder_shape[-1]
        self.embedding.build((None, None))
        self.attention.build([(None, self.units), (None, None, features)])
        self.cell.build((None, self.embedding_dim + features))
        self.initial_state_layer.build((None, features))
        self.output_layer.build((None, self.units + features))

    # ------------------------------------------------------------------ steps
    def _initial_states(self, encoder, encoder_mask):
        if encoder_mask is None:
            mean = ops.mean(encoder, axis=1)
        else:
            keep = ops.expand_dims(ops.cast(encoder_mask, encoder.dtype), -1)
            mean = ops.sum(encoder * keep, axis=1) / ops.maximum(ops.sum(keep, axis=1), 1.0)
        s0 = self.initial_state_layer(mean)
        if self.cell_type == "lstm":
            return [s0, ops.zeros_like(s0)]
        return [s0]

    def _step(self, embedded, states, encoder, encoder_mask, training):
        context, weights = self.attention([states[0], encoder], mask=encoder_mask,
                                          return_attention_scores=True)
        output, states = self.cell(ops.concatenate([embedded, context], axis=-1), states,
                                   training=training)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        probs = self.output_layer(ops.concatenate([output, context], axis=-1))
        return probs, states, weights

    def call(self, inputs, mask=None, training=None):
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] * len(inputs)
        encoder, encoder_mask = inputs[0], masks[0]
        states = self._initial_states(encoder, encoder_mask)
        if len(inputs) == 2:
            return self._teacher_forcing(encoder, encoder_mask, inputs[1], states, training)
        return self._greedy(encoder, encoder_mask, states)

    def _teacher_forcing(self, encoder, encoder_mask, targets_in, states, training):
        embedded = self.embedding(ops.cast(targets_in, "int32"))
        outputs, alphas = [], []
        for t in range(targets_in.shape[1]):
            probs, states, weights = self._step(embedded[:, t], states, encoder, encoder_mask,
                                                training)
            outputs.append(probs)
            alphas.append(weights)
        return ops.stack(outputs, axis=1), ops.stack(alphas, axis=1)

    def _greedy(self, encoder, encoder_mask, states):
        batch = ops.shape(encoder)[0]
        token = ops.full((batch,), self.start_token, dtype="int32")
        # 0/1 integers rather than booleans: boolean logic lowers to TFLite ops
        # (BitwiseAnd) that have no builtin kernel.
        running = ops.ones((batch,), dtype="int32")
        tokens, alphas = [], []
        for _ in range(self.max_length):
            probs, states, weights = self._step(self.embedding(token), states, encoder,
                                                encoder_mask, False)
            token = _first_argmax(probs)
            tokens.append(token * running)
            alphas.append(weights)
            stopped = ops.cast(ops.equal(token, self.stop_token), "int32")
            running = running * (1 - stopped)
        return ops.stack(tokens, axis=1), ops.stack(alphas, axis=1)

    # ------------------------------------------------------------------ shapes
    def compute_mask(self, inputs, mask=None):
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            # Padded target steps carry no loss and count in no metric. The
            # teacher-forcing input is <start> followed by the target, so its
            # non-padding ids (0 pads) line up with the target's steps, the
            # <stop> step included.
            given = mask[1] if isinstance(mask, (list, tuple)) else None
            if given is None:
                given = ops.not_equal(ops.cast(inputs[1], "int32"), 0)
            return [given, None]
        return [None, None]

    def compute_output_spec(self, inputs, mask=None, training=None):
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        encoder = inputs[0]
        batch = encoder.shape[0]
        if len(inputs) == 2:
            steps = inputs[1].shape[1]
            return (keras.KerasTensor((batch, steps, self.vocab_size), dtype=self.compute_dtype),
                    keras.KerasTensor((batch, steps, encoder.shape[1]), dtype=self.compute_dtype))
        return (keras.KerasTensor((batch, self.max_length), dtype="int32"),
                keras.KerasTensor((batch, self.max_length, encoder.shape[1]),
                                  dtype=self.compute_dtype))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "units": self.units,
            "embedding_dim": self.embedding_dim,
            "attention_units": self.attention_units,
            "cell": self.cell_type,
            "start_token": self.start_token,
            "stop_token": self.stop_token,
            "max_length": self.max_length,
            "dropout": self.dropout,
        }
