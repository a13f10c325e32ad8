"""`compile_model(model)` of a generated module: the spec's loss, metrics, optimiser, schedule.

The objects are the ones `nncompile train` compiles with
(:func:`compiler.training.compile.compile_args`), written as constructor
calls. A schedule counts optimiser steps, and how many steps an epoch has
depends on the data, so the generated function takes ``steps_per_epoch``:
the objects are made for two step counts and every number that follows the
step count is written as an expression of it.
"""

from __future__ import annotations

from typing import Any

from compiler.codegen.objects import (
    Imports,
    changed_arguments,
    is_object,
    object_class,
    public_path,
    value_source,
)

_PROBES = (1, 2, 3)


def compile_model_source(spec: Any, model: Any, imports: Imports) -> str:
    """The source of ``def compile_model(model, steps_per_epoch=1)``."""
    lines = ["def compile_model(model, steps_per_epoch=1):",
             '    """Compile `model` with the loss, metrics and optimiser of the spec.',
             "",
             "    A learning-rate schedule counts optimiser steps: pass the number of",
             "    batches in one epoch of your training data as `steps_per_epoch`.",
             '    """']
    if spec.training is None:
        lines.append("    # The spec has no `training:` section: Keras's defaults.")
        lines.append('    model.compile(optimizer="adam")')
        return "\n".join(lines)
    import keras

    from compiler.training.compile import compile_args

    probes = [compile_args(spec, model, steps) for steps in _PROBES]
    optimizers = [keras.saving.serialize_keras_object(p.make_optimizer()) for p in probes]
    optimizer = _varying(optimizers, imports)
    args = probes[0]
    loss = _per_output({k: _serialised(v) for k, v in args.loss.items()}, imports)
    metrics = {k: [_serialised(m()) for m in v] for k, v in args.metrics.items()}
    lines.append("    model.compile(")
    lines.append(f"        optimizer={optimizer},")
    lines.append(f"        loss={loss},")
    if any(metrics.values()):
        lines.append(f"        metrics={_per_output(metrics, imports)},")
    if args.loss_weights is not None:
        lines.append(f"        loss_weights={value_source(args.loss_weights, imports)},")
    lines.append("    )")
    return "\n".join(lines)


def _serialised(value: Any) -> Any:
    import keras

    return value if isinstance(value, str) else keras.saving.serialize_keras_object(value)


def _per_output(value: dict, imports: Imports) -> str:
    if len(value) == 1:
        return value_source(next(iter(value.values())), imports)
    return value_source(value, imports)


def _varying(trees: list[Any], imports: Imports) -> str:
    """Source of a serialised value that may depend on the step count (see the module doc)."""
    first = trees[0]
    if is_object(first) and isinstance(first.get("config"), dict):
        cls = object_class(first)
        configs = [t["config"] for t in trees]
        keep = changed_arguments(cls, configs[0])
        for key in configs[0]:
            if any(c.get(key) != configs[0].get(key) for c in configs):
                keep.setdefault(key, configs[0][key])
        parts = [f"{key}={_varying([c.get(key) for c in configs], imports)}" for key in keep]
        return f"{public_path(cls, first, imports)}({', '.join(parts)})"
    if isinstance(first, float) and all(t == first for t in trees):
        return _float32(first)
    if all(t == first for t in trees):
        return value_source(first, imports)
    if all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in trees):
        slope = trees[1] - trees[0]
        offset = trees[0] - slope * _PROBES[0]
        if all(abs(offset + slope * s - t) < 1e-9 for s, t in zip(_PROBES, trees, strict=True)):
            scaled = f"{_number(slope)} * steps_per_epoch" if slope != 1 else "steps_per_epoch"
            return scaled if offset == 0 else f"{_number(offset)} + {scaled}"
    if all(isinstance(t, list) for t in trees) and len({len(t) for t in trees}) == 1:
        return "[" + ", ".join(_varying([t[i] for t in trees], imports)
                               for i in range(len(first))) + "]"
    return value_source(first, imports)


def _float32(value: float) -> str:
    """An optimiser keeps its numbers as float32: write the float32's shortest form."""
    import numpy as np

    short = str(np.float32(value))
    return short if float(np.float32(float(short))) == float(np.float32(value)) else repr(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
