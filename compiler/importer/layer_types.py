"""A Keras layer's config → an nncompile layer entry, checked by building it again.

The layer types are found from the catalogue (:mod:`compiler.layers.registry`),
not from a table of their own: a Keras class is the type whose name or
``keras=`` spellings it is (``MaxPooling2D`` → ``max_pool2d``), or a type whose
module builds it by name (``PairwiseDistance`` in the module of ``distance``).
The entry's parameters are the config values that differ from the class's
defaults, under Keras's own names (the layer types accept those as aliases).
Every candidate is then built with the type's own ``build()``, and it is taken
only when the Keras layer it makes has the same config: so an entry that the
spec cannot express is refused, never approximated.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from compiler.codegen.objects import changed_arguments, default_config, is_object, object_class
from compiler.layers import LAYER_TYPES, canonical_type, layer_class
from compiler.layers.params import snake_case
from compiler.layers.registry import _FOLDER, DECLARED

# Config keys the spec writes elsewhere (the entry's name) or that are Keras's bookkeeping.
_NOT_PARAMETERS = ("name", "dtype", "build_config")


class NotExpressible(ValueError):
    """No nncompile layer type makes this Keras layer; the message says why."""


@cache
def _mentioning(class_name: str) -> tuple[str, ...]:
    """Layer types whose module names the Keras class (its builder makes it)."""
    word = re.compile(rf"\b{re.escape(class_name)}\b")
    modules = {d.module for d in DECLARED.values()
               if word.search((_FOLDER / f"{d.module}.py").read_text(encoding="utf-8"))}
    return tuple(name for name, d in DECLARED.items() if d.module in modules)


def candidate_types(class_name: str) -> list[str]:
    """The layer types that may make ``class_name``, most likely first."""
    direct = canonical_type(class_name)
    if direct in LAYER_TYPES:
        return [direct]
    return [t for t in _mentioning(class_name) if t != "apply"]


def _normal(value: Any) -> Any:
    from compiler.codegen.objects import _normal as normal

    return normal(value)


def _is_layer(value: Any) -> bool:
    module = str(value.get("module") or "")
    return module == "keras.layers" or module.startswith("custom_layers")


def spec_value(value: Any, importer: LayerImporter | None = None) -> Any:
    """A config value as a spec writes it: an initialiser by name, uniform sizes as one number.

    A layer inside a layer (the one a bidirectional layer wraps) is written as its
    own entry, ``{gru: {units: 64}}``, found by ``importer``.
    """
    if is_object(value) and importer is not None and _is_layer(value):
        type_name, params = importer.entry(value, "", inner=True)
        return {type_name: params}
    if is_object(value):
        if value["class_name"] == "__tuple__":
            return spec_value(value["config"].get("value"))
        if value["class_name"] == "function":  # an activation: `relu`, or nncompile's `step`
            return str(value.get("config", "")).rpartition(">")[2]
        cls = object_class(value)
        config = value.get("config") or {}
        changed = {k: v for k, v in config.items()
                   if _normal(v) != default_config(cls, config).get(k)}
        name = snake_case(value["class_name"])
        if not changed and not _short_form_works(value, name):
            changed = {k: v for k, v in config.items() if v is not None}
        return name if not changed else {name: {k: spec_value(v) for k, v in changed.items()}}
    if isinstance(value, (list, tuple)):
        items = [spec_value(v) for v in value]
        return items
    if isinstance(value, dict):
        return {k: spec_value(v) for k, v in value.items()}
    return value


def _short_form_works(value: dict, name: str) -> bool:
    """Whether Keras rebuilds the object from its name alone (`Constant` needs its value)."""
    import keras

    family = {"keras.initializers": keras.initializers,
              "keras.regularizers": keras.regularizers}.get(str(value.get("module")))
    if family is None:
        return True
    try:
        return _normal(family.get(name).get_config()) == _normal(value.get("config") or {})
    except Exception:  # noqa: BLE001 - Keras cannot: write the arguments
        return False


def _uniform(value: Any) -> Any:
    """``[3, 3]`` → ``3``, ``[[1, 1], [1, 1]]`` → ``1``: how a spec writes equal sizes."""
    if isinstance(value, list) and value:
        inner = [_uniform(v) for v in value]
        if all(not isinstance(v, (list, dict)) and v == inner[0] for v in inner) and isinstance(
                inner[0], int) and not isinstance(inner[0], bool):
            return inner[0]
        return inner
    return value


def _comparable(config: dict) -> dict:
    """A layer's config without its name and what Keras adds when it builds or saves it."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "build_config"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(_normal({k: v for k, v in config.items() if k not in _NOT_PARAMETERS}))


class LayerImporter:
    """Finds the entry of each Keras layer (a cache keeps repeated configs cheap)."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[str, dict]] = {}

    def entry(self, obj: dict, path: str, *, inner: bool = False) -> tuple[str, dict]:
        """``(type, params)`` for a serialised Keras layer, without its name.

        Args:
            obj: the layer as its config has it.
            path: where it is in the config (for messages).
            inner: a layer inside another (a bidirectional layer's): its
                parameters are checked when the outer layer is built again.

        Raises:
            NotExpressible: naming the class and what cannot be written.
        """
        class_name = str(obj.get("class_name"))
        config = _built_defaults(class_name, obj.get("config") or {})
        obj = {**obj, "config": config}
        key = json.dumps([class_name, obj.get("registered_name"), _comparable(config), inner],
                         sort_keys=True)
        if key not in self.cache:
            self.cache[key] = self._find(obj, class_name, config, inner)
        return self.cache[key]

    def _find(self, obj: dict, class_name: str, config: dict,
              inner: bool) -> tuple[str, dict]:
        types = candidate_types(class_name)
        if not types:
            raise NotExpressible(f"no nncompile layer type makes a Keras `{class_name}`")
        try:
            cls = object_class(obj)
        except (ImportError, AttributeError):
            raise NotExpressible(f"`{class_name}` is not a Keras class nncompile knows") from None
        changed = {k: v for k, v in changed_arguments(cls, config).items()
                   if k not in _NOT_PARAMETERS}
        wanted = _comparable(config)
        reasons = []
        for type_name in types:
            for simplify in (True, False):
                params = {k: spec_value(v, self) for k, v in changed.items()}
                if simplify:
                    params = {k: _uniform(v) for k, v in params.items()}
                if inner:
                    fields = _fields(layer_class(type_name))
                    return type_name, {k: v for k, v in params.items()
                                       if k in fields and k != "name"}
                found, why = self._try(type_name, params, cls, wanted, config.get("name"))
                if found is not None:
                    return type_name, found
                reasons.append(f"{type_name}: {why}")
        raise NotExpressible(f"no nncompile layer type makes this `{class_name}` ("
                             + "; ".join(dict.fromkeys(reasons)) + ")")

    def _try(self, type_name: str, params: dict, cls: type, wanted: dict, name: Any):
        spec_class = layer_class(type_name)
        fields = _fields(spec_class)
        translate = getattr(spec_class, "params_from_keras", None)
        if translate is not None:  # a type whose parameters are not the Keras layer's own
            params = translate(params)
        # A key the type does not take may be one its builder sets by itself (the
        # backward layer of a bidirectional one): left out, the check below decides.
        unknown = [k for k in params if k not in fields]
        params = {k: v for k, v in params.items() if k in fields}
        if "trainable" in params and params["trainable"] is True:
            del params["trainable"]
        try:
            spec = spec_class.model_validate({**params, "name": name or "probe"})
            built = spec.build()
        except Exception as err:  # noqa: BLE001 - any refusal means: not this type
            return None, _short(err)
        layers = [layer for layer in (built if isinstance(built, list) else [built]) if layer]
        if len(layers) != 1 or type(layers[0]) is not cls:
            return None, f"it makes {', '.join(type(x).__name__ for x in layers)}"
        import keras

        # Serialised as a saved file has it: nested objects as their configs.
        got = _comparable(keras.saving.serialize_keras_object(layers[0])["config"])
        if got != wanted:
            keys = sorted(k for k in set(got) | set(wanted) if got.get(k) != wanted.get(k))
            missing = [k for k in keys if k in unknown]
            if missing:
                return None, f"it has no parameter {', '.join(f'`{k}`' for k in missing)}"
            return None, "it differs in " + ", ".join(f"`{k}`" for k in keys[:4])
        return {k: v for k, v in params.items()}, ""


def _fields(spec_class: Any) -> set[str]:
    """The parameter names a layer type takes, with the Keras names it accepts for them."""
    fields = set()
    for name, field in spec_class.model_fields.items():
        fields.add(name)
        for choice in getattr(field.validation_alias, "choices", []) or []:
            if isinstance(choice, str):
                fields.add(choice)
    return fields


def _short(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text[:160] + ("…" if len(text) > 160 else "")


def _built_defaults(class_name: str, config: dict) -> dict:
    """The config with values Keras resolves when a layer is built put back to their default.

    A built MultiHeadAttention records ``attention_axes: [1]`` where it was made with
    None (attention over the one sequence axis of a (batch, steps, features) input),
    a built LayerNormalization ``axis: [-1]`` for -1; the layer nncompile builds again
    is not built, so it says None and -1.
    """
    if class_name == "MultiHeadAttention" and config.get("attention_axes") in ([1], (1,)):
        return {**config, "attention_axes": None}
    axis = config.get("axis")
    if class_name == "LayerNormalization" and isinstance(axis, list) and len(axis) == 1:
        return {**config, "axis": axis[0]}  # built, one axis is kept as a list of one
    return config
