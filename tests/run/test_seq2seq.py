"""The encoder–decoder with attention: dates → ISO, trained here on generated data.

Exact match is measured the way an application sees the model: through the
inference graph (greedy decoding, no teacher forcing) on held-out dates.
"""

from __future__ import annotations

import datetime
import json
import struct

import numpy as np
import pytest

from compiler.api import load_spec
from compiler.build.graph import build_inference_model
from compiler.run.translate import translate, vocabularies
from tests.helpers import SPECS_DIR, run_cli, train_quietly

SPEC = SPECS_DIR / "date_translator.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    # The smallest run that still decodes 99 % of 500 held-out dates (10 % of 5000).
    spec = load_spec(SPEC, ["data.generate.samples=5000", "training.epochs=4",
                            "export=[keras]"])
    result = train_quietly(spec, out)
    return spec, result, out / spec.name


@pytest.mark.slow
def test_exact_match_on_held_out_dates_is_at_least_99_percent(trained):
    from compiler.data.pipeline import load_data

    spec, result, _folder = trained
    bundle = load_data(spec, batch_size=64)
    inputs, targets = bundle.arrays["test"]
    inference, names = build_inference_model(spec, result.model)
    assert names == ["decoder_target", "decoder_target_attention"]
    tokens, attention = inference.predict(inputs["encoder_input"], verbose=0)
    stop = bundle.metadata["stop_id"]
    exact = 0
    for predicted, target in zip(tokens, targets, strict=True):
        wanted = list(target[: list(target).index(stop) + 1])
        exact += list(predicted[: len(wanted)]) == wanted
    accuracy = exact / len(targets)
    assert len(targets) >= 500
    assert accuracy >= 0.99, accuracy
    # Attention is a distribution over the written date's characters, none on padding.
    lengths = (inputs["encoder_input"] > 0).sum(axis=1)
    assert np.allclose(attention.sum(-1), 1.0, atol=1e-4)
    for row, n in zip(attention[:50], lengths[:50], strict=True):
        assert row[:, n:].max() == 0.0


@pytest.mark.slow
def test_translate_command_and_attention_heat_map(trained, tmp_path):
    from compiler.data.pipeline import load_data

    spec, result, folder = trained
    bundle = load_data(spec, batch_size=64)
    in_vocab, out_vocab, stop = vocabularies(bundle.metadata)
    # Training exported the folder: its metadata carries the vocabularies.
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["preprocessing"]["output_vocabulary"] == out_vocab
    inference, _ = build_inference_model(spec, result.model)
    day = datetime.date(1979, 5, 3)
    texts = ["3 May 1979", "05/03/79", day.strftime("%A, %B %d, %Y").replace(" 0", " ")]
    results = translate(inference, texts, in_vocab, out_vocab, stop)
    assert [r.output for r in results][:1] == ["1979-05-03"]
    png = tmp_path / "attention.png"
    run = run_cli("translate", folder, "3 May 1979", "--attention", png)
    assert run.exit_code == 0, run.output
    assert "3 May 1979\t1979-05-03" in run.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    bad = run_cli("translate", folder, "3 May 1979 ☃")
    assert bad.exit_code == 1 and "characters the model does not know" in bad.output
    # Without metadata.json the vocabularies are rebuilt from the spec's (generated) data.
    (folder / "metadata.json").rename(folder / "metadata.moved")
    again = run_cli("translate", folder, "05/03/79")
    (folder / "metadata.moved").rename(folder / "metadata.json")
    assert again.exit_code == 0 and "05/03/79\t1979-05-03" in again.output


def test_inference_graph_drops_teacher_forcing_and_shares_weights():
    from compiler.api import build_model

    spec = load_spec(SPEC)
    model = build_model(spec)
    inference, names = build_inference_model(spec, model)
    assert [t.name for t in inference.inputs] == ["encoder_input"]
    assert inference.count_params() == model.count_params()
    x = np.random.default_rng(0).integers(1, 47, size=(3, 29)).astype("int32")
    tokens, attention = inference.predict(x, verbose=0)
    assert tokens.shape == (3, 11) and tokens.dtype == np.int32
    assert attention.shape == (3, 11, 29)


ADDITION_SPEC = """\
nncompile: 1
name: tiny_adder
inputs:
  encoder_input: {{shape: [{encoder_length}], dtype: int32}}
  decoder_input: {{shape: [5], dtype: int32}}
layers:
  - embedding: {{input_dim: 12, output_dim: 4, mask_zero: true, inputs: encoder_input}}
  - lstm: {{units: 6, return_sequences: true, name: encoder}}
  - attention_decoder:
      inputs: [encoder, decoder_input]
      vocab_size: 13
      units: 5
      embedding_dim: 3
      attention_units: 4
      cell: lstm
      start_token: 11
      stop_token: 12
      max_length: 5
      name: decoder_target
outputs: [decoder_target]
data:
  generate: {{task: addition, samples: 200, length: 3, seed: 2}}
  split: {{validation: 0.1, test: 0.1}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  epochs: 1
"""


@pytest.fixture(scope="module")
def adder_folders(tmp_path_factory):
    """Untrained addition models (fixed and variable encoder length), written by `build`."""
    root = tmp_path_factory.mktemp("adders")
    folders = {}
    for kind, length in (("fixed", "7"), ("variable", "null")):
        spec = root / f"{kind}.yaml"
        spec.write_text(ADDITION_SPEC.format(encoder_length=length))
        out = root / kind
        run = run_cli("build", spec, "--out", out)
        assert run.exit_code == 0, run.output
        folders[kind] = out / "tiny_adder"
    return folders


@pytest.mark.parametrize("text, message", [
    ("", "the input is empty"),
    ("   ", "the input is only whitespace"),
    ("1" * 10_000, "is 10000 characters; the model reads at most 7"),
    ("a" * 10_000, "characters the model does not know: 'a'; it knows '+0123456789'"),
    ("1😀+2", "characters the model does not know: '😀'"),
    ("12-3", "characters the model does not know: '-'"),
])
def test_translate_refuses_hostile_text_in_one_short_line(adder_folders, text, message):
    run = run_cli("translate", adder_folders["fixed"], text)
    assert run.exit_code == 1, run.output
    assert message in run.output and "Traceback" not in run.output
    assert len(run.output) < 300  # a 10,000-character input is not echoed whole


def test_translate_names_which_text_is_wrong(adder_folders):
    run = run_cli("translate", adder_folders["fixed"], "1+2", "")
    assert run.exit_code == 1 and "TEXTS[2] is empty" in run.output, run.output


def test_translate_with_a_variable_length_encoder_input(adder_folders, tmp_path):
    png = tmp_path / "a.png"
    run = run_cli("translate", adder_folders["variable"], "12+345", "1+2", "--attention", png)
    assert run.exit_code == 0, run.output
    assert run.output.startswith("12+345\t") and "\n1+2\t" in run.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_attention_heat_map_that_cannot_be_written_is_a_user_error(adder_folders, tmp_path,
                                                                    monkeypatch):
    import errno

    import compiler.figures

    blocker = tmp_path / "file"
    blocker.write_text("")
    run = run_cli("translate", adder_folders["fixed"], "1+2", "--attention", blocker / "a.png")
    assert run.exit_code == 1 and "is a file, not a folder" in run.output, run.output

    def full_disk(path, writer):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(compiler.figures, "write_with", full_disk)
    png = tmp_path / "a.png"
    run = run_cli("translate", adder_folders["fixed"], "1+2", "--attention", png)
    assert run.exit_code == 1, run.output
    assert "cannot write --attention: No space left on device" in run.output
    assert not png.exists()


def test_attention_heat_map_of_an_empty_output(tmp_path):
    from compiler.run.translate import Translation, plot_attention

    for source in ("1+2", ""):
        empty = Translation(source, "", list(source), [], np.zeros((1, len(source))))
        plot_attention(empty, tmp_path / "e.png")
        assert (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_padded_target_steps_carry_no_loss_and_count_in_no_metric(tmp_path):
    """Targets of different lengths (sums of 1 to 4 digits): the steps after <stop> are
    padding, and neither the loss nor the accuracy may reward predicting it."""
    import keras

    from compiler.api import build_model
    from compiler.data.pipeline import load_data

    path = tmp_path / "adder.yaml"
    path.write_text(ADDITION_SPEC.format(encoder_length=7))
    spec = load_spec(path)
    model = build_model(spec)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    inputs, targets = load_data(spec).arrays["train"]
    assert (targets == 0).any()  # some targets are padded
    probs = model(inputs)[0] if isinstance(model(inputs), (list, tuple)) else model(inputs)
    mask = keras.ops.convert_to_numpy(probs._keras_mask)
    np.testing.assert_array_equal(mask, inputs["decoder_input"] != 0)
    probs = keras.ops.convert_to_numpy(probs)
    keep = targets != 0
    picked = np.take_along_axis(probs, targets[..., None], -1)[..., 0]
    values = model.evaluate(inputs, targets, batch_size=len(targets), verbose=0,
                            return_dict=True)
    assert values["loss"] == pytest.approx(-np.log(picked[keep]).mean(), rel=1e-4)
    assert values["accuracy"] == pytest.approx((probs.argmax(-1) == targets)[keep].mean(),
                                               abs=1e-6)


# ------------------------------------------------------------------ predict = translate = export


def _saved_model_strings(folder, texts, out_root):
    """Decode ``texts`` with the SavedModel that `nncompile export` writes, as an app would."""
    import tensorflow as tf

    from compiler.run.translate import encode

    run = run_cli("export", folder, "--format", "saved_model", "--out", out_root)
    assert run.exit_code == 0, run.output
    exported = out_root / folder.name
    meta = json.loads((exported / "metadata.json").read_text())
    in_vocab, out_vocab, stop = vocabularies(meta)
    (encoder,) = meta["inputs"]
    length = encoder["shape"][1] or max(len(t) for t in texts)
    ids = np.concatenate([encode(t, in_vocab, length) for t in texts])
    serve = tf.saved_model.load(str(exported / "saved_model")).signatures["serving_default"]
    tokens = serve(**{encoder["name"]: tf.constant(ids)})[meta["outputs"][0]["name"]].numpy()
    strings = []
    for row in tokens:
        chars = []
        for token in row:
            if int(token) in (0, stop):
                break
            chars.append(out_vocab[int(token)])
        strings.append("".join(chars))
    return strings


def _predict_strings(folder, texts, tmp_path, suffix=".txt"):
    source = tmp_path / f"texts{suffix}"
    lines = texts if suffix == ".txt" else ["text", *[f'"{t}"' for t in texts]]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "predicted.csv"
    run = run_cli("predict", folder, "-i", source, "-o", out)
    assert run.exit_code == 0, run.output
    import csv

    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["text", "decoder_target"]
    assert [r[0] for r in rows[1:]] == texts
    return [r[1] for r in rows[1:]]


def _translate_strings(folder, texts):
    run = run_cli("translate", folder, *texts)
    assert run.exit_code == 0, run.output
    return [line.split("\t", 1)[1] for line in run.output.splitlines() if "\t" in line]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fixed", "variable"])
def test_predict_runs_the_greedy_decoder_as_translate_and_the_saved_model_do(
        adder_folders, tmp_path, kind):
    folder = adder_folders[kind]
    texts = ["1+2", "12+345", "99+1"]
    predicted = _predict_strings(folder, texts, tmp_path)
    assert predicted == _translate_strings(folder, texts)
    assert predicted == _saved_model_strings(folder, texts, tmp_path / "exported")
    assert _predict_strings(folder, texts, tmp_path, ".csv") == predicted
    # Token ids in, token ids out: the inference graph's outputs, no teacher-forcing input.
    from compiler.run.translate import encode, load_translator

    translator = load_translator(folder)
    ids = np.concatenate([encode(t, translator.input_vocabulary, 7) for t in texts])
    np.save(tmp_path / "ids.npy", ids)
    run = run_cli("predict", folder, "-i", tmp_path / "ids.npy", "-o", tmp_path / "out.npz")
    assert run.exit_code == 0, run.output
    with np.load(tmp_path / "out.npz") as saved:
        assert sorted(saved.files) == ["decoder_target", "decoder_target_attention"]
        tokens = saved["decoder_target"]
    assert tokens.shape == (3, 5) and tokens.dtype.kind in "iu"


def test_predict_on_an_encoder_decoder_locates_bad_texts(adder_folders, tmp_path):
    source = tmp_path / "texts.txt"
    source.write_text("1+2\n\n12-3\n")
    run = run_cli("predict", adder_folders["fixed"], "-i", source, "-o", tmp_path / "p.csv")
    assert run.exit_code == 1, run.output
    assert f"{source}:3:" in run.output and "characters the model does not know: '-'" in run.output
    assert "Traceback" not in run.output and not (tmp_path / "p.csv").exists()


@pytest.mark.slow
def test_predict_on_the_date_translator_gives_the_strings_of_translate_and_the_export(
        trained, tmp_path):
    _spec, _result, folder = trained
    texts = ["3 May 1979", "05/03/79", "Thursday, May 3, 1979", "12 December 2001"]
    predicted = _predict_strings(folder, texts, tmp_path)
    assert predicted[0] == "1979-05-03"
    assert predicted == _translate_strings(folder, texts)
    assert predicted == _saved_model_strings(folder, texts, tmp_path / "exported")
