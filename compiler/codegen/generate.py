"""The whole generated module: docstring, imports, block functions, build_model, compile_model."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from compiler.codegen.module import ModuleWriter, wrap_text
from compiler.codegen.training import compile_model_source
from compiler.spec.schema import Spec

LINE_LENGTH = 100


def generate_module(spec: Spec) -> str:
    """Python source of a Keras module that builds and compiles ``spec``'s model.

    The model is built as `nncompile build` builds it (``expect:`` checked),
    so a spec that does not build gives the same located error here.
    """
    return generate(spec)[0]


def generate(spec: Spec) -> tuple[str, Any]:
    """:func:`generate_module`, and the model `nncompile build` builds (to compare with)."""
    from compiler.build.graph import BuildResult, _Builder, check_expectations

    builder = _Builder(spec)  # the builder itself: its layers by entry are needed here
    model = builder.build()
    check_expectations(spec, BuildResult(model, builder.rows))
    writer = ModuleWriter(spec, model, builder)
    try:
        body = writer.build_model_source()
    except KeyError:
        # A block whose instances differ in which layers they keep (`repeat: 0` on
        # some) can leave a layer without a Python name: write every layer inline.
        writer = ModuleWriter(spec, model, builder, functions=False)
        body = writer.build_model_source()
    compile_source = compile_model_source(spec, model, writer.imports)
    parts = [_docstring(spec), _imports(writer, body + compile_source)]
    parts += writer.function_sources
    parts.append("def build_model():\n"
                 f'    """Build the `{spec.name}` model ({_summary(spec)})."""\n' + body)
    parts.append(compile_source)
    parts.append('if __name__ == "__main__":\n'
                 "    model = build_model()\n"
                 "    compile_model(model)\n"
                 "    model.summary()")
    return format_source("\n\n\n".join(parts) + "\n"), model


def _summary(spec: Spec) -> str:
    count = len(spec.entries)
    return f"{count} layer{'s' if count != 1 else ''} of the spec"


def _docstring(spec: Spec) -> str:
    source = Path(spec.source_path).name if spec.source_path else "a spec"
    first = f'"""{spec.name}: the Keras 3 model of {source}, written by `nncompile codegen`.'
    lines = wrap_text(first, LINE_LENGTH)
    if spec.description:
        lines.append("")
        lines += wrap_text(" ".join(str(spec.description).split()), LINE_LENGTH - 4)
    lines += ["",
              "`build_model()` returns the model `nncompile build` builds from the spec (the",
              "same layers, layer names, weight order and initialisers); `compile_model(model)`",
              "compiles it as `nncompile train` does. Running this file prints the summary.",
              '"""']
    return "\n".join(line.replace('"""', "'''").replace("\\", "\\\\") for line in lines)


def _imports(writer: ModuleWriter, code: str) -> str:
    text = code + "\n".join(writer.function_sources)
    lines = ["import keras"]
    if "layers." in text:
        lines.append("from keras import layers")
    if writer.imports.custom_layers or "custom_layers." in text:
        lines.insert(0, "import custom_layers")
    return "\n".join(lines)


def _ruff() -> list[str] | None:
    found = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    return [found] if found else None


def format_source(source: str) -> str:
    """The source formatted by ruff when it is installed (as it is with nncompile's tools).

    Without ruff the source is returned as written, which is valid Python but
    may have long lines.
    """
    ruff = _ruff()
    if ruff is None:
        return source
    settings = ["--isolated", "--line-length", str(LINE_LENGTH), "--stdin-filename", "model.py"]
    try:
        fixed = _run(ruff + ["check", "--fix-only", "--select", "I,F401,UP", "--exit-zero",
                             *settings, "-"], source)
        return _run(ruff + ["format", *settings, "-"], fixed)
    except (OSError, subprocess.SubprocessError):
        return source


def _run(command: list[str], text: str) -> str:
    import tempfile

    # Outside any project, so `custom_layers` sorts as the installed package it is.
    done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=60,
                          check=True, cwd=tempfile.gettempdir())
    return done.stdout

