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
from click.testing import CliRunner

from compiler.api import load_spec
from compiler.cli import cli
from compiler.graph import build_inference_model
from compiler.seq2seq import translate, vocabularies

SPEC = "specs/date_translator.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from compiler.training.run import train_spec

    out = tmp_path_factory.mktemp("runs")
    spec = load_spec(SPEC, ["data.generate.samples=7000", "training.epochs=4",
                            "export=[keras]"])
    result = train_spec(spec, out_root=out, verbose=0, echo=lambda _m: None)
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
    for predicted, target in zip(tokens, targets):
        wanted = list(target[: list(target).index(stop) + 1])
        exact += list(predicted[: len(wanted)]) == wanted
    accuracy = exact / len(targets)
    assert len(targets) >= 500
    assert accuracy >= 0.99, accuracy
    # Attention is a distribution over the written date's characters, none on padding.
    lengths = (inputs["encoder_input"] > 0).sum(axis=1)
    assert np.allclose(attention.sum(-1), 1.0, atol=1e-4)
    for row, n in zip(attention[:50], lengths[:50]):
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
    run = CliRunner().invoke(cli, ["translate", str(folder), "3 May 1979", "--attention",
                                   str(png)])
    assert run.exit_code == 0, run.output
    assert "3 May 1979\t1979-05-03" in run.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    bad = CliRunner().invoke(cli, ["translate", str(folder), "3 May 1979 ☃"])
    assert bad.exit_code == 1 and "characters the model does not know" in bad.output
    # Without metadata.json the vocabularies are rebuilt from the spec's (generated) data.
    (folder / "metadata.json").rename(folder / "metadata.moved")
    again = CliRunner().invoke(cli, ["translate", str(folder), "05/03/79"])
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
