"""Wrapper layers (time_distributed, bidirectional): masks they would drop, and mistakes
inside the wrapped layer located there."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.api import load_spec
from compiler.errors import SpecError

NESTED = """
nncompile: 1
name: nested
inputs:
  docs: {{shape: [3, 6], dtype: int32}}    # 3 sentences of up to 6 ids, 0 pads
layers:
  - {embedding}
  - time_distributed: {{layer: {{minimal_gru: {{units: 4}}}}, name: sentences}}
  - dense: {{units: 1, name: y}}
outputs: [y]
"""


@pytest.mark.parametrize("inner", [
    "{embedding: {input_dim: 5, output_dim: 3, mask_zero: true}}",
    "{masking: {}}",
])
def test_time_distributed_refuses_a_mask_it_would_drop(write_spec, inner):
    path = write_spec(NESTED.format(
        embedding=f"time_distributed: {{layer: {inner}, name: emb}}"))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert ":6:" in message and "layers[0].time_distributed" in message
    assert "passes no mask on" in message and "without time_distributed" in message


def test_embedding_of_nested_ids_masks_each_sentence(write_spec):
    """The way the message points: embed first, then time_distributed sees the mask."""
    from compiler.api import build_model

    path = write_spec(NESTED.format(
        embedding="embedding: {input_dim: 5, output_dim: 3, mask_zero: true, name: emb}"))
    model = build_model(load_spec(path))
    import keras

    states = keras.Model(model.inputs, model.get_layer("sentences").output)
    docs = np.array([[[1, 2, 3, 0, 0, 0], [4, 0, 0, 0, 0, 0], [1, 1, 2, 2, 3, 3]]], "int32")
    got = np.asarray(states(docs))
    embed, rnn = model.get_layer("emb"), model.get_layer("sentences").layer
    for i, length in enumerate([3, 1, 6]):
        alone = np.asarray(rnn(embed(docs[:, i, :length])))
        np.testing.assert_allclose(got[:, i], alone, atol=1e-6)


def test_mistakes_inside_a_wrapped_layer_are_located_there(write_spec):
    """An unknown key inside `layer:` is matched against the wrapped layer's keys, not the
    wrapper's, and every problem points at the wrapped layer's value."""
    path = write_spec("""
        nncompile: 1
        name: wrapped
        inputs: {x: [10, 3]}
        layers:
          - bidirectional: {layer: {lstm: {units: -1, retrun_sequences: true}}}
          - Bidirectional: {layer: {LSTM: {units: 3}}, inputs: x}
          - bidirectional: {layer: {lsmt: 3}, inputs: x}
          - time_distributed: {layer: {dense: {unitz: 3}}, inputs: x}
          - time_distributed: {layer: {desne: 3}, inputs: x}
        """)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    lines = str(err.value).splitlines()
    expected = [
        ("5:", "layers[0].bidirectional.layer.lstm.units: expected a number > 0, got -1"),
        ("5:", "layers[0].bidirectional.layer.lstm.retrun_sequences: unknown key "
               "'retrun_sequences' for bidirectional's lstm layer (did you mean "
               "'return_sequences'?)"),
        ("7:", "layers[2].bidirectional.layer.lsmt: bidirectional wraps simple_rnn, lstm, gru, "
               "minimal_gru, conv_lstm2d; got 'lsmt' (did you mean 'lstm'?)"),
        ("8:", "layers[3].time_distributed.layer.dense.units: missing required key 'units'"),
        ("8:", "layers[3].time_distributed.layer.dense.unitz: unknown key 'unitz' for "
               "time_distributed's dense layer (did you mean 'units'?)"),
        ("9:", "layers[4].time_distributed.layer.desne: unknown layer type 'desne' (did you "
               "mean 'dense'?)"),
    ]
    assert len(lines) == len(expected), lines
    for line, (row, text) in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{row}") and line.endswith(text), line
    # Columns point inside `layer:`, past the wrapper's own key.
    assert all(int(line.split(":")[2]) > 25 for line in lines), lines
