"""`nncompile train`, `evaluate`, `predict` and `lr-find`.

TensorFlow is imported inside the commands only, so registering them costs
nothing for `nncompile validate`.
"""

from __future__ import annotations

import click

from compiler.errors import UsageError

SET_HELP = "Override a spec value, e.g. --set training.epochs=5 (repeatable)."


def _quiet_tensorflow() -> None:
    from compiler.tf_runtime import import_tensorflow_quietly

    import_tensorflow_quietly()


def _must_exist(path: str, what: str) -> None:
    """Reject a missing file before TensorFlow is imported (seconds) to say so."""
    from pathlib import Path

    from compiler.errors import DataError, ModelFileError, SpecError

    if not Path(path).exists():
        error = {"spec": SpecError, "model": ModelFileError, "input": DataError}[what]
        raise error(f"no such {what} file or folder '{path}'")


# What `train` writes into <out>/<name>/: a folder at one of these file names
# (or the other way round) would fail the run after training, not before.
TRAIN_FILES = ("model.keras", "spec.resolved.yaml", "metrics.json", "history.csv",
               "training_curves.png", "confusion_matrix.png", "worst_examples.csv",
               "metadata.json")
TRAIN_FOLDERS = ("backup", "checkpoints", "logs")


def _overrides(sets: tuple[str, ...], epochs: int | None = None) -> list[str]:
    overrides = list(sets)
    if epochs is not None:
        overrides.append(f"training.epochs={epochs}")
    return overrides


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--resume", is_flag=True, help="Continue an interrupted run from <out>/<name>/backup/.")
@click.option("--out", "out_root", default="saved_models", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the <name>/ output folder.")
@click.option("--epochs", type=click.IntRange(min=1), help="Shorthand for --set training.epochs=N.")
@click.option("--quiet", is_flag=True, help="No per-epoch progress lines.")
@click.option("--allow-outside", is_flag=True,
              help="Let the spec refer to files outside its own folder.")
def train(spec: str, sets: tuple[str, ...], resume: bool, out_root: str, epochs: int | None,
          quiet: bool, allow_outside: bool) -> None:
    """Train the model of SPEC and write saved_models/<name>/.

    Writes model.keras, spec.resolved.yaml, metrics.json, history.csv,
    training_curves.png (classifiers: confusion_matrix.png and
    worst_examples.csv), then the exports the spec lists. A NaN loss stops
    training with exit code 1 and keeps the last good backup.
    """
    from pathlib import Path

    from compiler.api import load_spec
    from compiler.model_folder import check_folder_writable, check_nothing_in_the_way

    loaded = load_spec(spec, _overrides(sets, epochs), allow_outside=allow_outside)
    out_dir = Path(out_root) / loaded.name
    check_folder_writable(out_dir)  # before minutes of training, not after
    check_nothing_in_the_way(out_dir, TRAIN_FILES, TRAIN_FOLDERS)
    _quiet_tensorflow()  # only once the spec is valid
    from compiler.training.run import train_spec

    def how_to_continue() -> str:
        return _how_to_continue(out_dir / "backup", spec, sets, epochs, out_root, allow_outside)

    try:
        result = train_spec(loaded, out_root=out_root, resume=resume, verbose=0 if quiet else 2)
    except KeyboardInterrupt:
        click.echo(f"interrupted: {how_to_continue()}", err=True)
        raise click.exceptions.Exit(130) from None
    except OSError as err:  # a full disk or a read-only folder, found while writing
        problem = _write_problem(err, out_dir, how_to_continue)
        if problem is None:
            raise
        raise problem from err
    for split, values in result.metrics["metrics"].items():
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
        click.echo(f"{split}: {shown}")
    click.echo(f"trained {result.epochs_completed} epoch(s); wrote {result.out_dir}")


def _write_problem(err: OSError, out_dir, how_to_continue):
    """The error for a write that failed in mid-run (None for other OSErrors): what failed,
    how to fix it, and that the backup lets `--resume` carry on without losing the epochs."""
    import errno
    import os

    from compiler.atomic import IN_THE_WAY_ERRNOS, WRITE_ERRNOS
    from compiler.errors import Location, NNCompileError

    if err.errno not in WRITE_ERRNOS:
        return None
    detail = "" if err.filename else f" ({' '.join(str(err).split())[:160]})"
    fix = ("free some space" if err.errno == errno.ENOSPC
           else "move away what is in the way" if err.errno in IN_THE_WAY_ERRNOS
           else "make the folder writable")
    return NNCompileError(
        f"cannot write: {os.strerror(err.errno)}{detail}; {fix}: {how_to_continue()}",
        Location(str(err.filename or out_dir)),
    )


def _how_to_continue(backup_dir, spec: str, sets, epochs, out_root: str,
                     allow_outside: bool) -> str:
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
    if out_root != "saved_models":
        words += ["--out", out_root]
    if allow_outside:
        words.append("--allow-outside")
    if state is None or state.get("finished"):
        return f"no epoch of this run was backed up; run it again with: {shlex.join(words)}"
    return (f"epoch {state['epochs_completed']} is backed up in {backup_dir}; continue with: "
            f"{shlex.join([*words, '--resume'])}")


# What `evaluate --set` may change: where the data come from and how they are
# split and batched. The model, its loss and its metrics are the trained ones.
_EVALUATE_SETS = ("data.", "data[", "vars.", "training.batch_size", "training.seed")


def _evaluate_overrides(sets: tuple[str, ...]) -> list[str]:
    for item in sets:
        key = item.split("=", 1)[0].strip()
        if not (key.startswith(_EVALUATE_SETS) or key in ("data", "vars")):
            raise click.UsageError(
                f"--set {item}: evaluate uses the trained model as it is, with its own loss "
                "and metrics; --set can change only the data (data.*, vars.*, "
                "training.batch_size, training.seed). To evaluate another model, train it")
    return list(sets)


@click.command()
@click.argument("target", metavar="MODEL_DIR_OR_SPEC", type=click.Path())
@click.option("--split", type=click.Choice(["train", "validation", "test"]), default="test",
              show_default=True, help="Which split of the spec's data to evaluate on.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--out", "out_root", default="saved_models", show_default=True,
              type=click.Path(file_okay=False), help="Where a spec's model folder is.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="JSON file for the metrics [default: <model dir>/evaluation_<split>.json].")
def evaluate(target: str, split: str, sets: tuple[str, ...], out_root: str, output: str | None) -> None:
    """Evaluate a trained model (its folder, model.keras or spec) on a data split."""
    overrides = _evaluate_overrides(sets)
    _must_exist(target, "model")
    _quiet_tensorflow()
    from compiler.run.evaluate import evaluate as run_evaluation

    metrics, path = run_evaluation(target, split, out_root, overrides, output)
    for name, value in metrics["metrics"].items():
        click.echo(f"{name}: {value:.6g}")
    click.echo(f"{split}: {metrics['examples']} examples; wrote {path}")


@click.command()
@click.argument("model", type=click.Path())
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="Inputs: .npy (one input), .npz (one array per input name) or .csv.")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="Predictions: .csv, .npy (one output) or .npz.")
def predict(model: str, input_path: str, output_path: str) -> None:
    """Run MODEL (a .keras file or a model folder) on the examples of a file."""
    _must_exist(model, "model")
    _must_exist(input_path, "input")
    _quiet_tensorflow()
    from compiler.run.predict import predict_file

    count = predict_file(model, input_path, output_path)
    click.echo(f"predicted {count} example(s); wrote {output_path}")


@click.command("lr-find")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--start", type=float, default=1e-5, show_default=True, help="First learning rate.")
@click.option("--end", type=float, default=10.0, show_default=True, help="Last learning rate.")
@click.option("--steps", type=click.IntRange(min=5), default=200, show_default=True,
              help="Number of rates tried (one batch each).")
@click.option("-o", "--output", default="lr_find.png", show_default=True,
              type=click.Path(dir_okay=False), help="Plot of loss against learning rate.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
def lr_find(spec: str, start: float, end: float, steps: int, output: str, sets: tuple[str, ...]) -> None:
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

    load_spec(spec, list(sets))  # spec mistakes are reported before TensorFlow loads
    prepare_output(output, "-o/--output", create=False)  # before the test, not after it
    _quiet_tensorflow()
    from compiler.training.lr_find import find_learning_rate

    prepare_output(output, "-o/--output")
    result = find_learning_rate(spec, start=start, end=end, steps=steps, overrides=list(sets),
                                plot=output)
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


COMMANDS = [train, evaluate, predict, lr_find]
