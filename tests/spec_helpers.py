"""Writing small specs from Python for the tests: YAML text in a temporary folder.

Specs are written as YAML text and loaded with ``load_spec``, exactly as a user's
file would be, so the loader, resolver and validator are exercised too.
"""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

from compiler.api import load_spec


def module_exists(name: str) -> bool:
    """True when ``name`` (e.g. ``custom_layers.maxout``) can be imported."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def spec_text(name: str, inputs: dict, layers: str, outputs: list[str] | None = None) -> str:
    """YAML of a spec.

    Args:
        name: the spec's name.
        inputs: input name -> shape (a list) or ``(shape, dtype)``.
        layers: the YAML list under `layers:` (lines starting with ``- ``).
        outputs: the spec's outputs (default: the last layer).
    """
    lines = ["nncompile: 1", f"name: {name}", "inputs:"]
    for input_name, value in inputs.items():
        shape, dtype = value if isinstance(value, tuple) else (value, "float32")
        lines.append(f"  {input_name}: {{shape: {list(shape)}, dtype: {dtype}}}")
    lines.append("layers:")
    lines.append(textwrap.indent(textwrap.dedent(layers).strip("\n"), "  "))
    if outputs:
        lines.append("outputs: [" + ", ".join(f'"{o}"' for o in outputs) + "]")
    return "\n".join(lines) + "\n"


def write_spec(tmp_path: Path, text: str, filename: str = "spec.yaml") -> Path:
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, filename: str = "spec.yaml"):
    """Write ``text`` to ``tmp_path`` and load it as a validated Spec."""
    return load_spec(write_spec(tmp_path, text, filename))
