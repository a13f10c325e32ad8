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
    from compiler.api import load_spec

    loaded = load_spec(spec, _overrides(sets, epochs), allow_outside=allow_outside)
    _quiet_tensorflow()  # only once the spec is valid
    from compiler.training.run import train_spec

    result = train_spec(loaded, out_root=out_root, resume=resume, verbose=0 if quiet else 2)
    for split, values in result.metrics["metrics"].items():
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
        click.echo(f"{split}: {shown}")
    click.echo(f"trained {result.epochs_completed} epoch(s); wrote {result.out_dir}")


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
    _must_exist(target, "model")
    _quiet_tensorflow()
    from compiler.training.evaluation import evaluate as run_evaluation

    metrics, path = run_evaluation(target, split, out_root, _overrides(sets), output)
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
    from compiler.training.prediction import predict_file

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
    if not 0 < start < end:
        raise UsageError(f"expected 0 < --start < --end, got --start {start:g} --end {end:g}")
    from compiler.api import load_spec

    load_spec(spec, list(sets))  # spec mistakes are reported before TensorFlow loads
    _quiet_tensorflow()
    from compiler.training.lr_search import find_learning_rate

    result = find_learning_rate(spec, start=start, end=end, steps=steps, overrides=list(sets),
                                plot=output)
    ending = "stopped when the loss diverged" if result.diverged else "reached --end"
    click.echo(f"tried {len(result.rates)} rates ({ending}); wrote {output}")
    click.echo(f"suggested learning rate: {result.suggestion:.3g}")


COMMANDS = [train, evaluate, predict, lr_find]
