"""Shapes while the layer list is being expanded: what ``shape(in)`` in a block reads.

A block's layers are substituted when the block is used, before its own layers
exist; what they may ask for is the shape of the block's inputs, which are
layers expanded already. Those entries are validated (quietly: validation
proper reports their problems later) and their shape rules run, as
:mod:`compiler.spec.shapes` does for the whole model.
"""

from __future__ import annotations

from typing import Any

from compiler.spec.shapes import _Propagation


def _input_shapes(tree: Any) -> dict[str, tuple]:
    shapes = {}
    raw = tree.get("inputs") if isinstance(tree, dict) else None
    for name, value in (raw.items() if isinstance(raw, dict) else []):
        shape = value.get("shape") if isinstance(value, dict) else None
        if isinstance(shape, list) and all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                for d in shape):
            shapes[name] = (None, *shape)
    return shapes


def static_shape(expander: Any, flat: str) -> tuple | None:
    """The shape of the flat layer (or input) ``flat``, from the entries expanded so far.

    The shape rules run once per entry: each call goes on from where the last one stopped.
    """
    from compiler.spec.validate import validate_entry_quietly

    state = expander.__dict__.get("_static_shapes")
    if state is None:
        state = expander._static_shapes = [_Propagation([], expander.instances), 0]
        state[0].report.shapes.update(_input_shapes(expander.root))
    propagation, done = state
    for entry in expander.entries[done:]:
        layer = validate_entry_quietly(entry)
        propagation.by_name[entry.name] = (entry, layer)
        propagation.run(entry, layer)
    state[1] = len(expander.entries)
    shape = propagation.report.shape_of(flat)
    return shape if isinstance(shape, tuple) else None
