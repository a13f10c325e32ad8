"""`nncompile train` and `lr-find`: the verbs that fit a spec's model to its data.

TensorFlow is imported inside the commands only, so registering them costs
nothing for `nncompile validate`.
"""

from __future__ import annotations

import contextlib

import click

from compiler.cli.options import (
    allow_outside_option,
    backend_option,
    cluster_options,
    distribute_option,
    out_option,
    output_option,
    quiet_tensorflow,
    set_option,
    write_problem,
)
from compiler.errors import NNCompileError, UsageError
from compiler.model_folder import DEFAULT_ROOT


def _overrides(sets: tuple[str, ...], epochs: int | None = None, backend: str | None = None,
               distribute: str | None = None) -> list[str]:
    overrides = list(sets)
    if epochs is not None:
        overrides.append(f"training.epochs={epochs}")
    # The flags win over the spec, like a --set after it.
    if distribute is not None:
        overrides.append(f"training.distribute={distribute}")
    if backend is not None:
        overrides.append(f"training.backend={backend}")
    return overrides


def _cluster_words(coordinator: str | None, num_workers: int | None,
                   worker_index: int | None) -> list[str]:
    words = []
    for flag, value in (("--coordinator", coordinator), ("--num-workers", num_workers),
                        ("--worker-index", worker_index)):
        if value is not None:
            words += [flag, str(value)]
    return words


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@set_option
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run from <out>/<name>/backup/.")
@out_option
@click.option("--epochs", type=click.IntRange(min=1), help="Shorthand for --set training.epochs=N.")
@click.option("--quiet", is_flag=True, help="No per-epoch progress lines.")
@allow_outside_option
@backend_option
@distribute_option
@cluster_options
def train(spec: str, overrides: tuple[str, ...], resume: bool, out_root: str, epochs: int | None,
          quiet: bool, allow_outside: bool, backend: str | None, distribute: str | None,
          coordinator: str | None, num_workers: int | None, worker_index: int | None) -> None:
    """Train the model of SPEC and write saved_models/<name>/.

    Writes model.keras, spec.resolved.yaml, run.json, metrics.json, history.csv,
    training_curves.png (classifiers: confusion_matrix.png and
    worst_examples.csv), metadata.json, then the exports the spec lists. A NaN
    loss stops training with exit code 1 and keeps the last good backup.

    With `distribute: data_parallel`, start the same command once per worker,
    each with its --worker-index (or under a launcher that sets TF_CONFIG or
    SLURM_*); only worker 0 writes the folder. A lost worker stops the others
    (exit code 1); run every worker again with --resume.
    """
    from compiler.api import load_spec
    from compiler.distribute.cluster import discover
    from compiler.distribute.process import prepare_process
    from compiler.model_folder import ModelFolder

    sets = tuple(_overrides(overrides, None, backend, distribute))
    loaded = load_spec(spec, _overrides(sets, epochs), allow_outside=allow_outside)
    cluster = discover(coordinator, num_workers, worker_index)
    folder = ModelFolder.for_spec(loaded, out_root)
    if cluster.is_chief:  # the other workers write nothing there
        folder.check_writable()  # before minutes of training, not after
        folder.check_nothing_in_the_way()
    # The Keras backend is fixed here, before anything imports Keras.
    runtime = prepare_process(loaded.training, cluster)
    chief = runtime.is_chief
    extra = _cluster_words(coordinator, num_workers, worker_index)

    def how_to_continue() -> str:
        return _how_to_continue(folder.backup_dir, spec, sets, epochs, out_root,
                                allow_outside, extra)

    if runtime.watchdog is not None:
        runtime.watchdog.hint = how_to_continue
        if not chief:
            click.echo(f"{runtime.cluster.describe()}: training; worker 0 writes {folder.path}",
                       err=True)
    quiet_tensorflow()  # only once the spec is valid
    from compiler.training.run import train_spec

    try:
        # A second train or export of the folder is refused; only the chief holds it.
        with folder.lock("train") if chief else contextlib.nullcontext():
            result = train_spec(loaded, out_root=out_root, resume=resume,
                                verbose=0 if quiet else 2, allow_outside=allow_outside)
        if runtime.watchdog is not None:
            runtime.watchdog.finish()
    except KeyboardInterrupt:
        click.echo(f"interrupted: {how_to_continue()}", err=True)
        raise click.exceptions.Exit(130) from None
    except OSError as err:  # a full disk or a read-only folder, found while writing
        problem = write_problem(err, how_to_continue(), folder.path)
        if problem is None:
            raise
        raise NNCompileError(problem) from err
    if not chief:
        click.echo(f"worker {runtime.cluster.worker_index}: trained {result.epochs_completed} "
                   f"epoch(s); worker 0 writes {folder.path}")
        return
    for split, values in result.metrics["metrics"].items():
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
        click.echo(f"{split}: {shown}")
    click.echo(f"trained {result.epochs_completed} epoch(s); wrote {result.out_dir}")


def _how_to_continue(backup_dir, spec: str, sets, epochs, out_root: str,
                     allow_outside: bool, extra: list[str] | None = None) -> str:
    """What the run's backup holds and the command line that continues the run."""
    import shlex

    from compiler.training.backup import BackupError, read_backup

    try:
        state = read_backup(backup_dir)
    except BackupError:
        state = None
    words = ["nncompile", "train", spec]
    for value in sets:
        words += ["--set", value]
    if epochs is not None:
        words += ["--epochs", str(epochs)]
    if out_root != DEFAULT_ROOT:
        words += ["--out", out_root]
    if allow_outside:
        words.append("--allow-outside")
    words += extra or []
    if state is None or state.get("finished"):
        return f"no epoch of this run was backed up; run it again with: {shlex.join(words)}"
    return (f"epoch {state['epochs_completed']} is backed up in {backup_dir}; continue with: "
            f"{shlex.join([*words, '--resume'])}")


@click.command("lr-find")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--start", type=float, default=1e-5, show_default=True, help="First learning rate.")
@click.option("--end", type=float, default=10.0, show_default=True, help="Last learning rate.")
@click.option("--steps", type=click.IntRange(min=5), default=200, show_default=True,
              help="Number of rates tried (one batch each).")
@output_option("Plot of loss against learning rate.", default="lr_find.png")
@set_option
@allow_outside_option
def lr_find(spec: str, start: float, end: float, steps: int, output: str,
            overrides: tuple[str, ...], allow_outside: bool) -> None:
    """Learning-rate range test: raise the rate exponentially and watch the loss.

    Prints the suggested rate: the steepest descent of the smoothed loss
    below the rate where the loss is lowest (just before it turns up).
    """
    import math

    if not (0 < start < end and math.isfinite(end)):
        raise UsageError(
            f"expected 0 < --start < --end (finite numbers), got --start {start:g} --end {end:g}"
        )
    _check_picture_name(output)
    from compiler.api import load_spec
    from compiler.data.files import prepare_output

    # Spec mistakes are reported before TensorFlow loads.
    loaded = load_spec(spec, list(overrides), allow_outside=allow_outside)
    prepare_output(output, "-o/--output", create=False)  # before the test, not after it
    quiet_tensorflow()
    from compiler.training.lr_find import find_learning_rate

    prepare_output(output, "-o/--output")
    result = find_learning_rate(loaded, start=start, end=end, steps=steps, plot=output)
    ending = "stopped when the loss diverged" if result.diverged else "reached --end"
    click.echo(f"tried {len(result.rates)} rates ({ending}); wrote {output}")
    click.echo(f"suggested learning rate: {result.suggestion:.3g}")


def _check_picture_name(output: str) -> None:
    """-o must name a picture format matplotlib writes (its suffix picks the format)."""
    from pathlib import Path

    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(output).suffix.lower().lstrip(".")
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    if suffix and suffix not in formats:
        raise UsageError(
            f"-o '{output}': cannot draw a .{suffix} picture; use .png or .svg "
            f"(or one of {', '.join(formats)})"
        )


COMMANDS = [train, lr_find]
