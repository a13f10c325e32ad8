"""Choosing XLA compilation (`training.jit_compile`) and saying why.

On the JAX backend every step is compiled (``jax.jit``), whatever the
spec says, and the decision says so. On TensorFlow, ``auto`` times a few
training steps on the real data with and without XLA and keeps the faster.
The trial steps change the weights, the optimiser and the dropout seeds, so
every model variable is put back afterwards and the final compile gets a
fresh optimiser.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras

TRIAL_STEPS = 30
WARMUP_STEPS = 3


@dataclass
class XlaDecision:
    """What was used and why (printed and written to metrics.json)."""

    requested: bool | str
    used: bool
    reason: str
    step_seconds: dict[str, float] | None = None


def keras_refuses_jit(model: keras.Model) -> str | None:
    """Return why Keras would turn XLA off for `model` by itself, or None."""
    from keras.src.trainers.trainer import model_supports_jit

    if model_supports_jit(model):
        return None
    # Not exported under tf.config in TF 2.21; Keras reads the same private flag.
    from tensorflow.python.framework import config as tf_config

    if tf_config.is_op_determinism_enabled():
        return "Keras disables XLA while op determinism is on (set by `seed`)"
    unsupported = [layer.name for layer in model._flatten_layers() if not layer.supports_jit]
    return f"Keras disables XLA for layers that do not support it: {', '.join(unsupported)}"


class _StepClock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def _time_steps(model: keras.Model, dataset, steps: int) -> float:
    # Time between batch ends, after a few warm-up steps that trace and
    # compile: per-call fit overhead and compilation would drown the signal.
    # The median step, not the mean: a shared machine's hiccups hit single steps.
    clock = _StepClock()
    data = dataset.repeat().take(WARMUP_STEPS + steps)
    model.fit(data, epochs=1, verbose=0, callbacks=[clock], shuffle=False)
    ends = clock.ends[WARMUP_STEPS - 1:]
    return float(statistics.median(b - a for a, b in zip(ends, ends[1:], strict=False)))


def _jax_decision(requested: bool | str, compile_model: Callable[[bool], None]) -> XlaDecision:
    """On JAX every training step is one XLA program (``jax.jit``); nothing to time."""
    compile_model(True)
    note = ("; `jit_compile: false` applies to the TensorFlow backend only"
            if requested is False else "")
    return XlaDecision(requested, True,
                       f"JAX backend: every training step is compiled with XLA (jax.jit){note}")


def choose_xla(
    model: keras.Model,
    requested: bool | str,
    compile_model: Callable[[bool], None],
    train_dataset,
) -> XlaDecision:
    """Compile `model` with the XLA setting to use and return the decision.

    Args:
        model: The model, not yet compiled.
        requested: `training.jit_compile` (true, false or "auto").
        compile_model: Compiles the model with a fresh optimiser;
            its argument is the `jit_compile` value.
        train_dataset: The batched training data (timed under `auto`).
    """
    if keras.backend.backend() == "jax":
        return _jax_decision(requested, compile_model)
    if requested is False:
        compile_model(False)
        return XlaDecision(False, False, "jit_compile: false in the spec")
    refusal = keras_refuses_jit(model)
    if refusal:
        compile_model(False)
        what = "requested XLA" if requested is True else "auto"
        return XlaDecision(requested, False, f"{what}, but {refusal}; running without XLA")
    if requested is True:
        compile_model(True)
        return XlaDecision(True, bool(model.jit_compile), "jit_compile: true in the spec")

    saved = [v.numpy() for v in model.variables]
    timings = {}
    for jit in (False, True):
        compile_model(jit)
        try:
            timings["xla" if jit else "no_xla"] = _time_steps(model, train_dataset, TRIAL_STEPS)
        except Exception as err:  # noqa: BLE001 - an op XLA cannot compile means "no XLA"
            if not jit:
                raise  # not about XLA: training itself fails, and says why
            timings["xla"] = float("inf")
            reason_failed = f"XLA failed to compile ({type(err).__name__})"
            break
        finally:
            for variable, value in zip(model.variables, saved, strict=True):
                variable.assign(value)
    else:
        reason_failed = None
    use = timings["xla"] < timings["no_xla"]
    compile_model(use)
    ms = {k: round(v * 1000, 3) for k, v in timings.items()}
    reason = reason_failed or (
        f"auto: {ms['xla']} ms/step with XLA vs {ms['no_xla']} ms/step without "
        f"over {TRIAL_STEPS} steps"
    )
    return XlaDecision("auto", use, reason, timings)
