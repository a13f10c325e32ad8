"""`nncompile evaluate`, `predict` and `translate`: the verbs that run a trained model folder.

A model folder remembers how it was trained (run.json: the spec file, its
``--set`` values and ``--allow-outside``); these verbs reapply that when they
read its data. TensorFlow is imported inside the commands only.
"""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.options import (
    allow_outside_option,
    data_only_overrides,
    input_option,
    must_exist,
    out_option,
    output_option,
    quiet_tensorflow,
    set_option,
)
from compiler.errors import UsageError


@click.command()
@click.argument("target", metavar="MODEL_DIR_OR_SPEC", type=click.Path())
@click.option("--split", type=click.Choice(["train", "validation", "test"]), default="test",
              show_default=True, help="Which split of the spec's data to evaluate on.")
@set_option
@allow_outside_option
@out_option
@output_option("JSON file for the metrics [default: <model dir>/evaluation_<split>.json].")
def evaluate(target: str, split: str, overrides: tuple[str, ...], allow_outside: bool,
             out_root: str, output: str | None) -> None:
    """Evaluate a trained model (its folder, model.keras or spec) on a data split."""
    sets = data_only_overrides(overrides, "evaluate")
    must_exist(target, "model")
    quiet_tensorflow()
    from compiler.run.evaluate import evaluate as run_evaluation

    metrics, path = run_evaluation(target, split, out_root, sets, output,
                                   allow_outside=allow_outside)
    for name, value in metrics["metrics"].items():
        click.echo(f"{name}: {value:.6g}")
    click.echo(f"{split}: {metrics['examples']} examples; wrote {path}")


@click.command()
@click.argument("model", type=click.Path())
@input_option("Inputs: .npy (one input), .npz (one array per input name) or .csv; for an "
              "encoder–decoder on text also .txt (one text per line).")
@output_option("Predictions: .csv, .npy (one output) or .npz.", required=True)
@allow_outside_option
def predict(model: str, input_path: str, output: str, allow_outside: bool) -> None:
    """Run MODEL (a .keras file or a model folder) on the examples of a file.

    An encoder–decoder runs its inference graph (greedy decoding), as its
    export does, and writes the decoded texts.
    """
    must_exist(model, "model")
    must_exist(input_path, "input")
    quiet_tensorflow()
    from compiler.run.translate import is_sequence_to_sequence, predict_sequences

    if is_sequence_to_sequence(model):
        count = predict_sequences(model, input_path, output, allow_outside=allow_outside)
    else:
        from compiler.run.predict import predict_file

        count = predict_file(model, input_path, output, allow_outside=allow_outside)
    click.echo(f"predicted {count} example(s); wrote {output}")


@click.command()
@click.argument("model_dir", metavar="MODEL_DIR", type=click.Path(file_okay=False))
@click.argument("texts", nargs=-1, required=True)
@click.option("--attention", "attention_png", type=click.Path(dir_okay=False), default=None,
              help="Write the attention weights of the first text as a heat-map PNG.")
@allow_outside_option
def translate(model_dir: str, texts: tuple[str, ...], attention_png: str | None,
              allow_outside: bool) -> None:
    """Translate TEXTS with the seq2seq model in MODEL_DIR (saved_models/<name>/).

    Example: nncompile translate saved_models/date_translator "3 May 1979" --attention a.png
    """
    if attention_png and Path(attention_png).suffix.lower() != ".png":
        raise UsageError(f"--attention must name a .png file, got '{attention_png}'")
    if attention_png:
        from compiler.data.files import prepare_output

        # Before the model is loaded and run: a folder that cannot be written
        # fails at once, and no folder is created for a run that fails later.
        prepare_output(attention_png, "--attention", create=False)
    quiet_tensorflow()
    from compiler.run.translate import load_translator, plot_attention
    from compiler.run.translate import translate as run

    translator = load_translator(Path(model_dir), allow_outside=allow_outside)
    results = run(translator.inference, list(texts), translator.input_vocabulary,
                  translator.output_vocabulary, translator.stop_id)
    for result in results:
        click.echo(f"{result.source}\t{result.output}")
    if attention_png:
        from compiler.data.files import write_failed

        try:
            plot_attention(results[0], Path(attention_png))
        except OSError as err:
            raise write_failed(attention_png, err, "--attention") from None
        click.echo(f"wrote {attention_png}")


COMMANDS = [evaluate, predict, translate]
