"""Running a study: claim a trial, sample its spec, train it in a process of its own, record it.

``--jobs K`` runs K trials at a time. This process (which never imports
TensorFlow) samples every trial and records its end in the study; the trials
train in processes forked from one fork server that loaded TensorFlow once
(:mod:`compiler.tune.trial_process`), so a trial pays no TensorFlow import
and gives all its memory back when it ends.
"""

from __future__ import annotations

import multiprocessing
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compiler.errors import NNCompileError, SpecError
from compiler.spec.spaces import SearchSpace, Space, fill_template, resolve_fixed
from compiler.tune import results
from compiler.tune import study as studies
from compiler.tune.sampling import grid_space, narrowed, optuna_pick
from compiler.tune.schema import TuneSpec


@dataclass
class Settings:
    """A study's settings: the spec's `tune:` section with the command line's flags applied."""

    tune: TuneSpec
    trials: int
    sampler: str
    pruner: str
    jobs: int = 1
    seed: int | None = None
    coarse_to_fine: bool = False

    @property
    def names(self) -> list[str]:
        return [g.metric for g in self.tune.goals()]

    @property
    def directions(self) -> list[str]:
        return [g.goal for g in self.tune.goals()]

    @property
    def bounds(self) -> dict[str, float]:
        return self.tune.constraints.bounds()


@dataclass
class Round:
    """One round of a study: its Optuna study name, its spaces and its number of trials."""

    number: int
    name: str
    trials: int
    ranges: dict[str, Space] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a study run leaves: its folder, the best trial(s), what was written."""

    folder: Path
    trials: list[Any]
    best: list[Any]
    written: list[Path]
    notes: list[str]


class StudyRun:
    """Runs the rounds of one study in ``folder`` for a spec and its search space."""

    def __init__(self, spec: Any, search: SearchSpace, settings: Settings, folder: Path,
                 echo: Callable[[str], None]):
        self.spec, self.search, self.settings, self.folder = spec, search, settings, folder
        self.echo = echo
        self._print = threading.Lock()
        self._children: dict[int, Any] = {}
        self._stop = threading.Event()
        self.worker: studies.Worker | None = None
        self._header_done = False

    # ------------------------------------------------------------------ the rounds

    def run(self) -> Outcome:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.worker = studies.Worker(self.folder)
        try:
            first = Round(1, self.spec.name, self.settings.trials)
            study = self.run_round(first)
            rounds = [(first, study)]
            if self.settings.coarse_to_fine:
                second = self.finer_round(study)
                rounds.append((second, self.run_round(second)))
        finally:
            self.worker.close()
        return self.write_results(rounds)

    def finer_round(self, coarse: Any) -> Round:
        settings = self.settings
        c2f = settings.tune.coarse_to_fine
        top = c2f.top if c2f else 5
        margin = c2f.margin if c2f else 0.25
        trials = coarse.get_trials(deepcopy=False)
        if len(settings.directions) == 1:
            ranked = sorted(results.complete_feasible(trials, settings.bounds),
                            key=lambda t: (1 if settings.directions[0] == "minimize" else -1)
                            * t.values[0])
        else:
            ranked = results.pareto_front(trials, settings.directions, settings.bounds)
        best = [t.params for t in ranked[:top]]
        if not best:
            raise NNCompileError("--coarse-to-fine: the first round has no complete trial that "
                                 "meets the constraints to narrow the ranges around")
        ranges = narrowed(self.search, best, margin)
        number = (c2f.trials if c2f and c2f.trials else settings.trials)
        self.echo(f"round 2: ranges narrowed around the best {len(best)} trial(s):")
        for name, space in ranges.items():
            self.echo(f"  {name}: {space.describe()}")
        return Round(2, f"{self.spec.name}-fine", number, ranges)

    def run_round(self, round_: Round) -> Any:
        settings = self.settings
        fingerprint = self.search.fingerprint() + "".join(
            f"|{n}:{s.describe()}" for n, s in sorted(round_.ranges.items()))
        study = studies.open_study(self.folder, round_.name, settings.directions, fingerprint)
        if settings.sampler == "grid":
            self._queue_grid(study, round_)
        self._header_done = False
        threads = [threading.Thread(target=self._work, args=(study, round_), daemon=True,
                                    name=f"tune-{i}") for i in range(settings.jobs)]
        errors: list[BaseException] = []
        self._errors = errors
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            self._stop.set()
            for process in list(self._children.values()):
                process.kill()
            raise
        if errors:
            raise errors[0]
        return study

    def _queue_grid(self, study: Any, round_: Round) -> None:
        """A grid search queues its points once, in an order the seed shuffles.

        Queued trials live in the journal, so a resumed or shared grid study goes on
        with the points left; the trials then take their values from the queue.
        """
        import itertools
        import random

        with studies.claim_lock(self.folder):
            if study.user_attrs.get("grid_queued"):
                return
            grid = grid_space(self.search, self.settings.tune.grid_points, round_.ranges)
            points = [dict(zip(grid, values, strict=True))
                      for values in itertools.product(*grid.values())]
            random.Random(self.settings.seed).shuffle(points)
            for point in points[:round_.trials]:
                study.enqueue_trial(point)
            study.set_user_attr("grid_queued", len(points[:round_.trials]))
            if len(points) < round_.trials:
                self._say(f"the grid has {len(points)} point(s); the other trials are drawn at "
                          "random")

    # ------------------------------------------------------------------ one worker thread

    def _work(self, study: Any, round_: Round) -> None:
        try:
            while not self._stop.is_set():
                claimed = self._claim(study, round_)
                if claimed is None:
                    return
                self._run_trial(study, round_, *claimed)
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            self._errors.append(err)
            self._stop.set()

    def _claim(self, study: Any, round_: Round) -> tuple[Any, Any] | None:
        """Under the study's claim lock: recover lost trials, then ask for one if below target."""
        settings = self.settings
        with studies.claim_lock(self.folder):
            lost = studies.recover_lost(study, self.folder)
            if lost:
                self._say(f"trial(s) {', '.join(map(str, lost))} were cut off (their process "
                          "was killed): failed, and queued again")
            trials = study.get_trials(deepcopy=False)
            if sum(studies.counts_toward_target(t) for t in trials) >= round_.trials:
                return None
            seed = None if settings.seed is None else settings.seed + len(trials)
            study.sampler = studies.make_sampler(settings.sampler, seed)
            trial = study.ask()
            trial.set_user_attr(studies.WORKER, self.worker.id)
            trial.set_user_attr(results.ROUND, round_.number)
            try:
                tree, _ = fill_template(self.search, optuna_pick(trial, round_.ranges))
            except Exception:
                study.tell(trial, state=_state("FAIL"))
                raise
            return trial, tree

    def _run_trial(self, study: Any, round_: Round, trial: Any, tree: Any) -> None:
        from compiler.spec.validate import validate_spec
        from compiler.tune.trial_job import TrialJob
        from compiler.tune.trial_job import start as start_trial

        settings = self.settings
        start = time.monotonic()
        # Trials write no exports (the best one's are written at the end).
        tree["export"] = []
        try:
            validate_spec(resolve_fixed(_copy(tree), self._like()))
        except SpecError as err:
            self._finish(study, trial, {"state": "FAIL", "message": "; ".join(
                str(p) for p in err.problems)[:500]}, start)
            return
        trial_root = _trials_dir(self.folder, round_.number) / f"{trial.number:04d}"
        job = TrialJob(
            journal=str(self.folder / studies.JOURNAL), study_name=round_.name,
            trial_id=trial._trial_id, number=trial.number, tree=tree,
            source=str(self.spec.source_path) if self.spec.source_path else None,
            allow_outside=self.spec.allow_outside, out_root=str(trial_root),
            log_file=str(trial_root / "train.log"),
            goals=list(zip(settings.names, settings.directions, strict=True)),
            bounds=settings.bounds,
            pruner=settings.pruner if len(settings.names) == 1 else "none",
            monitor=_monitor(settings.names[0]) if len(settings.names) == 1 else None)
        context = _context()
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=start_trial, args=(job, send),
                                  name=f"trial-{trial.number}")
        process.start()
        send.close()
        self._children[trial.number] = process
        outcome = None
        try:
            while outcome is None:
                if receive.poll(0.2):
                    try:
                        outcome = receive.recv()
                    except EOFError:
                        break
                elif not process.is_alive() and not receive.poll(0):
                    break
        finally:
            process.join(10)
            self._children.pop(trial.number, None)
            receive.close()
        if outcome is None:
            if self._stop.is_set():
                return  # interrupted: the trial stays RUNNING and is recovered on resume
            code = process.exitcode
            why = (f"its process was killed by signal {-code} (out of memory?)" if code and code < 0
                   else f"its process ended with exit code {code} without a result")
            outcome = {"state": "FAIL", "message": why}
        self._finish(study, trial, outcome, start)

    def _finish(self, study: Any, trial: Any, outcome: dict, start: float) -> None:
        state = outcome["state"]
        if outcome.get("measures"):
            trial.set_user_attr(results.MEASURES, outcome["measures"])
        if outcome.get("message"):
            trial.set_user_attr(results.MESSAGE, outcome["message"])
        if outcome.get("pid"):
            trial.set_user_attr("pid", outcome["pid"])
        if outcome.get("traceback"):
            trial.set_user_attr("traceback", outcome["traceback"])
        bounds = self.settings.bounds
        # Optuna's samplers read a trial's constraints (<= 0: met) from the trial itself.
        for name, value in zip(bounds, results.constraint_values(trial, bounds), strict=True):
            trial.set_constraint(name, value)
        if state == "COMPLETE":
            study.tell(trial, outcome["values"])
        else:
            study.tell(trial, state=_state(state))
        frozen = study._storage.get_trial(trial._trial_id)
        self._print_row(frozen)

    # ------------------------------------------------------------------ output

    def _columns(self) -> list[str]:
        columns = ["trial", "state", *self.settings.names,
                   *[s.name for s in self.search.all()]]
        for name in self.settings.bounds:
            if name not in columns:
                columns.append(name)
        return [*columns, "seconds", "note"]

    def _print_row(self, frozen: Any) -> None:
        row = results.trial_rows([frozen], self.settings.names, self.search,
                                 self.settings.bounds)[0]
        widths = results.column_widths(self._columns())
        with self._print:
            if not self._header_done:
                self.echo(results.format_row({c: c for c in widths}, widths))
                self._header_done = True
            self.echo(results.format_row(row, widths))

    def _say(self, message: str) -> None:
        with self._print:
            self.echo(message)

    def _like(self) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(source=self.spec.source_path, allow_outside=self.spec.allow_outside,
                               overrides=())

    def write_results(self, rounds: list[tuple[Round, Any]]) -> Outcome:
        from compiler.atomic import write_text_atomic

        settings = self.settings
        trials = [t for _, study in rounds for t in study.get_trials(deepcopy=False)]
        rows = results.trial_rows(trials, settings.names, self.search, settings.bounds)
        # Trial numbers are per round; the table's rows are told apart by round too.
        written, notes = [], []
        csv_path = self.folder / "trials.csv"
        results.write_trials_csv(csv_path, rows)
        written.append(csv_path)
        for round_, study in rounds:
            plot_dir = self.folder / ("plots" if round_.number == 1 else "plots-fine")
            from compiler.tune.plots import write_plots

            files, missing = write_plots(study, plot_dir, settings.names)
            written += files
            notes += missing
        if len(settings.names) == 1:
            one = results.best_trial(trials, settings.directions, settings.bounds)
            best = [one] if one is not None else []
        else:
            best = results.pareto_front(trials, settings.directions, settings.bounds)
            lines = [",".join(["trial", "round", *settings.names,
                               *[s.name for s in self.search.all()]])]
            for t in best:
                lines.append(",".join(str(x) for x in [
                    t.number, t.user_attrs.get(results.ROUND, 1), *t.values,
                    *[t.params.get(s.name, "") for s in self.search.all()]]))
            path = self.folder / "pareto_front.csv"
            write_text_atomic(path, "\n".join(lines) + "\n")
            written.append(path)
        if not best:
            notes.append("no complete trial met the constraints: no best.yaml")
            return Outcome(self.folder, trials, best, written, notes)
        chosen = best[0]
        tree = results.best_tree(self.search, chosen.params)
        values = ", ".join(f"{n}={v:.4g}" for n, v in zip(settings.names, chosen.values,
                                                           strict=True))
        header = (f"best trial {chosen.number} (round {chosen.user_attrs.get(results.ROUND, 1)}) "
                  f"of `nncompile tune {self.spec.source_path}`: {values}\n"
                  "every search space replaced by the trial's value; train it with "
                  "`nncompile train` as it is")
        from compiler.spec.spaces import fill_template
        from compiler.tune.best_spec import write_best_specs
        from compiler.tune.sampling import params_pick

        filled, _ = fill_template(self.search, params_pick(chosen.params))
        specs = write_best_specs(tree, filled, self._like(), self.folder, header)
        written += [specs.in_study] + ([specs.beside_spec] if specs.beside_spec else [])
        notes += specs.notes
        trained = (_trials_dir(self.folder, chosen.user_attrs.get(results.ROUND, 1))
                   / f"{chosen.number:04d}" / self.spec.name)
        written += self._copy_best_model(trained, specs.to_train)
        return Outcome(self.folder, trials, best, written, notes)

    def _copy_best_model(self, trained: Path, best_yaml: Path) -> list[Path]:
        """best/<name>/: the best trial's trained model folder, as if ``best_yaml`` was trained."""
        from compiler.api import load_spec
        from compiler.model_folder import ModelFolder

        if not ModelFolder(trained).is_trained():
            return []
        target = ModelFolder.for_spec(self.spec.name, self.folder / "best")
        staging = target.path.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(trained, staging,
                        ignore=shutil.ignore_patterns("backup", ".nncompile.lock"))
        # Later verbs (evaluate, export, predict) read the spec the folder names.
        ModelFolder(staging).write_run(load_spec(best_yaml, allow_outside=self.spec.allow_outside))
        shutil.rmtree(target.path, ignore_errors=True)
        staging.rename(target.path)
        return [target.path]


def _trials_dir(folder: Path, round_number: int) -> Path:
    """trials/ for the first round, trials-fine/ for the second (numbers restart per round)."""
    return folder / ("trials" if round_number == 1 else "trials-fine")


def _monitor(metric: str) -> str | None:
    """The history key pruning watches: the objective, if it is a per-epoch metric."""
    from compiler.tune.schema import MEASURES

    if metric in MEASURES or metric.startswith("test_"):
        return None
    return metric


def _state(name: str) -> Any:
    from optuna.trial import TrialState

    return TrialState[name]


def _copy(tree: Any) -> Any:
    from compiler.spec.loader import copy_tree

    return copy_tree(tree)


_CONTEXT: Any = None


def _context() -> Any:
    """The fork server that trial processes come from (started once, TensorFlow preloaded)."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["compiler.tune.trial_process"])
    return _CONTEXT


def settings_from(spec_tune: TuneSpec | None, *, trials: int | None, sampler: str | None,
                  pruner: str | None, jobs: int, seed: int | None,
                  coarse_to_fine: bool) -> Settings:
    """The `tune:` section with the flags given on the command line taking precedence."""
    tune = spec_tune or TuneSpec()
    return Settings(tune=tune, trials=trials or tune.trials, sampler=sampler or tune.sampler,
                    pruner=pruner or tune.pruner, jobs=jobs,
                    seed=seed if seed is not None else tune.seed,
                    coarse_to_fine=coarse_to_fine or tune.coarse_to_fine is not None)


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
