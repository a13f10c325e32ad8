"""The cell of the minimal gated GRU: one time step of the recurrence."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

# Keras's own GRU/LSTM cells mix this in: it caches one dropout mask per batch
# so that the same units are dropped at every time step (variational dropout).
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from custom_layers._validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="nncompile")
class MinimalGRUCell(keras.layers.Layer, DropoutRNNCell):
    """Cell of the minimal gated GRU (one gate instead of GRU's two).

    For one time step, with input ``x_t`` and previous state ``h_{t-1}``::

        h̃_t = tanh(W x_t + U h_{t-1} + b)         candidate
        Γ_t = σ(M x_t + O h_{t-1} + a)            gate
        h_t = Γ_t ⊙ h̃_t + (1 − Γ_t) ⊙ h_{t-1}

    The weights are stored fused, candidate columns first and gate columns
    second: ``kernel`` = [W | M] of shape ``(input_dim, 2 * units)``,
    ``recurrent_kernel`` = [U | O] of shape ``(units, 2 * units)`` and
    ``bias`` = [b | a] of shape ``(2 * units,)``.

    The cell follows the Keras cell protocol, so it works inside
    `keras.layers.RNN`; `MinimalGRU` is the faster layer built on it.

    Args:
        units: Positive integer, dimensionality of the state ``h``.
        activation: Activation of the candidate (default ``"tanh"``).
        recurrent_activation: Activation of the gate (default ``"sigmoid"``).
        use_bias: Whether the cell has the bias vector ``[b | a]``.
        kernel_initializer: Initializer for ``kernel``.
        recurrent_initializer: Initializer for ``recurrent_kernel``.
        bias_initializer: Initializer for ``bias``.
        kernel_regularizer: Regularizer applied to ``kernel``.
        recurrent_regularizer: Regularizer applied to ``recurrent_kernel``.
        bias_regularizer: Regularizer applied to ``bias``.
        kernel_constraint: Constraint applied to ``kernel``.
        recurrent_constraint: Constraint applied to ``recurrent_kernel``.
        bias_constraint: Constraint applied to ``bias``.
        dropout: Float in [0, 1), fraction of the input units to drop; one
            mask per sequence, shared by all time steps.
        recurrent_dropout: Float in [0, 1), fraction of the state units to
            drop in the recurrent matrix product; one mask per sequence.
        seed: Random seed for the dropout masks.
        **kwargs: Base layer keyword arguments, such as ``name`` and ``dtype``.

    Call arguments:
        inputs: A 2D tensor ``(batch, input_dim)``.
        states: A list with one 2D tensor ``(batch, units)``, the state at
            the previous time step.
        training: Python boolean; dropout is applied only when true.

    Example:

    >>> cell = MinimalGRUCell(4)
    >>> h, [h_state] = cell(keras.ops.ones((2, 3)), [keras.ops.zeros((2, 4))])
    >>> tuple(h.shape)
    (2, 4)
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, 2 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 2 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(2 * self.units,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    def project_inputs(self, inputs: Any, training: bool = False, time_major: bool = False) -> Any:
        """Input half of the pre-activations: ``x [W | M] + [b | a]``.

        It has no recurrence, so `MinimalGRU` calls it once on the whole
        sequence.

        Args:
            inputs: Tensor ``(batch, input_dim)``, or a sequence
                ``(batch, time, input_dim)`` (``(time, batch, input_dim)``
                when ``time_major``).
            training: Whether input dropout applies.
            time_major: Whether the time axis of a sequence comes first.

        Returns:
            Tensor of the same leading shape, last axis ``2 * units``.
        """
        if training and 0.0 < self.dropout < 1.0:
            if len(inputs.shape) == 2:
                inputs = inputs * self.get_dropout_mask(inputs)
            else:
                # One mask per sequence, shared by every time step.
                time_axis = 0 if time_major else 1
                step_input = inputs[0] if time_major else inputs[:, 0]
                dp_mask = ops.expand_dims(self.get_dropout_mask(step_input), time_axis)
                inputs = inputs * dp_mask
        projected = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            projected = projected + self.bias
        return projected

    def recurrent_step(
        self,
        projected_t: Any,
        h_tm1: Any,
        recurrent_kernel: Any,
        recurrent_dropout_mask: Any = None,
    ) -> Any:
        """One step of the recurrence on already projected inputs.

        This is the only work left inside the time loop: one
        ``(units, 2 * units)`` matrix product and the element-wise gating.

        Args:
            projected_t: Tensor ``(batch, 2 * units)`` from `project_inputs`.
            h_tm1: Previous state ``(batch, units)``.
            recurrent_kernel: ``self.recurrent_kernel``, read once outside
                the loop by the caller.
            recurrent_dropout_mask: Optional ``(batch, units)`` mask applied
                to the state in the recurrent product.

        Returns:
            The new state ``h_t`` of shape ``(batch, units)``.
        """
        h_in = h_tm1 if recurrent_dropout_mask is None else h_tm1 * recurrent_dropout_mask
        # split, not two slices: its gradient is one concatenation, where
        # each slice's gradient would pad a full-width tensor of zeros.
        candidate, gate = ops.split(projected_t + ops.matmul(h_in, recurrent_kernel), 2, axis=-1)
        # Γ⊙h̃ + (1−Γ)⊙h  ==  h + Γ⊙(h̃ − h): one multiply fewer per step.
        return h_tm1 + self.recurrent_activation(gate) * (self.activation(candidate) - h_tm1)

    def recurrent_dropout_mask(self, h_tm1: Any, training: bool = False) -> Any:
        """The cached recurrent dropout mask, or None when it does not apply."""
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return self.get_recurrent_dropout_mask(h_tm1)
        return None

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, list[Any]]:
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        projected = self.project_inputs(inputs, training=training)
        h = self.recurrent_step(
            projected,
            h_tm1,
            self.recurrent_kernel,
            self.recurrent_dropout_mask(h_tm1, training=training),
        )
        new_states = [h] if isinstance(states, (list, tuple)) else h
        return h, new_states

    def get_initial_state(self, batch_size: Any = None) -> list[Any]:
        return [ops.zeros((batch_size, self.state_size), dtype=self.compute_dtype)]

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
