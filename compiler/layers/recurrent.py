"""Recurrent layers: simple RNN, LSTM, GRU, the minimal gated GRU, wrappers, attention.

A recurrent layer's first input is the sequence; further inputs are its initial
states (e.g. `inputs: [decoder_embedding, encoder[1], encoder[2]]` for an LSTM
started from an encoder's h and c). With `return_state: true` the layer has
several outputs, referred to as `name[0]` (the output), `name[1]`, ...
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import field_validator, model_validator

from compiler.layers.base import LayerSpec, WeightedSpec, input_size, rank_message, register
from compiler.layers.params import (
    ActivationName,
    Initializer,
    PositiveInt,
    Rate,
    Regularizer,
    activation_to_keras,
    initializer_to_keras,
    regularizer_to_keras,
)


def _shown(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class RecurrentSpec(WeightedSpec):
    """A layer run over the steps of a sequence, carrying states from step to step.

    Its first input is the sequence; further inputs are its initial states.
    `bidirectional` wraps any layer type derived from this class.
    """

    max_inputs = None
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    """The states a layer of this type carries (its initial states, in order)."""

    def state_shape(self, sequence: tuple | None) -> tuple[tuple, str]:
        """Shape of one state of one example for this sequence shape, and why it is that.

        Sizes that the sequence's shape leaves unknown are None.
        """
        raise NotImplementedError

    def check_initial_states(self, shapes, sources, copies: int = 1, wrapper: str = "",
                             sequence: tuple | None = None):
        """The further inputs are the initial states: as many as the layer has, each of
        :meth:`state_shape`."""
        if not shapes:
            return None
        kind = f"{wrapper}{' ' if wrapper else ''}{self.type_name}"
        names = [f"{n}{'_forward' if copies > 1 and i < len(self.state_names) else ''}"
                 f"{'_backward' if copies > 1 and i >= len(self.state_names) else ''}"
                 for i, n in enumerate(self.state_names * copies)]
        if len(shapes) != len(names):
            given = ", ".join(f"'{s}'" for s in sources)
            return (f"{kind} takes its sequence and then {len(names)} initial state(s) "
                    f"({', '.join(names)}), got {len(shapes)} ({given})")
        state, why = self.state_shape(sequence)
        for name, shape, source in zip(names, shapes, sources, strict=True):
            # A size the sequence leaves unknown (None) in `state` may be anything.
            if len(shape) != len(state) + 1 or any(
                    want is not None and got != want
                    for got, want in zip(shape[1:], state, strict=True)):
                return (f"{kind} {why}, so its initial state {name} must have shape "
                        f"{_shown((None, *state))}; '{source}' has shape {_shown(shape)}")
        return None

    def call(self, layers, tensors):
        (layer,) = layers
        if len(tensors) > 1:
            return layer(tensors[0], initial_state=list(tensors[1:]))
        return layer(tensors[0])


class _Recurrent(RecurrentSpec):
    keras_class: ClassVar = ""
    shorthand = "units"
    gates: ClassVar[int] = 1  # weight matrices per step: W and U are (features, gates·units)

    units: PositiveInt
    """Size of the hidden state h."""
    activation: ActivationName = "tanh"
    """Activation of the candidate state."""
    use_bias: bool = True
    return_sequences: bool = False
    """Output h_t at every step (for stacking, tagging) instead of the last one only."""
    return_state: bool = False
    """Also output the final state(s): refer to them as name[1], name[2]."""
    go_backwards: bool = False
    """Read the sequence from the end."""
    dropout: Rate = 0.0
    """Dropout on the inputs x_t."""
    recurrent_dropout: Rate = 0.0
    """Dropout on the recurrent state h_{t-1}."""
    unroll: bool = False
    """Unroll the loop (faster for short sequences, more memory)."""
    recurrent_initializer: Initializer | None = None
    recurrent_regularizer: Regularizer | None = None

    def check_shapes(self, shapes, sources):
        if len(shapes[0]) != 3:
            hint = ("add `- reshape: [steps, features]`" if len(shapes[0]) == 2 else
                    "use time_distributed or reshape to (steps, features)")
            return rank_message(self.type_name, "sequences (steps, features)", shapes[0],
                                sources[0], hint)
        if self.unroll and shapes[0][1] is None:
            return (f"{self.type_name} with unroll: true needs a fixed number of steps; "
                    f"'{sources[0]}' has a variable length (give its shape, e.g. [20, ...], "
                    "or leave unroll out)")
        return self.check_initial_states(shapes[1:], sources[1:], sequence=shapes[0])

    def state_shape(self, sequence):
        return (self.units,), f"has units {self.units}"

    def estimate_params(self, shapes):
        return self.gates * self.units * (input_size(shapes) + self.units + 2)

    def infer_output_shape(self, shapes):
        batch, steps = shapes[0][0], shapes[0][1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * len(self.state_names)
        return out

    def bias_count(self) -> int:
        """The biases of one layer: one per unit of each gate."""
        return self.gates * self.units * int(self.use_bias)

    def count_params(self, shapes):
        features = shapes[0][-1]
        if features is None:
            return None
        return self.gates * self.units * (features + self.units) + self.bias_count()

    def rnn_kwargs(self) -> dict[str, Any]:
        kwargs = self.weight_kwargs()
        if self.recurrent_initializer is not None:
            kwargs["recurrent_initializer"] = initializer_to_keras(self.recurrent_initializer)
        if self.recurrent_regularizer is not None:
            kwargs["recurrent_regularizer"] = regularizer_to_keras(self.recurrent_regularizer)
        return dict(units=self.units, activation=activation_to_keras(self.activation),
                    use_bias=self.use_bias, return_sequences=self.return_sequences,
                    return_state=self.return_state, go_backwards=self.go_backwards,
                    dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
                    unroll=self.unroll, **kwargs)

    def build(self):
        import keras

        return getattr(keras.layers, self.keras_class)(**self.rnn_kwargs(), **self.common())


@register("simple_rnn")
class SimpleRNN(_Recurrent):
    """Elman RNN: h_t = g(W x_t + U h_{t-1} + b)."""

    keras_class: ClassVar = "SimpleRNN"


class _Gated(_Recurrent):
    recurrent_activation: ActivationName = "sigmoid"
    """Activation of the gates."""

    def rnn_kwargs(self):
        out = super().rnn_kwargs()
        out["recurrent_activation"] = activation_to_keras(self.recurrent_activation)
        return out


@register("lstm")
class LSTM(_Gated):
    """Long short-term memory (states h and c)."""

    keras_class: ClassVar = "LSTM"
    gates: ClassVar[int] = 4
    state_names: ClassVar[tuple[str, ...]] = ("h", "c")
    unit_forget_bias: bool = True
    """Start the forget-gate bias at 1."""

    def rnn_kwargs(self):
        return super().rnn_kwargs() | {"unit_forget_bias": self.unit_forget_bias}


@register("gru")
class GRU(_Gated):
    """Gated recurrent unit (update and reset gates)."""

    keras_class: ClassVar = "GRU"
    gates: ClassVar[int] = 3
    reset_after: bool = True
    """Apply the reset gate after the matrix product (cuDNN-compatible)."""

    def bias_count(self):
        # reset_after keeps separate input and recurrent biases: (2, 3·units).
        return super().bias_count() * (2 if self.reset_after else 1)

    def rnn_kwargs(self):
        return super().rnn_kwargs() | {"reset_after": self.reset_after}


@register("minimal_gru")
class MinimalGRU(_Gated):
    """The minimal gated GRU of Burkov 6.2.2: one gate Γ mixes candidate and previous state."""

    gates: ClassVar[int] = 2

    def build(self):
        from custom_layers import MinimalGRU as MinimalGRULayer

        return MinimalGRULayer(**self.rnn_kwargs(), **self.common())


def recurrent_types() -> list[str]:
    """Every layer type derived from :class:`RecurrentSpec` (what `bidirectional` wraps).

    This module's own (simple_rnn, lstm, gru, minimal_gru) come first, in their
    order here; the types of other modules follow in catalogue order.
    """
    from compiler.layers import all_layer_classes

    found = [(cls.__module__ != __name__, name) for name, cls in all_layer_classes().items()
             if issubclass(cls, RecurrentSpec)]
    return [name for _, name in sorted(found, key=lambda item: item[0])]


def _wrapped_error(loc: tuple, message: str, value: Any = None):
    """A validation error at ``loc`` inside a wrapper's ``layer:`` (for its location)."""
    from pydantic_core import ValidationError

    return ValidationError.from_exception_data("layer", [
        {"type": "value_error", "loc": loc, "input": value, "ctx": {"error": ValueError(message)}}
    ])


def _validate_wrapped(cls, params: Any, written: str, wrapper: str):
    """``cls.model_validate(params)`` for the layer inside a wrapper's ``layer: {written: ...}``.

    Errors come out located under ``layer.<written>`` (not at the wrapper's
    own keys, whose names an unknown key would otherwise be compared with),
    and an unknown key is matched against the wrapped layer's parameters.
    """
    from pydantic import ValidationError

    from compiler.errors import did_you_mean

    try:
        return cls.model_validate(params)
    except ValidationError as err:
        known = [n for n in cls.model_fields if n not in ("name", "inputs")]
        line_errors = []
        for error in err.errors(include_url=False):
            loc = ("layer", written, *error["loc"])
            if error["type"] == "extra_forbidden":
                key = str(error["loc"][-1]) if error["loc"] else "?"
                hint = did_you_mean(key, known)
                tail = hint or f" (accepted: {', '.join(known)})"
                where = f"{wrapper}'s" if wrapper else "the"
                message = f"unknown key '{key}' for {where} {written} layer{tail}"
                error = {"type": "value_error", "input": error["input"],
                         "ctx": {"error": ValueError(message)}}
            line_errors.append({**error, "loc": loc})
        raise ValidationError.from_exception_data("layer", line_errors) from None


@register("bidirectional")
class Bidirectional(LayerSpec):
    """Run a recurrent layer forwards and backwards and merge the two (concat by default).

    Example: `- bidirectional: {layer: {lstm: {units: 64, return_sequences: true}}}`
    """

    max_inputs = None
    layer: dict
    """The recurrent layer to wrap: `{lstm: {units: 64}}` (any recurrent type: lstm, gru, ...)."""
    merge_mode: Literal["concat", "sum", "mul", "ave"] | None = "concat"
    """How forward and backward outputs combine (concat as in Burkov appendix C)."""

    @model_validator(mode="after")
    def _check_inner(self):
        self.inner()
        return self

    def inner(self) -> RecurrentSpec:
        if not isinstance(self.layer, dict) or len(self.layer) != 1:
            raise ValueError("`layer` is one recurrent layer, e.g. {lstm: {units: 64}}")
        (written, params), = self.layer.items()
        from compiler.layers import LAYER_TYPES, canonical_type, layer_class

        kind = canonical_type(written)
        cls = layer_class(kind) if kind in LAYER_TYPES else None
        if cls is None or not issubclass(cls, RecurrentSpec):
            from compiler.errors import did_you_mean

            wrapped = recurrent_types()
            raise _wrapped_error(("layer", written), f"bidirectional wraps "
                                 f"{', '.join(wrapped)}; got '{written}'"
                                 f"{did_you_mean(kind, wrapped)}", written)
        if isinstance(params, (int, float)) and not isinstance(params, bool) and cls.shorthand:
            params = {cls.shorthand: params}
        return _validate_wrapped(cls, params or {}, written, "bidirectional")

    def check_shapes(self, shapes, sources):
        inner = self.inner()
        problem = inner.check_shapes(shapes[:1], sources[:1])
        if problem:
            return problem
        # Keras's Bidirectional gives the first half of the states to the forward layer.
        return inner.check_initial_states(shapes[1:], sources[1:], copies=2,
                                          wrapper="bidirectional", sequence=shapes[0])

    def estimate_params(self, shapes):
        return 2 * self.inner().estimate_params(shapes)

    def infer_output_shape(self, shapes):
        inner = self.inner()
        result = inner.infer_output_shape(shapes[:1])
        out, states = (result[0], result[1:]) if isinstance(result, list) else (result, [])
        if self.merge_mode == "concat":
            merged = [(*out[:-1], None if out[-1] is None else 2 * out[-1])]
        elif self.merge_mode is None:
            merged = [out, out]
        else:
            merged = [out]
        if states or self.merge_mode is None:
            return merged + list(states) * 2
        return merged[0]

    def count_params(self, shapes):
        count = self.inner().count_params(shapes[:1])
        return None if count is None else 2 * count

    def build(self):
        import keras

        inner = self.inner()
        inner.name = f"{self.name}_forward_rnn"
        layer = inner.build()
        return keras.layers.Bidirectional(layer, merge_mode=self.merge_mode, **self.common())

    def call(self, layers, tensors):
        (layer,) = layers
        if len(tensors) > 1:
            return layer(tensors[0], initial_state=list(tensors[1:]))
        return layer(tensors[0])


@register("time_distributed")
class TimeDistributed(LayerSpec):
    """Apply a layer to every step of a sequence, e.g. `{layer: {dense: {units: 5}}}`."""

    layer: dict
    """The layer applied at each step: `{dense: {units: 10, activation: softmax}}`, or `flatten`."""

    @field_validator("layer", mode="before")
    @classmethod
    def _bare_name(cls, value):
        return {value: {}} if isinstance(value, str) else value  # `layer: flatten`

    @model_validator(mode="after")
    def _check_inner(self):
        self.inner()
        return self

    def inner(self) -> LayerSpec:
        from compiler.errors import did_you_mean
        from compiler.layers import LAYER_TYPES, canonical_type, layer_class

        if not isinstance(self.layer, dict) or len(self.layer) != 1:
            raise ValueError("`layer` is one layer, e.g. {dense: {units: 10}}")
        (written, params), = self.layer.items()
        kind = canonical_type(written)
        if kind not in LAYER_TYPES:
            raise _wrapped_error(("layer", written), f"unknown layer type '{written}'"
                                 f"{did_you_mean(written, LAYER_TYPES)}", written)
        cls = layer_class(kind)
        if cls.min_inputs != 1 or kind in ("time_distributed", "apply", "attention_decoder"):
            raise _wrapped_error(("layer", written), "time_distributed wraps a layer of one "
                                 f"input; '{written}' is not one", written)
        if params is not None and not isinstance(params, dict) and cls.shorthand:
            params = {cls.shorthand: params}
        inner = _validate_wrapped(cls, params or {}, written, "time_distributed")
        if kind == "masking" or getattr(inner, "mask_zero", False):
            # keras.layers.TimeDistributed passes no mask on: the layers after
            # it would read the padding as data, with no sign of it.
            what = "a masking layer" if kind == "masking" else "an embedding with mask_zero: true"
            raise _wrapped_error(("layer", written), (
                f"time_distributed cannot carry the mask of {what}: Keras's "
                "TimeDistributed passes no mask on, so later layers would read the padding "
                f"as data; use the {kind} without time_distributed: it takes inputs of any "
                "rank, and its mask reaches a time_distributed layer after it"), written)
        return inner

    def check_shapes(self, shapes, sources):
        if len(shapes[0]) < 3:
            return rank_message("time_distributed", "sequences (steps, ...)", shapes[0],
                                sources[0])
        # The wrapped layer sees one step: (batch, features...) without the steps axis.
        step = [(s[0],) + tuple(s[2:]) for s in shapes]
        return self.inner().check_shapes(step, sources)

    def estimate_params(self, shapes):
        step = [(s[0],) + tuple(s[2:]) for s in shapes] if shapes else None
        return self.inner().estimate_params(step)

    def infer_output_shape(self, shapes):
        step = [(s[0],) + tuple(s[2:]) for s in shapes]
        out = self.inner().infer_output_shape(step)
        if out is None or isinstance(out, list):
            return None
        return (out[0], shapes[0][1], *out[1:])

    def count_params(self, shapes):
        return self.inner().count_params([(s[0],) + tuple(s[2:]) for s in shapes])

    def build(self):
        import keras

        inner = self.inner()
        inner.name = f"{self.name}_inner"
        return keras.layers.TimeDistributed(inner.build(), **self.common())


@register("additive_attention", not_keras=("AdditiveAttention",))
class AdditiveAttention(LayerSpec):
    """Bahdanau attention: context = Σ_j softmax_j(vᵀ tanh(W_s s + W_h h_j)) h_j.

    Inputs: `[query, values]`, e.g. `[decoder, encoder]`. With
    `return_attention_scores: true` the weights α are a second output (`name[1]`).
    """

    min_inputs = 2
    max_inputs = 2
    units: PositiveInt
    """Size of the alignment model's hidden layer (W_s, W_h have this many columns)."""
    use_bias: bool = True
    return_attention_scores: bool = False
    """Also output the weights α (batch, [query steps,] value steps)."""
    kernel_initializer: Initializer | None = None

    def check_shapes(self, shapes, sources):
        if len(shapes[1]) != 3:
            return rank_message("additive_attention", "values (steps, features) as second input",
                                shapes[1], sources[1])
        if len(shapes[0]) not in (2, 3):
            return rank_message("additive_attention", "a query (features) or (steps, features)",
                                shapes[0], sources[0])
        return None

    def estimate_params(self, shapes):
        values = input_size([shapes[1]]) if shapes and len(shapes) > 1 else 1
        return self.units * (input_size(shapes) + values + 3)

    def infer_output_shape(self, shapes):
        query, values = shapes[0], shapes[1]
        batch = query[0]
        if len(query) == 3:
            out, scores = (batch, query[1], values[-1]), (batch, query[1], values[1])
        else:
            out, scores = (batch, values[-1]), (batch, values[1])
        return [out, scores] if self.return_attention_scores else out

    def count_params(self, shapes):
        query, values = shapes[0][-1], shapes[1][-1]
        if query is None or values is None:
            return None
        return self.units * (query + values + 1 + 2 * int(self.use_bias))

    def build(self):
        from custom_layers import BahdanauAttention

        kwargs = {}
        if self.kernel_initializer is not None:
            kwargs["kernel_initializer"] = initializer_to_keras(self.kernel_initializer)
        return BahdanauAttention(self.units, use_bias=self.use_bias, **kwargs, **self.common())

    def call(self, layers, tensors):
        (layer,) = layers
        return layer(list(tensors), return_attention_scores=self.return_attention_scores)
