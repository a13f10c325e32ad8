"""Loss, metrics and optimiser of a spec, shaped to the model's outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from compiler.errors import Problem, SpecError, did_you_mean
from compiler.training.choices import Choice
from compiler.training.losses import build_loss
from compiler.training.metrics import build_metric
from compiler.training.optimizers import build_optimizer
from compiler.training.schedules import build_schedule


@dataclass
class CompileArgs:
    """What ``model.compile`` needs; `make_optimizer` gives a fresh optimiser each call."""

    make_optimizer: Callable[[], keras.optimizers.Optimizer]
    loss: dict
    metrics: dict
    loss_weights: dict | None
    loss_names: dict[str, str]

    def compile(self, model: keras.Model, jit_compile: bool) -> None:
        """Compile `model` with a fresh optimiser and fresh metric objects."""
        model.compile(
            optimizer=self.make_optimizer(),
            loss=self.loss,
            metrics={k: [m() for m in v] for k, v in self.metrics.items()},
            loss_weights=self.loss_weights,
            jit_compile=jit_compile,
        )


def _per_output(value, outputs: list[str], spec, key: str) -> dict:
    """Spread a single value over every output; check a mapping's keys."""
    if not isinstance(value, dict):
        return {name: value for name in outputs}
    problems = [
        Problem(
            f"'{name}' is not an output of the model{did_you_mean(name, outputs)}; "
            f"outputs: {', '.join(outputs)}",
            spec.locate("training", key, name),
        )
        for name in value
        if name not in outputs
    ]
    missing = [name for name in outputs if name not in value]
    if missing and key == "loss":
        problems.append(
            Problem(f"no loss for output(s) {', '.join(missing)}", spec.locate("training", key))
        )
    if problems:
        raise SpecError(problems)
    return {name: value.get(name, []) for name in outputs}


def compile_args(spec, model: keras.Model, steps_per_epoch: int,
                 with_schedule: bool = True) -> CompileArgs:
    """Build the compile arguments of `spec` for `model`.

    Args:
        spec: The validated spec (its `training:` section is used).
        model: The built model (its output names and sizes are used).
        steps_per_epoch: Optimiser steps per epoch (schedules count epochs).
        with_schedule: False for a constant rate (the learning-rate range test).
    """
    training = spec.training
    outputs = list(model.output_names)
    losses: dict[str, Choice] = _per_output(training.loss, outputs, spec, "loss")
    metric_choices = _per_output(training.metrics, outputs, spec, "metrics")
    if training.loss_weights is not None:
        _per_output(training.loss_weights, outputs, spec, "loss_weights")
    units = {name: int(t.shape[-1] or 1) if len(t.shape) > 1 else 1
             for name, t in zip(outputs, model.outputs, strict=True)}

    def make_optimizer() -> keras.optimizers.Optimizer:
        schedule = None
        if with_schedule:
            schedule = build_schedule(
                training.schedule,
                float(training.optimizer.params.learning_rate),
                steps_per_epoch,
                training.epochs,
            )
        return build_optimizer(training.optimizer, schedule)

    def metric_factory(choice: Choice, loss_name: str, n: int):
        return lambda: build_metric(choice, loss_name, n)

    return CompileArgs(
        make_optimizer=make_optimizer,
        loss={name: build_loss(choice) for name, choice in losses.items()},
        metrics={
            name: [metric_factory(c, losses[name].name, units[name]) for c in choices]
            for name, choices in metric_choices.items()
        },
        loss_weights=training.loss_weights,
        loss_names={name: choice.name for name, choice in losses.items()},
    )
