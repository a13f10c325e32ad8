"""A detector trained from a YOLO-format folder, exported with NMS in the graph, and `detect`.

One short training run (module fixture) serves every test here: the label
files it reads, metrics.json, the SavedModel and TFLite file it exports, and
the pictures and JSON of `nncompile detect`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import assert_user_error, run_cli, train_quietly, write_spec

pytestmark = pytest.mark.slow

SIZE = 32
COLOURS = {0: (230, 30, 30), 1: (30, 30, 230)}  # class 0 red, class 1 blue

SPEC = """
nncompile: 1
name: tiny_detector
inputs: {image: [32, 32, 3]}
layers:
  - conv2d: {filters: 8, kernel: 3, stride: 2, padding: same, activation: relu}
  - max_pool2d: 4
  - detection_head: {grid: 4, boxes: 2, classes: 2, score_threshold: 0.05, name: found}
outputs: [found]
data:
  yolo: {path: data, size: [32, 32], augment: {}}
  split: {validation: 0.25}
training:
  loss: yolo
  optimizer: {adam: {learning_rate: 0.01}}
  batch_size: 8
  epochs: 1
  seed: 0
export: [saved_model, tflite, keras]
"""


def _write_folder(folder, count=16, seed=0):
    """PNG images with one or two coloured squares each, and their label files."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    (folder / "classes.txt").write_text("red\nblue\n")
    for i in range(count):
        pixels = np.full((SIZE, SIZE, 3), 120, np.uint8)
        lines = []
        for _ in range(int(rng.integers(1, 3))):
            side = int(rng.integers(6, 14))
            x, y = (int(v) for v in rng.integers(0, SIZE - side, size=2))
            cls = int(rng.integers(2))
            pixels[y:y + side, x:x + side] = COLOURS[cls]
            lines.append(f"{cls} {(x + side / 2) / SIZE:.6f} {(y + side / 2) / SIZE:.6f} "
                         f"{side / SIZE:.6f} {side / SIZE:.6f}")
        Image.fromarray(pixels).save(folder / f"img{i:02d}.png")
        if i != 3:  # an image without a label file shows no object
            (folder / f"img{i:02d}.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("detector")
    _write_folder(root / "data")
    spec = write_spec(root, SPEC)
    result = train_quietly(spec, root / "out")
    return root, result


def test_trains_from_a_yolo_folder_and_reports_map_per_class(trained):
    root, result = trained
    folder = result.out_dir
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["task"] == "detection" and metrics["class_names"] == ["red", "blue"]
    report = metrics["detection"]["validation"]
    assert report["images"] == 4
    assert set(report["per_class"]) == {"red", "blue"}
    assert 0.0 <= report["map_50"] <= 1.0 and 0.0 <= report["map_50_95"] <= report["map_50"]
    assert sum(c["objects"] for c in report["per_class"].values()) > 0
    assert (folder / "precision_recall.png").stat().st_size > 1000
    # model.keras names the YOLO loss; it passes the file check and reloads compiled.
    from compiler.detection.loss import YoloLoss
    from compiler.model_folder import load_model_file

    model = load_model_file(folder / "model.keras")
    assert isinstance(model.loss["found"], YoloLoss) and model.output_shape == (None, 4, 4, 12)


def test_evaluate_reports_map(trained):
    _, result = trained
    run = run_cli("evaluate", result.out_dir, "--split", "validation")
    assert run.exit_code == 0, run.output
    assert "map_50:" in run.output and "map_50_95:" in run.output
    written = json.loads((result.out_dir / "evaluation_validation.json").read_text())
    saved = json.loads((result.out_dir / "metrics.json").read_text())["detection"]["validation"]
    assert written["detection"]["map_50"] == pytest.approx(saved["map_50"])
    assert written["metrics"]["map_50"] == pytest.approx(saved["map_50"])


def test_tflite_is_builtin_only_with_nms_and_equals_the_saved_model(trained):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from compiler.export.tflite_ops import list_ops, non_builtin_ops

    root, result = trained
    folder = result.out_dir
    content = (folder / "model.tflite").read_bytes()
    ops = list_ops(content)
    assert non_builtin_ops(ops) == [] and "NON_MAX_SUPPRESSION_V4" in ops
    serve = tf.saved_model.load(str(folder / "saved_model")).signatures["serving_default"]
    runner = Interpreter(model_content=content).get_signature_runner("serving_default")
    from PIL import Image

    images = np.stack([np.asarray(Image.open(root / "data" / f"img{i:02d}.png"))
                       for i in range(8)]).astype("float32") / 255
    saved = {k: v.numpy() for k, v in serve(image=tf.constant(images)).items()}
    assert sorted(saved) == ["boxes", "classes", "num_detections", "scores"]
    assert saved["classes"].dtype == np.int32 and saved["boxes"].shape == (8, 20, 4)
    counts = saved["num_detections"]
    assert counts.min() > 0, counts  # a trained model finds something in every image ...
    assert len({tuple(np.round(b[0], 3)) for b in saved["boxes"]}) > 1  # ... not one constant box
    assert saved["boxes"].max() <= SIZE and saved["boxes"].max() > 1  # pixels, not fractions
    for i in range(len(images)):
        lite = runner(image=images[i:i + 1])
        n = int(counts[i])
        assert int(lite["num_detections"][0]) == n
        np.testing.assert_array_equal(lite["classes"][0, :n], saved["classes"][i, :n])
        np.testing.assert_allclose(lite["boxes"][0, :n], saved["boxes"][i, :n], atol=1.0)
        np.testing.assert_allclose(lite["scores"][0, :n], saved["scores"][i, :n], atol=1e-4)


def test_flex_nms_is_caught_by_the_op_check():
    # tf.image.combined_non_max_suppression has no builtin kernel: converted with
    # select ops allowed (as Keras's export(format="litert") does), it becomes a
    # Flex op, which the op list shows and the export refuses.
    import tensorflow as tf

    from compiler.export.tflite_ops import list_ops, non_builtin_ops

    @tf.function(input_signature=[tf.TensorSpec([1, 6, 1, 4]), tf.TensorSpec([1, 6, 2])])
    def combined(boxes, scores):
        return tf.image.combined_non_max_suppression(boxes, scores, 5, 5).nmsed_boxes

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [combined.get_concrete_function()], combined)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                           tf.lite.OpsSet.SELECT_TF_OPS]
    flex = non_builtin_ops(list_ops(converter.convert()))
    assert flex and all(op.startswith("Flex") for op in flex), flex


def test_detect_draws_pictures_and_writes_json(trained, tmp_path):
    root, result = trained
    images = [root / "data" / "img00.png", root / "data" / "img01.png"]
    for model, out in ((result.out_dir, tmp_path / "keras"),
                       (result.out_dir / "model.tflite", tmp_path / "lite")):
        run = run_cli("detect", model, *images, "-o", out)
        assert run.exit_code == 0, run.output
        report = json.loads((out / "detections.json").read_text())
        assert [entry["file"] for entry in report["images"]] == [str(p) for p in images]
        for entry in report["images"]:
            assert (entry["width"], entry["height"]) == (SIZE, SIZE)
            assert entry["detections"], entry
            for found in entry["detections"]:
                assert found["class"] in ("red", "blue")
                assert found["class"] == ("red", "blue")[found["class_id"]]
                assert 0.05 < found["score"] <= 1
                x1, y1, x2, y2 = found["box"]
                assert 0 <= x1 <= x2 <= SIZE and 0 <= y1 <= y2 <= SIZE
            from PIL import Image

            with Image.open(out / entry["picture"]) as picture:  # enlarged to be legible
                assert picture.size == (SIZE * 12, SIZE * 12) and picture.mode == "RGB"
    keras_json = json.loads((tmp_path / "keras" / "detections.json").read_text())
    lite_json = json.loads((tmp_path / "lite" / "detections.json").read_text())
    for a, b in zip(keras_json["images"], lite_json["images"], strict=True):
        assert [d["class"] for d in a["detections"]] == [d["class"] for d in b["detections"]]
        np.testing.assert_allclose([d["box"] for d in a["detections"]],
                                   [d["box"] for d in b["detections"]], atol=1.0)


def test_detect_refuses_what_is_not_an_image_or_a_detector(trained, tmp_path):
    root, result = trained
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    output = assert_user_error(run_cli("detect", result.out_dir, text, "-o", tmp_path / "o"))
    assert f"{text}: cannot read the image" in output
    output = assert_user_error(run_cli("detect", tmp_path, root / "data" / "img00.png",
                                       "-o", tmp_path / "o"))
    assert "is not a trained detector's model folder" in output
    usage = run_cli("detect", result.out_dir, root / "data" / "img00.png")
    assert usage.exit_code == 2 and "--output" in usage.output


def test_a_malformed_label_file_is_refused_with_file_and_line(tmp_path):
    _write_folder(tmp_path / "data", count=4)
    (tmp_path / "data" / "img02.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2\n")
    (tmp_path / "data" / "img01.txt").write_text("0 0.5 0.5 1.7 0.2\n")
    spec = write_spec(tmp_path, SPEC)
    output = assert_user_error(run_cli("train", spec, "--out", tmp_path / "out"))
    assert "data/img02.txt:2: expected 5 values `class cx cy w h`, got 4" in output
    assert "data/img01.txt:1: box values must be normalised to the image (0..1)" in output
    assert not (tmp_path / "out" / "tiny_detector" / "model.keras").exists()


def test_a_class_the_head_does_not_predict_is_refused(tmp_path):
    _write_folder(tmp_path / "data", count=4)
    (tmp_path / "data" / "classes.txt").unlink()
    (tmp_path / "data" / "img02.txt").write_text("2 0.5 0.5 0.2 0.2\n")
    spec = write_spec(tmp_path, SPEC)
    output = assert_user_error(run_cli("train", spec, "--out", tmp_path / "out"))
    assert "has an object of class 2, but the detection head 'found' predicts 2 classes" in output
    assert "spec.yaml:" in output  # located at the head
