"""Every example spec builds, exports as SavedModel and TFLite (builtins only) and matches Keras.

The specs are globbed at collection time, so a new file in specs/ is covered
without touching this test. The big image networks (VGG16, ResNet-50, AlexNet,
Inception) take from seconds to minutes each to convert: they are the `long`
tier (`python -m pytest -m long`). The default run exports every other spec,
among them a residual network (residual_mlp) and convolutional ones (lenet5,
digits_cnn), so skip connections and convolutions through TFLite are checked there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.export.tflite_ops import list_ops, non_builtin_ops

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.yaml"))
# Big image networks take minutes to convert on a small CPU: the long tier, run in CI.
LONG = ("vgg", "resnet", "alexnet", "inception")
# The TFLite flatbuffer holds at most 2 GB; very large models are checked as
# SavedModels only.
MAX_TFLITE_PARAMS = 50_000_000


# Recurrent and detection examples whose export and check take several seconds each.
SLOW = ("date_translator", "yolo_shapes", "char_language_model", "wavenet")


def _param(path: Path):
    big = any(word in path.stem.lower() for word in LONG)
    # Also `slow`, so that `-m slow` (the CI's second run) leaves the long ones to `-m long`.
    marks = ([pytest.mark.slow, pytest.mark.long] if big
             else [pytest.mark.slow] if path.stem in SLOW else [])
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.skipif(not SPECS, reason="no example specs in specs/")
@pytest.mark.parametrize("spec_path", [_param(p) for p in SPECS])
def test_spec_exports_and_matches_keras(spec_path, tmp_path, example_build):
    from compiler.export.run import export_from_spec

    spec, built = example_build(spec_path)
    model = built.model
    formats = ["saved_model"]
    if model.count_params() <= MAX_TFLITE_PARAMS:
        formats.append("tflite")
    reports = export_from_spec(model, spec, tmp_path, formats=formats)
    by_format = {r.format: r for r in reports}
    assert by_format["saved_model"].max_abs_diff <= 1e-5
    meta = json.loads((tmp_path / "metadata.json").read_text())
    from compiler.build.graph import decoder_entry

    found = decoder_entry(spec)
    if found is None:
        assert [i["name"] for i in meta["inputs"]] == list(spec.inputs)
        from compiler.detection.head import detection_head

        # A detector's export decodes its grid into boxes after non-max suppression.
        expected = (["boxes", "scores", "classes", "num_detections"]
                    if detection_head(spec) is not None else list(spec.outputs))
        assert [o["name"] for o in meta["outputs"]] == expected
    else:  # seq2seq: the inference graph, without the teacher-forcing input
        entry = found[0]
        assert [i["name"] for i in meta["inputs"]] == [
            n for n in spec.inputs if n != entry.inputs[1]]
        assert [o["name"] for o in meta["outputs"]] == [entry.name, f"{entry.name}_attention"]
    assert (tmp_path / "spec.resolved.yaml").is_file()
    if "tflite" in by_format:
        report = by_format["tflite"]
        assert non_builtin_ops(list_ops((tmp_path / "model.tflite").read_bytes())) == []
        assert report.max_rel_diff is not None and report.max_rel_diff <= 1e-4
    else:
        pytest.skip(f"{model.count_params():,} parameters: TFLite skipped (> 50M)")
