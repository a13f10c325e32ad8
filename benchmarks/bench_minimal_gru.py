"""Training throughput of MinimalGRU against keras.layers.GRU on the same data.

Model: Input(timesteps, features) -> recurrent layer(units) -> Dense(1), MSE,
Adam. Both layers are timed in one run on the same random data, with
``jit_compile`` off and on. Compilation is excluded: each model is fitted for
two warm-up steps first; then the timed epochs of all models are
interleaved, the order reversed every round (so load from other processes
hits them alike), and the throughput ratio of each round's two epochs next
to each other gives the median ratio, its spread and a verdict (see
benchmarks/ratios.py).

The layer uses ``keras.ops`` only, so the same comparison runs on the other
Keras backends, where a GPU is at hand: ``--backend jax`` (always compiled by
XLA, so ``--jit on``) and ``--backend torch`` (where ``keras.layers.GRU`` runs
on cuDNN on a CUDA device; ``--jit off``).

Usage::

    python benchmarks/bench_minimal_gru.py            # full run
    python benchmarks/bench_minimal_gru.py --quick    # a short smoke run
    python benchmarks/bench_minimal_gru.py --backend torch --jit off
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np
from ratios import alternate, paired_ratios, verdict

keras: Any = None  # imported in main(), once the backend is chosen


def make_model(
    layer_cls: type, input_shape: tuple[int, int], units: int, jit: bool, unroll: bool
) -> keras.Model:
    """Input -> recurrent layer -> Dense(1), compiled with Adam and MSE.

    Args:
        layer_cls: `MinimalGRU` or `keras.layers.GRU`.
        input_shape: ``(timesteps, features)``.
        units: Recurrent units.
        jit: The model's ``jit_compile``.
        unroll: The layer's ``unroll``.

    Returns:
        The compiled model.
    """
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(input_shape), layer_cls(units, unroll=unroll), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse", jit_compile=jit)
    return model


def measure(
    models: dict[Any, keras.Model], x: np.ndarray, y: np.ndarray, batch: int, rounds: int
) -> dict[Any, tuple[list[float], list[float]]]:
    """Epoch times of each model, measured in turn.

    Every model takes two training steps first (tracing, XLA compilation).
    Then each round trains one epoch of every model, the order reversed
    every other round, so that load from other processes on the machine
    affects all models alike and round ``i`` of two models can be paired.

    Args:
        models: Compiled models by label.
        x: Inputs ``(samples, timesteps, features)``.
        y: Targets ``(samples, 1)``.
        batch: Batch size.
        rounds: Timed epochs per model.

    Returns:
        By label, the wall seconds and the seconds of this process's CPU
        time (less sensitive to other processes on a shared machine) of each
        round's epoch.
    """
    # train_on_batch on ready NumPy batches: fit() per epoch would add its own
    # set-up time (iterators, callbacks) to what is measured.
    batches = [(x[i : i + batch], y[i : i + batch]) for i in range(0, len(x), batch)]
    for model in models.values():
        for xb, yb in batches[:2]:
            model.train_on_batch(xb, yb)

    def epoch(model: keras.Model):
        def run() -> tuple[float, float]:
            start, cpu_start = time.perf_counter(), time.process_time()
            for xb, yb in batches:
                # Returns the loss as NumPy, so the step has finished.
                model.train_on_batch(xb, yb)
            return time.perf_counter() - start, time.process_time() - cpu_start
        return run

    timed = alternate({label: epoch(model) for label, model in models.items()}, rounds)
    return {
        label: ([wall for wall, _ in runs], [cpu for _, cpu in runs])
        for label, runs in timed.items()
    }


def import_keras(backend: str) -> None:
    (
        "Import Keras on `backend` (quietly for TensorFlow, whose start-up log would bury "
        "the result)."
    )
    global keras
    os.environ["KERAS_BACKEND"] = backend
    if backend == "tensorflow":
        from compiler.tf_runtime import import_tensorflow_quietly

        import_tensorflow_quietly()
    import keras as imported

    if imported.backend.backend() != backend:
        raise SystemExit(f"Keras was already set to the {imported.backend.backend()} backend")
    keras = imported


def describe_device() -> str:
    """The device the backend computes on, in words."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return str(jax.devices()[0])
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return gpus[0].name if gpus else "cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few batches and epochs")
    parser.add_argument(
        "--backend", choices=("tensorflow", "jax", "torch"), default="tensorflow"
    )
    parser.add_argument(
        "--jit", choices=("both", "on", "off"), default="both", help="jit_compile settings to time"
    )
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--timesteps", type=int, default=50)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--batches", type=int, default=None, help="batches per epoch")
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs")
    parser.add_argument("--unroll", action="store_true", help="unroll both layers")
    args = parser.parse_args()
    import_keras(args.backend)
    from custom_layers import MinimalGRU

    jits = {"both": (False, True), "on": (True,), "off": (False,)}[args.jit]
    batches = args.batches or (2 if args.quick else 8)
    epochs = args.epochs or (3 if args.quick else 7)

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batches * args.batch, args.timesteps, args.features)).astype("float32")
    y = rng.standard_normal((len(x), 1)).astype("float32")
    print(f"backend={args.backend} device={describe_device()}")
    print(
        f"units={args.units} timesteps={args.timesteps} features={args.features} "
        f"batch={args.batch} batches/epoch={batches} timed epochs={epochs} unroll={args.unroll}"
    )
    models = {
        (name, jit): make_model(cls, x.shape[1:], args.units, jit, args.unroll)
        for jit in jits
        for name, cls in (("GRU", keras.layers.GRU), ("MinimalGRU", MinimalGRU))
    }
    result = measure(models, x, y, args.batch, epochs)
    for jit in jits:
        (gru, gru_cpu), (minimal, minimal_cpu) = result[("GRU", jit)], result[("MinimalGRU", jit)]
        # Throughput ratio MinimalGRU / GRU = GRU's epoch time / MinimalGRU's, round by round.
        ratio, cpu_ratio = paired_ratios(gru, minimal), paired_ratios(gru_cpu, minimal_cpu)
        print(
            f"jit_compile={jit!s:5}  GRU {len(x) / statistics.median(gru):8.1f} samples/s   "
            f"MinimalGRU {len(x) / statistics.median(minimal):8.1f} samples/s"
        )
        print(f"  throughput MinimalGRU / GRU  {ratio.describe(2)}")
        print(f"  -> {verdict(ratio, 'MinimalGRU', 'faster', 'slower')}")
        print(f"  per CPU-second               {cpu_ratio.describe(2)}")


if __name__ == "__main__":
    main()
