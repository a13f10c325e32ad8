"""Figures for the files nncompile writes (curves, graphs, heat maps, detections).

Plots are drawn on matplotlib ``Figure`` objects, which render with Agg and
need neither pyplot, its global figure registry, nor a display, so any process
(a training run, a tune trial, a test worker) can write them; a figure is freed
with its last reference. Every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

from compiler.atomic import write_with


def new_figure(width: float, height: float):
    """A figure of ``width`` × ``height`` inches that nothing else refers to."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def save_figure(path: str | Path, fig, *, dpi: int = 90, tight: bool = False) -> None:
    """Write ``fig`` to ``path`` in the format its suffix names (PNG without one)."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    write_with(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi,
                                             bbox_inches="tight" if tight else None))
