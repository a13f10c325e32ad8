"""Serialised Keras objects as Python source: the constructor call a person would write.

A layer, initialiser, regulariser, optimiser or schedule is written as its class
called with the arguments that differ from the class's own defaults. The
defaults come from Keras itself: the class is constructed with only its
required arguments and its ``get_config()`` is compared key by key. No table
of layer types is kept here, so every Keras class (and every class of the
``custom_layers`` package) is covered the same way.
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

# Where the generated module finds a class: its public path, not Keras's private one.
_PUBLIC = {
    "keras.layers": "layers",
    "keras.initializers": "keras.initializers",
    "keras.regularizers": "keras.regularizers",
    "keras.constraints": "keras.constraints",
    "keras.losses": "keras.losses",
    "keras.metrics": "keras.metrics",
    "keras.optimizers": "keras.optimizers",
    "keras.optimizers.schedules": "keras.optimizers.schedules",
    "keras": "keras",
}
# Keys every layer's config has that a hand-written constructor leaves out.
_SKIPPED = ("build_config", "compile_config")


@dataclass
class Imports:
    """What the generated module imports (it never imports nncompile)."""

    custom_layers: bool = False
    names: set[str] = field(default_factory=set)


def is_object(value: Any) -> bool:
    """Whether ``value`` is Keras's serialised form of an object."""
    return isinstance(value, dict) and "class_name" in value and "config" in value


def object_class(obj: dict) -> type:
    """The class a serialised object names (from a config nncompile built or checked)."""
    registered = obj.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        import keras

        import custom_layers  # noqa: F401 - registers the nncompile package

        found = keras.saving.get_registered_object(registered)
        if found is not None:
            return found
    module = importlib.import_module(obj["module"])
    return getattr(module, obj["class_name"])


def public_path(cls: type, obj: dict, imports: Imports) -> str:
    """``layers.Dense``, ``keras.initializers.HeNormal``, ``custom_layers.MinimalGRU``."""
    module = obj.get("module") or ""
    if module.startswith("custom_layers"):
        import custom_layers

        imports.custom_layers = True
        if getattr(custom_layers, cls.__name__, None) is cls:
            return f"custom_layers.{cls.__name__}"
        return f"{module}.{cls.__name__}"
    if module in _PUBLIC:
        return f"{_PUBLIC[module]}.{obj['class_name']}"
    return f"{module}.{obj['class_name']}"


def _normal(value: Any) -> Any:
    """A config value in a comparable form (tuples as lists, as JSON would have it)."""
    return _unshared(json.loads(json.dumps(
        value, default=lambda v: getattr(v, "tolist", lambda: str(v))())))


def _unshared(value: Any) -> Any:
    """Without the ``shared_object_id`` Keras writes on an object several layers use."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return value


def _required(cls: type) -> list[str]:
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return []
    return [name for name, p in parameters.items() if name != "self"
            and p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _positional(cls: type) -> list[str]:
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return []
    return [name for name, p in parameters.items()
            if name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]


def live(value: Any) -> Any:
    """A serialised value as the object Keras would pass to a constructor."""
    if is_object(value) and value.get("module"):
        import keras

        return keras.saving.deserialize_keras_object(value)
    return value


_DEFAULTS: dict[tuple, dict] = {}


def default_config(cls: type, config: dict) -> dict:
    """``cls``'s config when only its required arguments (taken from ``config``) are given."""
    required = {name: config[name] for name in _required(cls) if name in config}
    key = (cls, json.dumps(_normal(required), sort_keys=True))
    if key not in _DEFAULTS:
        try:
            _DEFAULTS[key] = _normal(cls(**{k: live(v) for k, v in required.items()}).get_config())
        except Exception:  # noqa: BLE001 - a class that needs more: write every argument
            _DEFAULTS[key] = {}
    return _DEFAULTS[key]


def changed_arguments(cls: type, config: dict) -> dict:
    """The arguments of ``config`` a constructor call must spell out, in a readable order."""
    defaults = default_config(cls, config)
    required = [name for name in _required(cls) if name in config]
    out = {name: config[name] for name in required}
    for key, value in config.items():
        if key in out or key in _SKIPPED:
            continue
        if key == "name" and _automatic_name(value, cls) and _automatic_name(
                defaults.get(key), cls):
            continue  # Keras numbers the names it gives (`adam_1`): not the user's choice
        if key not in defaults or _normal(value) != defaults[key]:
            out[key] = value
    # A default may follow another argument (a pooling's strides follow its pool size):
    # rebuild from what would be written and add what still comes out differently.
    for _ in range(3):
        try:
            rebuilt = _normal(cls(**{k: live(v) for k, v in out.items()}).get_config())
        except Exception:  # noqa: BLE001 - then every argument found so far stays
            break
        missing = [k for k, v in config.items() if k not in out and k not in _SKIPPED
                   and k in rebuilt and rebuilt[k] != _normal(v)
                   and not (k == "name" and _automatic_name(v, cls))]
        if not missing:
            break
        out.update({k: config[k] for k in missing})
    return out


def _automatic_name(value: Any, cls: type) -> bool:
    import re

    from keras.src.utils.naming import to_snake_case

    return isinstance(value, str) and re.fullmatch(
        rf"{re.escape(to_snake_case(cls.__name__))}(_\d+)?", value) is not None


def call_source(obj: dict, imports: Imports, *, skip: tuple[str, ...] = (),
                extra: dict[str, str] | None = None, last: tuple[str, ...] = ()) -> str:
    """``layers.Dense(10, activation="softmax", name="digit")`` for a serialised object.

    Args:
        obj: Keras's serialised form (``module``, ``class_name``, ``config``).
        imports: collects what the module must import.
        skip: config keys to leave out.
        extra: keyword → Python source that replaces the config's value (e.g. a
            name computed from a block's ``name`` argument).
        last: config keys written at the end, even when they equal the default
            (a layer's ``name``).
    """
    cls = object_class(obj)
    path = public_path(cls, obj, imports)
    config = obj.get("config")
    if not isinstance(config, dict):
        return f"{path}({value_source(config, imports)})" if config is not None else f"{path}()"
    arguments = changed_arguments(cls, config)
    for key in skip:
        arguments.pop(key, None)
    extra = extra or {}
    for key in extra:
        arguments.setdefault(key, config.get(key))
    for key in last:
        if key in config:
            arguments.pop(key, None)
            arguments[key] = config[key]
    positional = _positional(cls)
    parts: list[str] = []
    leading = True
    for index, (key, value) in enumerate(arguments.items()):
        text = extra.get(key) or value_source(value, imports)
        if (leading and index < len(positional) and positional[index] == key
                and key in _required(cls)):
            parts.append(text)
        else:
            leading = False
            parts.append(f"{key}={text}")
    return f"{path}({', '.join(parts)})"


def value_source(value: Any, imports: Imports) -> str:
    """A config value as a Python literal or constructor call."""
    if is_object(value):
        if value["class_name"] == "__tuple__":
            items = value["config"].get("value", [])
            return _sequence(items, imports, "(", ")", tuple_=True)
        if value["class_name"] == "function":
            return _function_source(value, imports)
        return call_source(value, imports)
    if isinstance(value, dict):
        inner = ", ".join(f"{value_source(k, imports)}: {value_source(v, imports)}"
                          for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, tuple):
        return _sequence(list(value), imports, "(", ")", tuple_=True)
    if isinstance(value, list):
        return _sequence(value, imports, "[", "]")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value != value:
        return 'float("nan")'
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return 'float("inf")' if value > 0 else 'float("-inf")'
    return repr(value)


def _sequence(items: list, imports: Imports, open_: str, close: str, tuple_: bool = False) -> str:
    inner = ", ".join(value_source(v, imports) for v in items)
    if tuple_ and len(items) == 1:
        inner += ","
    return f"{open_}{inner}{close}"


def _function_source(obj: dict, imports: Imports) -> str:
    """A function reference: a Keras activation by name, or a registered custom function."""
    name = obj.get("config")
    if isinstance(name, str) and ">" in name:
        import keras

        import custom_layers

        found = keras.saving.get_registered_object(name)
        for attr in ("activations", "losses", "metrics"):
            module = getattr(custom_layers, attr, None)
            python_name = getattr(found, "__name__", "")
            if module is not None and getattr(module, python_name, None) is found:
                imports.custom_layers = True
                return f"custom_layers.{attr}.{python_name}"
    return json.dumps(name)
