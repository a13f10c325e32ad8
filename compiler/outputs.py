"""The model folder saved_models/<name>/ and the files `build` writes into it."""

from __future__ import annotations

from pathlib import Path

import yaml


def model_folder(spec, out_root: Path | str = "saved_models") -> Path:
    """``<out_root>/<spec name>/``, created if needed."""
    folder = Path(out_root) / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def resolved_spec_text(spec) -> str:
    """The resolved spec as YAML (variables substituted, blocks expanded)."""
    header = f"# resolved from {spec.source_path}\n" if spec.source_path else ""
    return header + yaml.safe_dump(spec.resolved_tree(), sort_keys=False, allow_unicode=True)


def save_built_model(spec, model, out_root: Path | str = "saved_models") -> Path:
    """Write model.keras and spec.resolved.yaml atomically; return the folder."""
    from compiler.atomic import atomic_file, write_text_atomic

    folder = model_folder(spec, out_root)
    with atomic_file(folder / "model.keras") as tmp:
        model.save(tmp)
    write_text_atomic(folder / "spec.resolved.yaml", resolved_spec_text(spec))
    return folder
