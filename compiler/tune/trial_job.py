"""What the study hands a trial's process, and that process's entry point (both light).

The job is pickled to the process; the entry point imports the heavy side
(:mod:`compiler.tune.trial_process`, TensorFlow), which the fork server has
loaded already, so the study's own process never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrialJob:
    """A trial to train: the study, the trial, its fixed spec tree, where to write.

    Attributes:
        journal: the study's journal file (the process reports epochs there, for pruning).
        study_name, trial_id, number: the Optuna study and trial.
        tree: the trial's spec tree, every space filled in.
        source, allow_outside: the spec file it came from (data paths are relative
            to its folder) and whether it may refer outside it.
        out_root: the folder that receives the trial's ``<name>/`` model folder.
        log_file: where training's notes go.
        goals: ``(metric, direction)`` per objective.
        bounds: ``{measure: bound}`` of the constraints.
        pruner: ``median``, ``hyperband`` or ``none``.
        monitor: the per-epoch metric pruning watches (None: no pruning).
    """

    journal: str
    study_name: str
    trial_id: int
    number: int
    tree: Any
    source: str | None
    allow_outside: bool
    out_root: str
    log_file: str
    goals: list[tuple[str, str]]
    bounds: dict[str, float] = field(default_factory=dict)
    pruner: str = "none"
    monitor: str | None = None


def start(job: TrialJob, conn: Any) -> None:
    """Entry point of a trial's process: train, then send the result over ``conn``."""
    from compiler.tune.trial_process import run

    run(job, conn)
