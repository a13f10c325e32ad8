"""best.yaml: the best trial's spec, written so that `nncompile train` runs it as it is.

The study folder (``saved_models/<name>-tune/``) is not the spec's folder, and a
spec's file references (``data: {csv: {path: d.csv}}``) are relative to its own
folder. So the study's ``best.yaml`` has each relative reference rewritten to
reach the same file from the study folder. The rule of file references
(:mod:`compiler.data.files`) keeps them under the spec's folder unless
``--allow-outside`` is given; when a rewritten reference leaves the study
folder, the best spec is also written beside the original one, as
``<stem>.best.yaml``: there its references are the ones the original spec
wrote and resolve to the same files, with no flag. That file is the one to
train, and the one the best model folder's run.json names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.errors import SpecError


@dataclass
class BestSpecs:
    """What was written: the study's best.yaml, and the one beside the spec when needed.

    Attributes:
        in_study: ``<study folder>/best.yaml``.
        beside_spec: ``<spec folder>/<stem>.best.yaml``, or None when the study's
            best.yaml reaches every file it names from inside its own folder.
        notes: what a person should know (a file that could not be written).
    """

    in_study: Path
    beside_spec: Path | None
    notes: list[str]

    @property
    def to_train(self) -> Path:
        """The spec that `nncompile train` runs with no more flags than the study had."""
        return self.beside_spec or self.in_study


def file_references(tree: Any, like: Any) -> list[tuple[tuple, str, str]]:
    """``(tree path, reference, kind)`` of every file the fixed spec ``tree`` names.

    Args:
        tree: a spec tree with every space filled in, as the loader gives it.
        like: the spec it came from (its source file and ``allow_outside``).
    """
    from compiler.spec.loader import copy_tree
    from compiler.spec.spaces import resolve_fixed
    from compiler.spec.validate import validate_spec

    try:
        spec = validate_spec(resolve_fixed(copy_tree(tree), like))
    except SpecError:
        return []  # the trial trained, so this does not happen; nothing to rewrite then
    found = []
    for key in ("data", "training", "export"):
        section = getattr(spec, key, None)
        if section is None:
            continue
        for reference in section.file_references():
            found.append(((key, *reference.where), reference.reference, reference.kind))
    return found


def rebased(tree: dict, references: list[tuple[tuple, str, str]], spec_dir: Path,
            new_dir: Path) -> tuple[dict, bool]:
    """``tree`` with each relative file reference rewritten to resolve from ``new_dir``.

    A data file is relative to the spec's folder. A model file is looked up in
    the working folder first, then in the spec's folder (as training does); it
    is rewritten only when it was found in the spec's folder.

    Returns:
        The rewritten tree (a copy), and whether a rewritten reference points
        outside ``new_dir`` (so that the file rule would need ``--allow-outside``).
    """
    import copy

    out = copy.deepcopy(tree)
    outside = False
    for path, reference, kind in references:
        ref = Path(reference)
        if ref.is_absolute():
            target = ref.resolve()
        elif kind == "model" and ref.exists():
            continue  # found from the working folder: training looks there first
        else:
            target = (spec_dir / ref).resolve()
            _set(out, path, reference, os.path.relpath(target, new_dir))
        if not target.is_relative_to(new_dir) and not (
                kind == "model" and target.is_relative_to((Path.cwd() / "saved_models").resolve())):
            outside = True
    return out, outside


def _set(tree: dict, path: tuple, old: str, new: str) -> None:
    """Replace the value at ``path`` when it is ``old`` (a shorthand form is left alone)."""
    node: Any = tree
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, (dict, list)):
        try:
            if node[path[-1]] == old:
                node[path[-1]] = new
        except (KeyError, IndexError, TypeError):
            return


def write_best_specs(tree: dict, filled: Any, like: Any, study_folder: Path,
                     header: str) -> BestSpecs:
    """Write ``best.yaml`` in the study folder, and ``<stem>.best.yaml`` beside the spec if needed.

    Args:
        tree: the best trial's spec tree, every space filled in (plain data).
        filled: the same tree as the loader gives it (with positions), to validate.
        like: the tuned spec (``source``, ``allow_outside``, ``overrides``).
        study_folder: the study's folder.
        header: comment lines that open both files.
    """
    from compiler.atomic import write_text_atomic
    from compiler.tune.results import spec_yaml

    source = Path(like.source) if like.source else None
    spec_dir = source.resolve().parent if source else Path.cwd().resolve()
    folder = Path(study_folder).resolve()
    references = file_references(filled, like)
    in_study, outside = rebased(tree, references, spec_dir, folder)
    beside, notes = None, []
    if outside and source is not None:
        beside = spec_dir / f"{source.stem}.best.yaml"
        text = header + ("\nits file references are those of the tuned spec, beside it"
                         + (" (train it with --allow-outside, as it was tuned)"
                            if like.allow_outside else ""))
        try:
            write_text_atomic(beside, spec_yaml(tree, text))
        except OSError as err:
            notes.append(f"could not write {beside} ({err.strerror or err}); train the study's "
                         "best.yaml with --allow-outside")
            beside = None
    if outside:
        where = (f"train {beside} as it is, or this file with --allow-outside"
                 if beside else "train it with --allow-outside")
        header += f"\nits file references reach files outside this folder: {where}"
    path = folder / "best.yaml"
    write_text_atomic(path, spec_yaml(in_study, header))
    return BestSpecs(path, beside, notes)
