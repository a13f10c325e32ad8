"""Batch-1 inference latency of the exported TFLite model against Keras and the SavedModel.

Prints, measured in one run on the same model and inputs:
  * TFLite latency vs Keras ``model.predict`` (goal: >= 10x faster),
  * TFLite latency vs the SavedModel's ``serving_default`` (goal: >= 5x faster),
  * file size of each TFLite quantisation mode.

Usage: python benchmarks/bench_export.py [--spec specs/lenet5.yaml] [--repeats 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _median_seconds(fn, repeats: int) -> float:
    for _ in range(10):  # warm-up: tracing, allocation, caches
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    parser.add_argument("--repeats", type=int, default=200)
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

        t_tflite = _median_seconds(lambda: runner(**one), args.repeats)
        t_serving = _median_seconds(lambda: serving(**tf_inputs), args.repeats)
        t_predict = _median_seconds(lambda: model.predict(keras_input, verbose=0), args.repeats)
        t_call = _median_seconds(lambda: model(keras_input, training=False), args.repeats)

    print(f"model: {args.spec or 'LeNet-like CNN'} ({model.count_params():,} parameters), batch 1")
    print(f"TFLite (LiteRT) invoke     {t_tflite * 1e6:9.1f} us")
    print(f"SavedModel serving_default {t_serving * 1e6:9.1f} us  -> TFLite {t_serving / t_tflite:6.1f}x faster (goal >= 5x)")
    print(f"Keras model.predict        {t_predict * 1e6:9.1f} us  -> TFLite {t_predict / t_tflite:6.1f}x faster (goal >= 10x)")
    print(f"Keras model(x) eager call  {t_call * 1e6:9.1f} us  -> TFLite {t_call / t_tflite:6.1f}x faster")
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
