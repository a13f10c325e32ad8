"""The minimal gated GRU layer (Burkov, ch. 6.2.2)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

# `backend.rnn` is the time loop `keras.layers.RNN` itself runs on; it takes
# care of masks, `go_backwards` and `unroll` the same way for every backend.
from keras.src import backend

from custom_layers.minimal_gru_cell import MinimalGRUCell

_CELL_ARGS = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)


@keras.saving.register_keras_serializable(package="nncompile")
class MinimalGRU(keras.layers.RNN):
    """Minimal gated recurrent unit: a GRU with a single gate.

    For each time step::

        h̃_t = tanh(W x_t + U h_{t-1} + b)
        Γ_t = σ(M x_t + O h_{t-1} + a)
        h_t = Γ_t ⊙ h̃_t + (1 − Γ_t) ⊙ h_{t-1}

    The input projection ``x_t [W | M] + [b | a]`` does not depend on the
    state, so it is computed for all time steps in one matrix product before
    the loop; each step then does a single ``(units, 2 * units)`` product
    (`keras.layers.GRU` does a ``(units, 3 * units)`` one and an input
    product per step).
    Weights are those of `MinimalGRUCell`: ``kernel`` ``(input_dim, 2*units)``,
    ``recurrent_kernel`` ``(units, 2*units)``, ``bias`` ``(2*units,)``,
    candidate columns first, gate columns second.

    Args:
        units: Positive integer, dimensionality of the state.
        activation: Activation of the candidate (default ``"tanh"``).
        recurrent_activation: Activation of the gate (default ``"sigmoid"``).
        use_bias: Whether the layer has the bias ``[b | a]``.
        kernel_initializer: Initializer for ``kernel``.
        recurrent_initializer: Initializer for ``recurrent_kernel``.
        bias_initializer: Initializer for ``bias``.
        kernel_regularizer: Regularizer applied to ``kernel``.
        recurrent_regularizer: Regularizer applied to ``recurrent_kernel``.
        bias_regularizer: Regularizer applied to ``bias``.
        kernel_constraint: Constraint applied to ``kernel``.
        recurrent_constraint: Constraint applied to ``recurrent_kernel``.
        bias_constraint: Constraint applied to ``bias``.
        dropout: Float in [0, 1), fraction of input units dropped (training).
        recurrent_dropout: Float in [0, 1), fraction of state units dropped in
            the recurrent product (training).
        seed: Random seed for the dropout masks.
        return_sequences: Return the whole output sequence, not only the last.
        return_state: Also return the last state.
        go_backwards: Process the input sequence backwards (and return the
            reversed sequence).
        stateful: Keep the last state of each batch as the initial state of
            the next one.
        unroll: Unroll the time loop (fixed length only); faster for short
            sequences, more memory.
        zero_output_for_mask: Output zeros instead of the carried-over state
            at masked steps (`keras.layers.Bidirectional` sets it).
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Call arguments:
        sequences: A 3D tensor ``(batch, timesteps, input_dim)``.
        initial_state: Optional list with one tensor ``(batch, units)``.
        mask: Optional boolean tensor ``(batch, timesteps)``; at a masked step
            the previous state is carried through unchanged.
        training: Python boolean; dropout is applied only when true.

    Example:

    >>> x = keras.ops.ones((32, 10, 8))
    >>> tuple(MinimalGRU(4)(x).shape)
    (32, 4)
    >>> seq, state = MinimalGRU(4, return_sequences=True, return_state=True)(x)
    >>> tuple(seq.shape), tuple(state.shape)
    ((32, 10, 4), (32, 4))
    """

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ) -> None:
        cell = MinimalGRUCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="minimal_gru_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def inner_loop(
        self, sequences: Any, initial_state: Any, mask: Any, training: bool = False
    ) -> tuple[Any, Any, list[Any]]:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        cell = self.cell
        # Time-major before the projection: the transpose then moves
        # input_dim columns instead of 2 * units, and the loop reads its
        # steps without another transpose. Only with a known number of steps:
        # `backend.rnn` takes a time-major input's length from its axis 1 when
        # `input_length` is None, which is the batch size, so a traced graph
        # with a fixed batch and a variable length (the TFLite export, a
        # SavedModel signature with a fixed batch) would stop after `batch`
        # steps. Batch-major, the loop counts the steps itself.
        time_major = sequences.shape[1] is not None
        if time_major:
            sequences = ops.transpose(sequences, (1, 0, 2))
            if mask is not None:
                mask = ops.transpose(mask, (1, 0))
        projected = cell.project_inputs(sequences, training=training, time_major=time_major)
        # Read once here: a variable read inside the loop is repeated at every
        # step, and its gradient is accumulated step by step.
        recurrent_kernel = ops.convert_to_tensor(cell.recurrent_kernel)
        dropout_mask = cell.recurrent_dropout_mask(initial_state[0], training=training)

        def step(projected_t: Any, states: Any) -> tuple[Any, list[Any]]:
            h = cell.recurrent_step(projected_t, states[0], recurrent_kernel, dropout_mask)
            return h, [h]

        last_output, outputs, states = backend.rnn(
            step,
            projected,
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=projected.shape[0 if time_major else 1],
            time_major=time_major,
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )
        if self.return_sequences and time_major:
            outputs = ops.transpose(outputs, (1, 0, 2))
        return last_output, outputs, states

    def call(
        self,
        sequences: Any,
        initial_state: Any = None,
        mask: Any = None,
        training: bool = False,
    ) -> Any:
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self) -> dict[str, Any]:
        cell_config = self.cell.get_config()
        config = {name: cell_config[name] for name in _CELL_ARGS}
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MinimalGRU:
        return cls(**config)


def _cell_property(name: str) -> property:
    """A read-only property that forwards ``layer.<name>`` to the cell."""
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's `{name}`.")


# `layer.units`, `layer.dropout`, ... as on keras.layers.GRU.
for _name in _CELL_ARGS:
    setattr(MinimalGRU, _name, _cell_property(_name))
