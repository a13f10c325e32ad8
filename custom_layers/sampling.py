"""The sampling step of a variational autoencoder: z = μ + exp(½·log σ²)·ε."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="nncompile")
class Sampling(keras.layers.Layer):
    """Draw z from N(μ, σ²) given ``[z_mean, z_log_var]`` (the reparameterisation trick).

    While training, ε ~ N(0, 1) is drawn for every value, so gradients reach μ
    and log σ² through z = μ + exp(½·log σ²)·ε. At inference the layer draws
    as well (``inference="sample"``) or returns μ (``inference="mean"``, a
    deterministic encoder). With ``kl_weight`` > 0 the layer adds
    ``kl_weight · mean_batch(Σ −½(1 + log σ² − μ² − σ²))``, the KL divergence of
    N(μ, σ²) from N(0, 1), to the model's losses while training.

    Args:
        inference: "sample" or "mean": what the layer gives outside training.
        kl_weight: Weight of the KL term added to the loss (0: none).
        seed: Seed of ε.

    Example:

    >>> Sampling(inference="mean")([keras.ops.zeros((2, 3)), keras.ops.zeros((2, 3))]).shape
    (2, 3)
    """

    def __init__(self, inference: str = "sample", kl_weight: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if inference not in ("sample", "mean"):
            raise ValueError("Received an invalid value for argument `inference`, expected "
                             f"'sample' or 'mean', got {inference!r}.")
        if isinstance(kl_weight, bool) or not isinstance(kl_weight, (int, float)) \
                or kl_weight < 0:
            raise ValueError("Received an invalid value for argument `kl_weight`, expected a "
                             f"number ≥ 0, got {kl_weight!r}.")
        self.inference = inference
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if self.kl_weight and training:
            kl = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            self.add_loss(self.kl_weight * ops.mean(ops.sum(kl, axis=-1)))
        if not training and self.inference == "mean":
            return z_mean
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator,
                                      dtype=z_mean.dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "inference": self.inference,
                "kl_weight": self.kl_weight, "seed": self.seed}
