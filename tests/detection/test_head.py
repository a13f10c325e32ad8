"""The `detection_head` layer type: its two inputs (a grid map, a flat vector) and its checks."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.api import build, load_spec
from compiler.errors import SpecError
from tests.helpers import write_spec

SPEC = """
nncompile: 1
name: head
inputs: {{image: {shape}}}
layers:
{layers}
  - detection_head: {{grid: 3, boxes: 2, classes: 4, {extra}name: det}}
outputs: [det]
"""


def _build(tmp_path, shape, layers="", extra=""):
    path = write_spec(tmp_path, SPEC.format(shape=shape, layers=layers, extra=extra))
    return build(load_spec(path))


def test_a_flat_input_gets_one_fully_connected_layer_per_part(tmp_path):
    result = _build(tmp_path, "[12, 12, 1]", "  - flatten: {}")
    model = result.model
    assert model.output_shape == (None, 3, 3, 14)
    # 144 inputs → 3·3·10 box values and 3·3·4 class probabilities
    assert result.rows[-1].params == (144 + 1) * 90 + (144 + 1) * 36
    out = np.asarray(model(np.random.default_rng(0).random((2, 12, 12, 1), "float32")))
    assert ((out[..., :10] > 0) & (out[..., :10] < 1)).all()
    np.testing.assert_allclose(out[..., 10:].sum(-1), 1.0, rtol=1e-5)


def test_the_linear_head_is_one_layer_as_in_the_paper(tmp_path):
    model = _build(tmp_path, "[3, 3, 8]", extra="activation: linear, ").model
    assert [layer.name for layer in model.layers[1:]] == ["det"]
    assert model.output_shape == (None, 3, 3, 14)


def test_a_feature_map_of_another_size_is_refused_at_the_head(tmp_path):
    with pytest.raises(SpecError) as err:
        _build(tmp_path, "[4, 4, 8]")
    message = str(err.value)
    assert "spec.yaml:6:5: layers[0].detection_head: " in message
    assert "detection_head with grid 3 reads a feature map of 3×3 cells, got 4×4" in message


def test_shapes_task_options_are_refused_elsewhere(tmp_path):
    from compiler.data.pipeline import load_data
    from compiler.errors import DataError

    path = write_spec(tmp_path, """
        nncompile: 1
        name: adding
        inputs: {sequence: [5, 2]}
        layers: [{flatten: {}}, {dense: 1}]
        data: {generate: {task: adding, samples: 10, length: 5, augment: {}}}
        """)
    with pytest.raises(DataError, match="`augment` applies to the detection task `shapes` only"):
        load_data(load_spec(path))
