"""The library entry points: load a spec, build its model.

    spec = load_spec("specs/lenet5.yaml", overrides=["training.epochs=3"])
    model = build_model(spec)

Loading is two stages, each owning its data: resolve (:mod:`compiler.spec.resolve`:
``extends:``, ``--set``, variables, blocks) gives a ``ResolvedSpec``; validate
(:mod:`compiler.spec.validate`) turns it into a typed :class:`Spec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.spec.resolve import resolve_spec
from compiler.spec.schema import Spec
from compiler.spec.validate import validate_spec


def load_spec(path: str | Path, overrides: Sequence[str] = (), *,
              allow_outside: bool = False) -> Spec:
    """Load, resolve and validate a spec file; raises SpecError listing every problem.

    Args:
        path: the YAML spec.
        overrides: ``key.path=value`` strings (the CLI's ``--set``), applied after
            ``extends:`` and before variables are substituted.
        allow_outside: let ``extends:``, data files and ``training.init_from`` refer
            to files outside the spec's folder (remembered as ``spec.allow_outside``).
    """
    return validate_spec(resolve_spec(Path(path), overrides, allow_outside=allow_outside))


def build_model(spec: Spec, *, check_expect: bool = True):
    """The Keras functional model of ``spec``; checks ``expect:`` unless told not to."""
    from compiler.build.graph import build_model as _build_model

    return _build_model(spec, check_expect=check_expect)


def build(spec: Spec, *, check_expect: bool = True):
    """Like :func:`build_model`, returning a ``BuildResult`` with the summary rows."""
    from compiler.build.graph import build as _build

    return _build(spec, check_expect=check_expect)
