"""`nncompile export --submodel NAME`: a part of the graph (a VAE's decoder) as its own model."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from compiler.model_folder import load_model_file
from tests.helpers import assert_user_error, run_cli

SPECS = Path(__file__).resolve().parents[2] / "specs"


def vae_folder(tmp_path: Path) -> Path:
    for name in ("vae_digits.yaml", "digits_images.npz"):
        shutil.copy(SPECS / name, tmp_path / name)
    return tmp_path / "vae_digits.yaml"


@pytest.mark.long
def test_the_decoder_of_an_untrained_spec_is_exported_alone(tmp_path):
    spec = vae_folder(tmp_path)
    result = run_cli("export", spec, "--submodel", "decoder", "--format", "keras",
                     "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    decoder = load_model_file(tmp_path / "out" / "vae_digits_decoder" / "model.keras")
    assert decoder.input_shape == (None, 2) and decoder.output_shape == (None, 8, 8, 1)
    unknown = run_cli("export", spec, "--submodel", "decodr", "--out", tmp_path / "out")
    assert "the spec has no sub-model 'decodr' (its `submodels:`: decoder, encoder)" \
        in assert_user_error(unknown)


@pytest.mark.long
def test_the_vae_trains_on_digits_and_its_trained_decoder_is_exported(tmp_path):
    spec = vae_folder(tmp_path)
    out = tmp_path / "out"
    result = run_cli("train", spec, "--out", out, "--quiet", "--set", "training.epochs=12")
    assert result.exit_code == 0, result.output
    with open(out / "vae_digits" / "history.csv", newline="") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    assert losses[-1] < 0.9 * losses[0]  # reconstruction + KL, falling
    result = run_cli("export", out / "vae_digits", "--submodel", "decoder", "--format",
                     "keras", "--format", "saved_model")
    assert result.exit_code == 0, result.output
    trained = load_model_file(out / "vae_digits" / "model.keras")
    decoder = load_model_file(out / "vae_digits_decoder" / "model.keras")
    z = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    by_hand = trained.get_layer("reconstruction")(trained.get_layer("pixels")(
        trained.get_layer("decoded")(z)))
    np.testing.assert_allclose(np.asarray(decoder(z)), np.asarray(by_hand), rtol=1e-5)
    assert (out / "vae_digits_decoder" / "saved_model" / "saved_model.pb").is_file()
    # Decoded digits from the prior look like digits: pixels in [0, 1], not a constant.
    images = np.asarray(decoder(z))
    assert images.min() >= 0 and images.max() <= 1 and images.std() > 0.05
