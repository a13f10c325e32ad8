"""Small real YAML specs shared by the training tests (written to tmp_path)."""

from __future__ import annotations

from pathlib import Path

IRIS = """\
nncompile: 1
name: {name}
inputs:
  features: {{shape: [4]}}
layers:
  - normalization: {{}}
  - dense: {{units: 16, activation: relu}}
  - dense: {{units: 3, activation: softmax, name: label}}
outputs: [label]
data: {{builtin: iris, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {{adam: {{learning_rate: 0.02}}}}
  batch_size: 16
  epochs: {epochs}
  jit_compile: false
  seed: 3
{extra}"""

# Sized so that one epoch takes a noticeable fraction of a second on a busy
# CPU: the crash test must be able to kill the run between two epochs' ends.
DIGITS = """\
nncompile: 1
name: {name}
inputs:
  image: {{shape: [8, 8, 1]}}
layers:
  - flatten: {{}}
  - dense: {{units: 256, activation: relu}}
  - dense: {{units: 256, activation: relu}}
  - dense: {{units: 10, activation: softmax, name: label}}
outputs: [label]
data: {{builtin: digits, split: {{validation: 0.2, test: 0.2}}}}
training:
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
  optimizer: {{sgd: {{learning_rate: 0.02, momentum: 0.9}}}}
  batch_size: 4
  epochs: {epochs}
  jit_compile: false
  seed: 5
{extra}"""


def write_spec(folder: Path, template: str = IRIS, *, name: str = "iris_mlp", epochs: int = 4,
               extra: str = "") -> Path:
    """Write a spec file and return its path."""
    path = folder / f"{name}.yaml"
    path.write_text(template.format(name=name, epochs=epochs, extra=extra), encoding="utf-8")
    return path


def test_the_specs_validate(tmp_path):
    from compiler.api import load_spec

    for template, name in ((IRIS, "iris_mlp"), (DIGITS, "digits_mlp")):
        spec = load_spec(write_spec(tmp_path, template, name=name, epochs=2))
        assert spec.training.epochs == 2 and spec.name == name
