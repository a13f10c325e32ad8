"""`sampling`: z = μ + exp(½·log σ²)·ε, the reparameterised draw of a variational autoencoder.

    - dense: {units: 2, inputs: h, name: z_mean}
    - dense: {units: 2, inputs: h, name: z_log_var}
    - sampling: {inputs: [z_mean, z_log_var], kl_weight: 1.0, name: z}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from compiler.layers.base import LayerSpec, register


def _show(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


@register("sampling")
class Sampling(LayerSpec):
    """Draw z ~ N(μ, σ²) from inputs [z_mean, z_log_var]; ε is drawn anew while training."""

    min_inputs = 2
    max_inputs = 2
    inference: Literal["sample", "mean"] = "sample"
    """Outside training: draw (sample) or give μ (mean: a deterministic encoder)."""
    kl_weight: Annotated[float, Field(ge=0)] = 0.0
    """Add kl_weight × KL(N(μ, σ²) ‖ N(0, 1)) (summed over z, averaged over the batch) to the
    training loss; 0 adds nothing."""
    seed: int | None = None
    """Seed of ε."""

    def check_shapes(self, shapes, sources):
        if tuple(shapes[0]) != tuple(shapes[1]):
            return (f"sampling takes [z_mean, z_log_var] of the same shape, got "
                    f"{_show(shapes[0])} from '{sources[0]}' and {_show(shapes[1])} from "
                    f"'{sources[1]}'")
        return None

    def infer_output_shape(self, shapes):
        return tuple(shapes[0])

    def count_params(self, shapes):
        return 0

    def build(self):
        from custom_layers.sampling import Sampling as Layer

        return Layer(inference=self.inference, kl_weight=self.kl_weight, seed=self.seed,
                     **self.common())
