"""What a study leaves for a person: the trials table, trials.csv, the best trials, best.yaml.

The best trial is the best feasible complete trial (every constraint met); with
several objectives the result is the Pareto front of the feasible complete
trials: those no other trial beats in one objective without losing in another.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from compiler.spec.spaces import SearchSpace, fill_template
from compiler.tune.sampling import params_pick

MEASURES = "measures"
"""User attribute: the trial's measures (params, tflite_latency_ms, epoch_seconds)."""
MESSAGE = "message"
"""User attribute: why a trial was pruned or failed."""
ROUND = "round"


def feasible(trial: Any, bounds: dict[str, float]) -> bool:
    """Whether every constraint holds for the trial's measures (unmeasured: not feasible)."""
    measures = trial.user_attrs.get(MEASURES) or {}
    return all(name in measures and measures[name] <= bound for name, bound in bounds.items())


def constraint_values(trial: Any, bounds: dict[str, float]) -> list[float]:
    """Optuna's constraint values (<= 0 is satisfied): measure - bound for each constraint."""
    measures = trial.user_attrs.get(MEASURES) or {}
    return [float(measures[name]) - bound if name in measures else 1.0
            for name, bound in bounds.items()]


def complete_feasible(trials: list[Any], bounds: dict[str, float]) -> list[Any]:
    from optuna.trial import TrialState

    return [t for t in trials if t.state == TrialState.COMPLETE and feasible(t, bounds)]


def best_trial(trials: list[Any], directions: list[str], bounds: dict[str, float]) -> Any:
    """The best feasible complete trial of a one-objective study, or None."""
    candidates = complete_feasible(trials, bounds)
    if not candidates:
        return None
    sign = 1 if directions[0] == "minimize" else -1
    return min(candidates, key=lambda t: (sign * t.values[0], t.number))


def dominates(a: list[float], b: list[float], directions: list[str]) -> bool:
    """Whether ``a`` is at least as good as ``b`` in every objective and better in one."""
    signs = [1 if d == "minimize" else -1 for d in directions]
    at_least = all(s * x <= s * y for s, x, y in zip(signs, a, b, strict=True))
    better = any(s * x < s * y for s, x, y in zip(signs, a, b, strict=True))
    return at_least and better


def pareto_front(trials: list[Any], directions: list[str], bounds: dict[str, float]) -> list[Any]:
    """The feasible complete trials that no other one dominates, by the first objective."""
    candidates = complete_feasible(trials, bounds)
    front = [t for t in candidates
             if not any(dominates(o.values, t.values, directions)
                        for o in candidates if o is not t)]
    return sorted(front, key=lambda t: (t.values[0], t.number))


def trial_rows(trials: list[Any], names: list[str], search: SearchSpace,
               bounds: dict[str, float]) -> list[dict[str, Any]]:
    """One row per trial: number, state, objective values, parameters, measures, time."""
    params = [s.name for s in search.all()]
    rows = []
    for t in sorted(trials, key=lambda t: t.number):
        measures = t.user_attrs.get(MEASURES) or {}
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() \
            if t.datetime_complete and t.datetime_start else None
        row: dict[str, Any] = {"trial": t.number, "round": t.user_attrs.get(ROUND, 1),
                               "state": t.state.name}
        values = t.values or []
        for i, name in enumerate(names):
            row[name] = values[i] if i < len(values) and t.state.name == "COMPLETE" else None
        for name in params:
            row[name] = t.params.get(name)
        for name in ("params", "tflite_latency_ms", "epoch_seconds"):
            if name in measures and name not in row:
                row[name] = measures[name]
        if bounds:
            row["feasible"] = feasible(t, bounds) if t.state.name == "COMPLETE" else None
        row["seconds"] = round(seconds, 2) if seconds is not None else None
        row["note"] = t.user_attrs.get(MESSAGE, "")
        rows.append(row)
    return rows


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def format_row(row: dict[str, Any], widths: dict[str, int]) -> str:
    return "  ".join(format_cell(row.get(k)).ljust(w)[:max(w, 1)] if k != "note"
                     else format_cell(row.get(k))[:80] for k, w in widths.items())


def column_widths(columns: list[str]) -> dict[str, int]:
    """Fixed widths so that rows printed one by one line up under the header."""
    return {c: (max(len(c), 10) if c != "note" else 0) for c in columns}


def write_trials_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """trials.csv: every row, every column (a row's missing values left empty)."""
    from compiler.atomic import write_text_atomic

    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    write_text_atomic(path, buffer.getvalue())


def best_tree(search: SearchSpace, params: dict[str, Any]) -> dict:
    """The spec of a trial as plain data: every space replaced by the trial's value.

    The `tune:` section is left out: the result is a spec to train, not to search.
    """
    tree, _ = fill_template(search, params_pick(params))
    plain = _plain(tree)
    plain.pop("tune", None)
    return plain


def _plain(value: Any) -> Any:
    """Position-carrying dicts and lists as plain ones (for YAML)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def spec_yaml(tree: dict, header: str) -> str:
    """A spec tree as YAML text, with comment lines first."""
    import yaml

    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
