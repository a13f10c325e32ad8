"""What a trial is measured by besides its metrics: size, TFLite latency, time per epoch.

Runs in a trial's process, with TensorFlow loaded.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

LATENCY_WARMUP = 5
LATENCY_RUNS = 50


def epoch_seconds(seconds: list[float]) -> float | None:
    """The median time of an epoch; the first epoch, which traces and compiles, left out."""
    timed = list(seconds[1:]) or list(seconds)
    return float(statistics.median(timed)) if timed else None


def tflite_latency_ms(spec: Any, model: Any) -> float:
    """Median batch-1 latency of the model's TFLite flatbuffer in the LiteRT interpreter.

    The flatbuffer is converted by the export path
    (:func:`compiler.export.tflite.convert_to_tflite`, builtin ops only) from the
    inference graph the export would write, and run on random inputs it accepts;
    one thread, as on a small device.
    """
    from ai_edge_litert.interpreter import Interpreter

    from compiler.build.graph import build_inference_model
    from compiler.export.run import distinct_output_names
    from compiler.export.signature import model_signature, sample_inputs
    from compiler.export.tflite import SIGNATURE_KEY, convert_to_tflite

    inference, output_names = build_inference_model(spec, model)
    output_names = distinct_output_names(list(spec.outputs), output_names)
    sig = model_signature(inference, list(spec.inputs), output_names)
    content = convert_to_tflite(inference, sig, batch=1)
    interpreter = Interpreter(model_content=content, num_threads=1)
    runner = interpreter.get_signature_runner(SIGNATURE_KEY)
    inputs = sample_inputs(inference, sig, 1)
    for _ in range(LATENCY_WARMUP):
        runner(**inputs)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        runner(**inputs)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)
