"""Sequence specs probed as a user writes them: masks through time_distributed."""

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
    for line, (row, text) in zip(lines, expected):
        assert line.startswith(f"{path}:{row}") and line.endswith(text), line
    # Columns point inside `layer:`, past the wrapper's own key.
    assert all(int(line.split(":")[2]) > 25 for line in lines), lines


@pytest.mark.parametrize("layers, message", [
    ('- gru: {units: 3, return_state: true, return_sequences: true, name: enc}\n'
     '- gru: {units: 4, inputs: [enc, "enc[1]"]}',
     "gru has units 4, so its initial state h must have shape (None, 4); 'enc[1]' has shape "
     "(None, 3)"),
    ('- lstm: {units: 3, return_state: true, return_sequences: true, name: enc}\n'
     '- lstm: {units: 3, inputs: [enc, "enc[1]"]}',
     "lstm takes its sequence and then 2 initial state(s) (h, c), got 1 ('enc[1]')"),
    ('- minimal_gru: {units: 3, return_state: true, return_sequences: true, name: enc}\n'
     '- minimal_gru: {units: 3, inputs: [enc, "enc[1]", "enc[1]"]}',
     "minimal_gru takes its sequence and then 1 initial state(s) (h), got 2"),
    ('- bidirectional: {layer: {lstm: {units: 3, return_state: true, return_sequences: true}},'
     ' name: bi}\n'
     '- bidirectional: {layer: {lstm: 3}, inputs: [bi, "bi[1]", "bi[2]"]}',
     "bidirectional lstm takes its sequence and then 4 initial state(s) (h_forward, c_forward, "
     "h_backward, c_backward), got 2"),
    ('- minimal_gru: {units: 3, unroll: true}',
     "minimal_gru with unroll: true needs a fixed number of steps; 'x' has a variable length"),
])
def test_recurrent_inputs_keras_would_reject_at_run_time_are_refused_at_build(
        write_spec, layers, message):
    """Keras builds these graphs and fails only when data flows (or at export)."""
    from compiler.api import build_model

    body = "\n".join("  " + line for line in layers.splitlines())
    path = write_spec(f"nncompile: 1\nname: r\ninputs:\n  x: [null, 3]\nlayers:\n{body}\n")
    with pytest.raises(SpecError, match=r"spec.yaml:\d+:\d+: layers\[\d\]") as err:
        build_model(load_spec(path))
    assert message in str(err.value)


def test_matching_initial_states_still_build_and_are_used(write_spec):
    from compiler.api import build_model

    path = write_spec("""
        nncompile: 1
        name: states
        inputs: {x: [5, 3]}
        layers:
          - lstm: {units: 3, return_state: true, return_sequences: true, name: enc}
          - lstm: {units: 3, inputs: [enc, "enc[1]", "enc[2]"], name: dec}
          - bidirectional: {layer: {gru: {units: 2, return_state: true, return_sequences: true}},
                            inputs: x, name: bi}
          - bidirectional: {layer: {gru: 2}, inputs: [bi, "bi[1]", "bi[2]"], name: bi2}
        outputs: [dec, bi2]
        """)
    model = build_model(load_spec(path))
    assert [tuple(o.shape) for o in model.outputs] == [(None, 3), (None, 4)]
