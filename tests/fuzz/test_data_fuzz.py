"""Mutated data files fed to `train`: success or a located error, never a crash.

A tiny model (one dense layer, one epoch, no XLA) trains on a mutated CSV
file, .npz archive or image folder (see tests/fuzz/data_files.py); the run
must exit 0, or 1 with a located message naming the file. Training is the
slow part, so each test draws only a few examples in CI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzz.data_files import csv_bytes, image_folder_files, npz_bytes
from tests.fuzz.outcome import assert_clean_outcome, invoke
from tests.fuzz.settings import fuzz_settings

pytestmark = pytest.mark.slow

TRAINING = """
training:
  loss: sparse_categorical_crossentropy
  optimizer: {adam: {learning_rate: 0.01}}
  batch_size: 4
  epochs: 1
  jit_compile: false
  seed: 1
"""
CSV_SPEC = """nncompile: 1
name: fuzz_csv
inputs:
  features: {shape: [3]}
layers:
  - dense: {units: 3, activation: softmax, name: kind}
outputs: [kind]
data: {csv: {path: d.csv, target: kind}, split: none}
""" + TRAINING
NPZ_SPEC = """nncompile: 1
name: fuzz_npz
inputs:
  features: {shape: [3]}
layers:
  - dense: {units: 3, activation: softmax, name: kind}
outputs: [kind]
data: {npz: {path: d.npz, inputs: {features: x}, targets: {kind: y}}, split: none}
""" + TRAINING
IMAGES_SPEC = """nncompile: 1
name: fuzz_images
inputs:
  image: {shape: [4, 4, 3]}
layers:
  - flatten: {}
  - dense: {units: 2, activation: softmax, name: label}
outputs: [label]
data: {images: {path: photos, size: [4, 4]}, split: none}
""" + TRAINING


def _train(spec_text: str, files: dict[str, bytes], shown: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        spec = root / "spec.yaml"
        spec.write_text(spec_text, encoding="utf-8")
        result = invoke(["train", str(spec), "--quiet", "--out", str(root / "out")])
        assert_clean_outcome(result, shown)


@fuzz_settings(5, long_share=0.1)
@given(data=csv_bytes())
def test_train_on_mutated_csv(data):
    _train(CSV_SPEC, {"d.csv": data}, repr(data))


@fuzz_settings(4, long_share=0.1)
@given(data=npz_bytes())
def test_train_on_mutated_npz(data):
    _train(NPZ_SPEC, {"d.npz": data}, f"{len(data)} bytes of .npz")


@fuzz_settings(3, long_share=0.1)
@given(files=image_folder_files())
def test_train_on_mutated_image_folder(files):
    shown = "\n".join(f"{name}: {len(data)} bytes {data[:16]!r}" for name, data in files.items())
    _train(IMAGES_SPEC, {f"photos/{name}": data for name, data in files.items()}, shown)
