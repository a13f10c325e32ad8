"""Initial states of recurrent layers: counts and sizes Keras would reject only when data
flows are refused at build; matching states build and are used."""

from __future__ import annotations

import pytest

from compiler.api import load_spec
from compiler.errors import SpecError


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
