"""Batch-1 inference latency of the exported TFLite model against Keras and the SavedModel.

Prints, measured in one run on the same model and inputs:
  * TFLite latency vs Keras ``model.predict`` (goal: >= 10x faster),
  * TFLite latency vs the SavedModel's ``serving_default`` (goal: >= 5x faster),
  * file size of each TFLite quantisation mode.

The four ways of running the model are timed in turn, the order reversed
every round (``--rounds``, each timing the mean of ``--calls`` calls), and
each speed-up is the median of the round-by-round ratios, printed with its
spread (see benchmarks/ratios.py).

Usage: python benchmarks/bench_export.py [--spec specs/lenet5.yaml] [--rounds 15] [--calls 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from ratios import against_goal, alternate, paired_ratios

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _block(fn, calls: int):
    """A measurement: the mean seconds per call over ``calls`` calls of ``fn``."""

    def measure() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls

    return measure


def _model(spec_path: str | None):
    if spec_path:
        from compiler.api import build_model, load_spec

        return build_model(load_spec(spec_path))
    import keras

    inp = keras.Input((28, 28, 1), name="image")
    x = keras.layers.Conv2D(6, 5, padding="same", activation="relu")(inp)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 5, activation="relu")(x)
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D()(x))
    x = keras.layers.Dense(120, activation="relu")(x)
    return keras.Model(inp, keras.layers.Dense(10, activation="softmax", name="digit")(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", help="a spec to build (default: a LeNet-like CNN)")
    parser.add_argument("--rounds", type=int, default=15, help="times each variant is timed")
    parser.add_argument("--calls", type=int, default=20, help="calls per timing")
    args = parser.parse_args()

    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from compiler.export.saved_model import export_saved_model
    from compiler.export.signature import model_signature, random_inputs
    from compiler.export.tflite import export_tflite

    model = _model(args.spec)
    sig = model_signature(model)
    one = random_inputs(sig, 1, seed=0)
    calibration = random_inputs(sig, 64, seed=1)
    ordered = [one[n] for n in sig.input_names]
    keras_input = ordered if len(ordered) > 1 else ordered[0]

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        export_saved_model(model, out / "saved_model")
        serving = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
        tf_inputs = {k: tf.constant(v) for k, v in one.items()}
        sizes = {}
        for mode in (None, "dynamic", "float16", "int8"):
            try:
                report = export_tflite(model, out / f"{mode}.tflite", quantize=mode,
                                       representative_data=calibration)
                sizes[mode or "float32"] = report.size_bytes
            except Exception as err:  # noqa: BLE001 - report and go on with the others
                sizes[mode or "float32"] = f"failed: {err}"
        interpreter = Interpreter(model_path=str(out / "None.tflite"))
        interpreter.allocate_tensors()
        runner = interpreter.get_signature_runner("serving_default")

        variants = {
            "tflite": lambda: runner(**one),
            "serving": lambda: serving(**tf_inputs),
            "predict": lambda: model.predict(keras_input, verbose=0),
            "call": lambda: model(keras_input, training=False),
        }
        for fn in variants.values():  # warm-up: tracing, allocation, caches
            for _ in range(10):
                fn()
        times = alternate({k: _block(fn, args.calls) for k, fn in variants.items()}, args.rounds)

    print(f"model: {args.spec or 'LeNet-like CNN'} ({model.count_params():,} parameters), batch 1; "
          f"{args.rounds} rounds of {args.calls} calls per variant, in turn")
    print(f"TFLite (LiteRT) invoke     {statistics.median(times['tflite']) * 1e6:9.1f} us per call")
    for key, label, goal in (("serving", "SavedModel serving_default", 5),
                             ("predict", "Keras model.predict       ", 10),
                             ("call", "Keras model(x) eager call ", None)):
        speedup = paired_ratios(times[key], times["tflite"])
        line = (f"{label} {statistics.median(times[key]) * 1e6:9.1f} us  -> TFLite faster by "
                f"{speedup.describe(1, 'x')}")
        if goal is not None:
            line += f"; {against_goal(speedup, goal, at_least=True, unit='x')}"
        print(line)
    print("TFLite file size by quantisation:")
    base = sizes.get("float32")
    for mode, size in sizes.items():
        if isinstance(size, int):
            ratio = f" ({size / base:.2f}x of float32)" if isinstance(base, int) else ""
            print(f"  {mode:8s} {size / 1024:9.1f} KiB{ratio}")
        else:
            print(f"  {mode:8s} {size}")


if __name__ == "__main__":
    main()
