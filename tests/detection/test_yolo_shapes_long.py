"""The shipped detector, specs/yolo_shapes.yaml, trained in full on the generated shapes.

It must reach mAP@0.5 of at least 0.85 on the held-out test split, and its
TFLite file must find the same objects as its SavedModel on the test images.
7 to 11 minutes on two shared CPU cores (the README's "Object detection" section has
the measured numbers).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import train_quietly

SPEC = Path(__file__).resolve().parents[2] / "specs" / "yolo_shapes.yaml"


@pytest.mark.long
def test_yolo_shapes_reaches_map_50_of_0_85_and_its_tflite_file_agrees(tmp_path):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from compiler.api import load_spec
    from compiler.data.pipeline import load_data
    from compiler.export.tflite_ops import list_ops, non_builtin_ops

    started = time.monotonic()
    result = train_quietly(SPEC, tmp_path)
    minutes = (time.monotonic() - started) / 60
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    test = metrics["detection"]["test"]
    print(f"yolo_shapes: test mAP@0.5 {test['map_50']:.3f}, mAP@0.5:0.95 "
          f"{test['map_50_95']:.3f}, {minutes:.1f} minutes")
    assert test["map_50"] >= 0.85, test
    assert all(c["ap_50"] >= 0.75 for c in test["per_class"].values()), test

    content = (result.out_dir / "model.tflite").read_bytes()
    ops = list_ops(content)
    assert non_builtin_ops(ops) == [] and "NON_MAX_SUPPRESSION_V4" in ops
    spec = load_spec(SPEC)
    images = load_data(spec).arrays["test"][0][:100]
    serve = tf.saved_model.load(str(result.out_dir / "saved_model")).signatures["serving_default"]
    saved = {k: v.numpy() for k, v in serve(image=tf.constant(images)).items()}
    runner = Interpreter(model_content=content).get_signature_runner("serving_default")
    assert saved["num_detections"].sum() >= len(images)  # 1–4 shapes an image
    for i in range(len(images)):
        lite = runner(image=images[i:i + 1])
        n = int(saved["num_detections"][i])
        assert int(lite["num_detections"][0]) == n, i
        np.testing.assert_array_equal(lite["classes"][0, :n], saved["classes"][i, :n])
        np.testing.assert_allclose(lite["boxes"][0, :n], saved["boxes"][i, :n], atol=1.0)
