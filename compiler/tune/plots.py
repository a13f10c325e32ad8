"""The study's pictures, drawn with Optuna's matplotlib visualisations.

``history.png`` (objective per trial, and the best so far), ``slice.png`` (the
objective against each hyper-parameter), ``importances.png`` (how much of the
objective's variation each hyper-parameter explains, fANOVA) and, with several
objectives, ``pareto_front.png``. A plot that needs more complete trials than
the study has is left out and said so.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def write_plots(study: Any, folder: Path, names: list[str]) -> tuple[list[Path], list[str]]:
    """Draw the study's plots into ``folder``.

    Args:
        study: the Optuna study.
        folder: where the PNG files go (created).
        names: the objectives' names, in order (the first is plotted for one-objective plots).

    Returns:
        The files written, and a note for each plot left out.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as vis

    folder.mkdir(parents=True, exist_ok=True)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    several = len(names) > 1
    target = (lambda t: t.values[0]) if several else None
    target_name = names[0]
    plots: list[tuple[str, Any, int]] = [
        ("history.png", lambda: vis.plot_optimization_history(
            study, target=target, target_name=target_name), 1),
        ("slice.png", lambda: vis.plot_slice(study, target=target, target_name=target_name), 1),
        ("importances.png", lambda: vis.plot_param_importances(
            study, target=target, target_name=target_name), 2),
    ]
    if several:
        plots.append(("pareto_front.png", lambda: vis.plot_pareto_front(
            study, target_names=names), 1))
    written, notes = [], []
    for filename, draw, needs in plots:
        if len(complete) < needs:
            notes.append(f"{filename}: needs {needs} complete trial(s), the study has "
                         f"{len(complete)}")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
                optuna.logging.set_verbosity(optuna.logging.ERROR)
                axes = draw()
        except (ValueError, RuntimeError, ZeroDivisionError) as err:
            notes.append(f"{filename}: not drawn ({err})")
            continue
        figure = _figure_of(axes)
        figure.set_size_inches(max(figure.get_size_inches()[0], 7), 5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's colour bars defeat tight_layout: harmless
            figure.tight_layout()
        path = folder / filename
        figure.savefig(path, dpi=90)
        plt.close(figure)
        written.append(path)
    return written, notes


def _figure_of(axes: Any) -> Any:
    """The figure of what an Optuna plot returns: one Axes or an array of them."""
    import numpy as np

    first = np.asarray(axes, dtype=object).ravel()[0] if not hasattr(axes, "figure") else axes
    return first.figure
