"""`nncompile translate`: run a trained encoder–decoder on text and plot its attention."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("model_dir", metavar="MODEL_DIR", type=click.Path(file_okay=False))
@click.argument("texts", nargs=-1, required=True)
@click.option("--attention", "attention_png", type=click.Path(dir_okay=False), default=None,
              help="Write the attention weights of the first text as a heat-map PNG.")
def translate(model_dir: str, texts: tuple[str, ...], attention_png: str | None) -> None:
    """Translate TEXTS with the seq2seq model in MODEL_DIR (saved_models/<name>/).

    Example: nncompile translate saved_models/date_translator "3 May 1979" --attention a.png
    """
    from compiler.cli.spec import quiet_tensorflow

    quiet_tensorflow()
    from compiler.build.graph import build_inference_model, decoder_entry
    from compiler.errors import ModelFileError
    from compiler.run.translate import load_model_folder, plot_attention, vocabularies
    from compiler.run.translate import translate as run

    if attention_png and Path(attention_png).suffix.lower() != ".png":
        from compiler.errors import UsageError

        raise UsageError(f"--attention must name a .png file, got '{attention_png}'")
    if attention_png:
        from compiler.data.files import prepare_output

        # Before the model is loaded and run: a folder that cannot be written
        # fails at once, and no folder is created for a run that fails later.
        prepare_output(attention_png, "--attention", create=False)
    spec, model, metadata = load_model_folder(Path(model_dir))
    if decoder_entry(spec) is None:
        raise ModelFileError(f"'{model_dir}' is not an encoder–decoder model "
                             "(its spec has no attention_decoder)")
    inference, _ = build_inference_model(spec, model)
    in_vocab, out_vocab, stop_id = vocabularies(metadata)
    results = run(inference, list(texts), in_vocab, out_vocab, stop_id)
    for result in results:
        click.echo(f"{result.source}\t{result.output}")
    if attention_png:
        from compiler.data.files import write_failed

        try:
            plot_attention(results[0], Path(attention_png))
        except OSError as err:
            raise write_failed(attention_png, err, "--attention") from None
        click.echo(f"wrote {attention_png}")


COMMANDS = [translate]
