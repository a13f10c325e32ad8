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


TRAINED_MARKER = "metrics.json"


def trained_model_in(folder: Path) -> bool:
    """Whether `folder` holds a model that `train` wrote (its metrics.json is there)."""
    return (folder / TRAINED_MARKER).is_file() and (folder / "model.keras").is_file()


def check_can_save(spec, out_root: Path | str, replace_trained: bool) -> None:
    """Raise a ModelFileError if saving a build would overwrite a trained model."""
    from compiler.errors import ModelFileError

    folder = Path(out_root) / spec.name
    if trained_model_in(folder) and not replace_trained:
        raise ModelFileError(
            f"'{folder}' holds a trained model; building would replace its weights with "
            "untrained ones. Use --no-save to only check the spec, --out to write elsewhere, "
            "or --force to replace it")


def save_built_model(spec, model, out_root: Path | str = "saved_models", *,
                     replace_trained: bool = False) -> Path:
    """Write model.keras and spec.resolved.yaml atomically; return the folder.

    A folder that holds a trained model is left alone (an untrained build
    would silently replace the weights) unless `replace_trained` is set; then
    the training results that described the old weights go too.
    """
    from compiler.atomic import atomic_file, write_text_atomic

    check_can_save(spec, out_root, replace_trained)
    folder = model_folder(spec, out_root)
    with atomic_file(folder / "model.keras") as tmp:
        model.save(tmp)
    write_text_atomic(folder / "spec.resolved.yaml", resolved_spec_text(spec))
    if replace_trained:
        (folder / TRAINED_MARKER).unlink(missing_ok=True)
    return folder


def check_folder_writable(folder: Path | str, flag: str = "--out") -> None:
    """Refuse, before a long run, an output folder that cannot be created or written.

    Checks the folder itself if it exists, else the closest existing parent
    (where it would be created); a file in the way is named too.

    Raises:
        NNCompileError: located at the folder, naming the flag that chose it.
    """
    import os

    from compiler.errors import Location, NNCompileError

    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    where = Location(str(folder))
    if existing.exists() and not existing.is_dir():
        raise NNCompileError(
            f"cannot write here: '{existing}' is a file, not a folder; move it away or choose "
            f"another folder with {flag}",
            where,
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise NNCompileError(
            f"cannot write here: the folder '{existing}' is read-only or not yours; choose "
            f"another folder with {flag}",
            where,
        )


def check_nothing_in_the_way(folder: Path | str, files=(), folders=()) -> None:
    """Refuse a folder at a name a command writes a file to, or a file where it makes a folder.

    Raises:
        NNCompileError: every such name at once, each located at its path.
    """
    from compiler.errors import Location, NNCompileError, Problem

    folder = Path(folder)
    problems = [
        Problem(f"a folder is in the way of the file {name}; move it away",
                Location(str(folder / name)))
        for name in files
        if (folder / name).is_dir()
    ] + [
        Problem(f"a file is in the way of the folder {name}/; move it away",
                Location(str(folder / name)))
        for name in folders
        if (folder / name).exists() and not (folder / name).is_dir()
    ]
    if problems:
        raise NNCompileError(problems)
