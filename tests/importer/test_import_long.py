"""The long tier of `nncompile import`: every shipped spec, and keras.applications networks.

Each keras.applications network is built at a small input size (its minimum, or
32×32) with ``weights=None``, imported, and compared with the model its spec
builds after the import copied the weights; a network nncompile cannot express
must be refused naming the class. The spec's length is printed (``-s``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from compiler.errors import ModelFileError
from compiler.importer import import_model
from tests.importer.test_import import assert_same_model, round_trip_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

# network: (input shape, None if it imports, else what the refusal names)
APPLICATIONS = {
    "ResNet50": ((32, 32, 3), None),
    "DenseNet169": ((32, 32, 3), None),
    "MobileNetV3Small": ((32, 32, 3), "tensor operation `Add`"),
    "EfficientNetV2B0": ((32, 32, 3), None),
    "NASNetMobile": ((32, 32, 3), None),
    "ResNet152V2": ((32, 32, 3), None),
    "ConvNeXtTiny": ((32, 32, 3), "LayerScale"),
}


@pytest.mark.long
@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_shipped_spec_survives_build_save_import_build(path, tmp_path):
    round_trip_spec(path, tmp_path)


@pytest.mark.long
@pytest.mark.parametrize("name", list(APPLICATIONS))
def test_keras_applications_import_or_are_refused_by_class(name, tmp_path):
    shape, refused = APPLICATIONS[name]
    start = time.process_time()
    output = tmp_path / f"{name.lower()}.yaml"
    if refused is not None:
        with pytest.raises(ModelFileError, match=refused) as caught:
            import_model(f"keras.applications.{name}", output, input_shape=shape)
        assert "config.layers[" in str(caught.value)
        assert not output.exists()
        print(f"{name}: refused ({caught.value.problems[0].message[:120]}); "
              f"{time.process_time() - start:.0f} s CPU")
        return
    done = import_model(f"keras.applications.{name}", output, input_shape=shape)
    assert_same_model(done.source_model, done.model, names=not done.renamed)
    lines = output.read_text().count("\n")
    print(f"{name}: {lines} lines, {done.blocks} blocks, {len(done.renamed)} layers renamed; "
          f"{time.process_time() - start:.0f} s CPU")
    if name == "ResNet50":
        tree = yaml.safe_load(output.read_text())
        assert lines < 150 and tree["blocks"]
        assert any("repeat" in next(iter(item.values())) for item in tree["layers"]
                   if isinstance(item, dict) and next(iter(item)) in tree["blocks"])
