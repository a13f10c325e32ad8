"""`nncompile tune`: search a spec's search spaces with Optuna.

The command itself never imports TensorFlow: trials train in processes forked
from a server that loaded it once (see compiler.tune.runner).
"""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.options import allow_outside_option, out_option, set_option
from compiler.errors import NNCompileError
from compiler.tune.schema import PRUNERS, SAMPLERS


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@set_option
@allow_outside_option
@out_option
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="Trials the study ends with (default: tune.trials of the spec, else 20).")
@click.option("--sampler", type=click.Choice(SAMPLERS), default=None,
              help="How trials are drawn (default: tune.sampler, else tpe).")
@click.option("--pruner", type=click.Choice(PRUNERS), default=None,
              help="Stop unpromising trials after an epoch (default: tune.pruner, else median).")
@click.option("--jobs", type=click.IntRange(min=1, max=64), default=1, show_default=True,
              help="Trials trained at a time, each in its own process.")
@click.option("--seed", type=int, default=None,
              help="Seed of the sampler (default: tune.seed): the same seed draws the same trials.")
@click.option("--coarse-to-fine", is_flag=True,
              help="Then a second round in ranges narrowed around the best trials.")
@click.option("--epochs", type=click.IntRange(min=1), help="Shorthand for --set training.epochs=N.")
def tune(spec: str, overrides: tuple[str, ...], allow_outside: bool, out_root: str,
         trials: int | None, sampler: str | None, pruner: str | None, jobs: int,
         seed: int | None, coarse_to_fine: bool, epochs: int | None) -> None:
    """Search the hyper-parameters SPEC leaves open ({choice: ...}, {log_uniform: ...}).

    Writes <out>/<name>-tune/: the study's journal (the same command continues a
    killed study; several commands share it), trials.csv, plots/ (history,
    slice, importances; pareto_front for several objectives), best.yaml (the
    best trial's spec, every space filled in) and best/<name>/ (its trained
    model folder).
    """
    from compiler.spec.spaces import load_search_spec
    from compiler.tune.runner import StudyRun, settings_from
    from compiler.tune.schema import TuneSpec

    sets = list(overrides) + ([f"training.epochs={epochs}"] if epochs is not None else [])
    loaded, search = load_search_spec(spec, sets, allow_outside=allow_outside)
    if not search:
        raise NNCompileError(
            f"{spec}: the spec has no search space, so there is nothing to tune; write one where "
            "a value goes, e.g. `learning_rate: {log_uniform: [1e-4, 1e-1]}`")
    if loaded.training is None or loaded.data is None:
        raise NNCompileError(f"{spec}: tuning trains the spec; it needs `data:` and `training:`")
    raw = loaded.tree.get("tune")
    settings = settings_from(TuneSpec.model_validate(raw) if raw is not None else None,
                             trials=trials, sampler=sampler, pruner=pruner, jobs=jobs, seed=seed,
                             coarse_to_fine=coarse_to_fine)
    if settings.sampler == "nsga2" and len(settings.names) == 1:
        click.echo("note: nsga2 is made for several objectives; with one, tpe is usually better",
                   err=True)
    folder = Path(out_root) / f"{loaded.name}-tune"
    from compiler.model_folder import ModelFolder

    ModelFolder(folder).check_writable()
    goals = ", ".join(f"{g.goal} {g.metric}" for g in settings.tune.goals())
    click.echo(f"tuning {spec}: {len(search.all())} search space(s), {settings.trials} trial(s), "
               f"{settings.sampler} sampler, {goals}; study in {folder}")
    try:
        outcome = StudyRun(loaded, search, settings, folder, click.echo).run()
    except KeyboardInterrupt:
        click.echo("interrupted: run the same command again to continue the study", err=True)
        raise click.exceptions.Exit(130) from None
    for note in outcome.notes:
        click.echo(f"note: {note}")
    for best in outcome.best:
        values = ", ".join(f"{n}={v:.4g}" for n, v in zip(settings.names, best.values,
                                                           strict=True))
        params = ", ".join(f"{k}={_show(v)}" for k, v in best.params.items())
        label = "best" if len(settings.names) == 1 else "pareto"
        click.echo(f"{label}: trial {best.number}: {values} ({params})")
    for path in outcome.written:
        click.echo(f"wrote {path}")


def _show(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


COMMANDS = [tune]
