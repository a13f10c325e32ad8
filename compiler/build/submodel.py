"""A sub-model: part of a spec's graph as a Keras model of its own, sharing the weights.

A spec names one under `submodels:` by its inputs and outputs, e.g. the decoder
of a variational autoencoder::

    submodels:
      decoder: {inputs: [z], outputs: [image]}

Each input becomes a Keras input of the shape that layer has in the whole
model; the layers between the inputs and the outputs are applied again to it
(the same layer objects, so a trained model's weights), and nothing before
the inputs is part of it. `nncompile export --submodel decoder` writes it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from compiler.build.graph import _REF, _Builder
from compiler.errors import Problem, SpecError
from compiler.spec.schema import InputSpec, Spec


def submodel_spec(spec: Spec, name: str, model: Any) -> Spec:
    """The spec of sub-model ``name``: its inputs, outputs and the entries between them."""
    if name not in spec.submodels:
        known = ", ".join(spec.submodels) or "none"
        raise SpecError(Problem(f"the spec has no sub-model '{name}' (its `submodels:`: "
                                f"{known})", spec.locate("submodels")))
    inputs, outputs = spec.submodels[name]
    shapes = {}
    for position, ref in enumerate(inputs):
        tensor = _tensor_of(model, ref)
        if tensor is None:
            raise SpecError(Problem(f"'{ref}' is not part of the built model (no output "
                                    "depends on it)", spec.locate("submodels", name, "inputs",
                                                                  position)))
        shapes[_input_name(ref)] = InputSpec(
            shape=[None if d is None else int(d) for d in tensor.shape[1:]],
            dtype=str(tensor.dtype).replace("<dtype: '", "").rstrip("'>"))
    renamed = {ref: _input_name(ref) for ref in inputs}
    # Entries after the inputs, reading the new inputs where they read those layers.
    entries = []
    available = set(renamed.values())
    for entry, layer in spec.entries:
        if entry.name in renamed:
            continue
        refs = [renamed.get(ref, renamed.get(ref.split("[")[0], ref)) for ref in entry.inputs]
        if all(ref.split("[")[0] in available for ref in refs):
            entries.append((dataclasses.replace(entry, inputs=refs), layer))
            available.add(entry.name)
    missing = [ref for ref in outputs if ref.split("[")[0] not in available]
    if missing:
        raise SpecError(Problem(
            f"sub-model '{name}': the output(s) {', '.join(missing)} depend on layers before "
            f"its inputs ({', '.join(inputs)}) other than through them; add those layers to "
            "its `inputs:`", spec.locate("submodels", name, "outputs")))
    tree = dict(spec.tree or {})
    tree["inputs"] = {n: s.model_dump() for n, s in shapes.items()}
    for key in ("submodels", "data", "training", "expect", "labels"):
        tree.pop(key, None)
    return dataclasses.replace(
        spec, name=f"{spec.name}_{name}", inputs=shapes, outputs=list(outputs),
        entries=entries, output_aliases={}, expect=None, labels=None, data=None,
        training=None, tree=tree, submodels={}, shape_report=None)


def build_submodel(spec: Spec, name: str, model: Any) -> tuple[Any, Spec]:
    """Sub-model ``name`` of ``spec`` over the layers (and weights) of ``model``.

    Returns:
        ``(keras_model, its_spec)``; the spec has the sub-model's inputs and outputs.
    """
    import keras

    sub = submodel_spec(spec, name, model)
    builder = _Builder(sub, reuse=model)
    inputs = {n: keras.Input(shape=tuple(s.shape), dtype=s.dtype, name=n)
              for n, s in sub.inputs.items()}
    builder.tensors.update(inputs)
    for entry, layer in sub.entries:
        tensors = [builder.tensor(ref, entry) for ref in entry.inputs]
        if entry.type == "apply":
            builder.tensors[entry.name] = builder.apply_shared(entry, layer, tensors)
        else:
            builder.tensors[entry.name], _ = builder.add(entry, layer, tensors)
    outs = [builder.output(ref, i) for i, ref in enumerate(sub.outputs)]
    ins = list(inputs.values())
    keras_model = keras.Model(ins[0] if len(ins) == 1 else ins,
                              outs[0] if len(outs) == 1 else outs, name=sub.name)
    return keras_model, sub


def _input_name(ref: str) -> str:
    """`z` → `z`; `enc[1]` → `enc_1` (an input's name is a plain name)."""
    match = _REF.match(ref)
    return match.group("base") + (f"_{match.group('index')}" if match.group("index") else "")


def _tensor_of(model: Any, ref: str) -> Any:
    match = _REF.match(ref)
    base, index = match.group("base"), match.group("index")
    try:
        layer = model.get_layer(base)
    except ValueError:
        return None
    output = layer.output
    if isinstance(output, (list, tuple)):
        return output[int(index or 0)]
    return output
