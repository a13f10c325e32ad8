"""Running a trained encoder–decoder on text: encode, decode greedily, plot the attention.

The vocabularies travel in the model folder's metadata.json (written by train
and export), so a folder alone is enough to translate and to draw the
attention heat-map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compiler.errors import DataError, ModelFileError
from compiler.model_folder import ModelFolder


@dataclass
class Translation:
    source: str
    output: str
    source_tokens: list[str]
    output_tokens: list[str]
    attention: np.ndarray  # (output steps, source steps)


def vocabularies(metadata: dict) -> tuple[list[str], list[str], int]:
    """Input and output vocabularies and the stop id from a model's metadata."""
    data = metadata.get("preprocessing") or metadata.get("data") or metadata
    for key in ("input_vocabulary", "output_vocabulary", "stop_id"):
        if key not in data:
            raise ModelFileError(f"the model's metadata has no '{key}': is this a seq2seq model "
                                 "trained on text?")
    return data["input_vocabulary"], data["output_vocabulary"], int(data["stop_id"])


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened when long (a 10,000-character input)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def encode(text: str, vocabulary: list[str], length: int | None, where: str = "the input"
           ) -> np.ndarray:
    """Ids of ``text``, 0-padded to ``length`` (None: no padding), as a (1, steps) array.

    Raises:
        DataError: the text is empty or only whitespace, has characters outside the
            vocabulary, or is longer than the model reads. ``where`` names the
            text in the message (e.g. ``TEXTS[2]``).
    """
    if not text.strip():
        what = "empty" if not text else "only whitespace"
        raise DataError(f"{where} is {what}: give the text to translate")
    index = {symbol: i for i, symbol in enumerate(vocabulary) if len(symbol) == 1}
    unknown = sorted({c for c in text if c not in index})
    if unknown:
        known = "".join(sorted(index))
        raise DataError(f"{where} {_shown(text)} has characters the model does not know: "
                        f"{_shown(''.join(unknown))}; it knows {_shown(known, 80)}")
    if length is not None and len(text) > length:
        shown = _shown(text) if len(text) <= 40 else f"{text[:40]!r}…"
        raise DataError(f"{where} {shown} is {len(text)} characters; the model reads at "
                        f"most {length}")
    ids = [index[c] for c in text]
    if length is not None:
        ids += [0] * (length - len(text))
    return np.asarray([ids], dtype="int32")


def translate(inference_model: Any, texts: list[str], in_vocab: list[str], out_vocab: list[str],
              stop_id: int, wheres: list[str] | None = None) -> list[Translation]:
    """Greedy-decode each text with the inference graph (tokens, attention).

    An encoder input of variable length (shape ``[null]``) is padded to the
    longest of ``texts``. ``wheres`` names each text in error messages
    (default ``TEXTS[i]``, as on the command line).
    """
    static = inference_model.inputs[0].shape[1]
    length = int(static) if static is not None else max(len(t) for t in texts)
    if wheres is None:
        wheres = (["the input"] if len(texts) == 1
                  else [f"TEXTS[{i + 1}]" for i in range(len(texts))])
    batch = np.concatenate([
        encode(text, in_vocab, length, where) for text, where in zip(texts, wheres, strict=True)
    ])
    tokens, attention = inference_model.predict(batch, verbose=0)
    results = []
    for text, ids, alpha in zip(texts, tokens, attention, strict=False):
        out = []
        for token in ids:
            if int(token) in (0, stop_id):
                break
            out.append(out_vocab[int(token)])
        steps = max(len(out), 1)
        results.append(Translation(text, "".join(out), list(text), out,
                                   np.asarray(alpha)[:steps, : len(text)]))
    return results


def plot_attention(translation: Translation, path: Path) -> None:
    """Heat-map of the attention weights: output characters × input characters.

    The picture is written atomically (a failed write leaves no partial file).
    """
    from compiler.figures import new_figure, save_figure

    alpha = np.asarray(translation.attention, dtype=float)
    if alpha.ndim != 2 or alpha.size == 0:
        alpha = np.zeros((max(len(translation.output_tokens), 1),
                          max(len(translation.source_tokens), 1)))
    fig = new_figure(min(max(4, 0.35 * alpha.shape[1] + 1.5), 40),
                     min(max(3, 0.35 * alpha.shape[0] + 1.2), 40))
    ax = fig.subplots()
    image = ax.imshow(alpha, cmap="viridis", aspect="auto", vmin=0, vmax=max(alpha.max(), 1e-6))
    ax.set_xticks(range(len(translation.source_tokens)))
    ax.set_xticklabels([c if c != " " else "␣" for c in translation.source_tokens], fontsize=8)
    # An empty output still has one row: the step that produced <stop>.
    ax.set_yticks(range(len(translation.output_tokens) or 1))
    ax.set_yticklabels(translation.output_tokens or ["<stop>"], fontsize=8)
    ax.set_xlabel("input")
    ax.set_ylabel("output")
    ax.set_title(f"{_shown(translation.source)} → {_shown(translation.output)}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention α")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(path, fig, dpi=120, tight=True)


@dataclass
class Translator:
    """A trained encoder–decoder ready to run: its inference graph and vocabularies."""

    folder: ModelFolder
    spec: Any
    inference: Any  # greedy decoding, the graph the export writes
    output_names: list[str]
    input_vocabulary: list[str] | None
    output_vocabulary: list[str] | None
    stop_id: int | None


def is_sequence_to_sequence(target: str | Path) -> bool:
    """Whether ``target`` (a model folder or a .keras file in one) holds an encoder–decoder."""
    from compiler.build.graph import decoder_entry
    from compiler.errors import NNCompileError

    path = Path(target)
    folder = ModelFolder(path.parent if path.suffix == ".keras" else path)
    if not folder.resolved_spec_file.is_file():
        return False
    try:
        return decoder_entry(folder.resolved_spec()) is not None
    except NNCompileError:
        return False  # the verb itself reports what is wrong with the folder


def load_translator(path: Path, *, allow_outside: bool = False, need_text: bool = True
                    ) -> Translator:
    """The encoder–decoder of a saved_models/<name>/ folder (or a .keras file in one).

    The vocabularies come from metadata.json, else from the spec's data (a
    folder written without them).

    Raises:
        ModelFileError: not a model folder, not an encoder–decoder, or (with
            ``need_text``) no vocabularies can be found.
    """
    from compiler.build.graph import build_inference_model, decoder_entry

    path = Path(path)
    folder = ModelFolder(path.parent if path.suffix == ".keras" else path)
    if not folder.exists():
        raise ModelFileError(f"'{path}' is not a model folder (expected saved_models/<name>/)")
    spec = folder.resolved_spec()
    if decoder_entry(spec) is None:
        raise ModelFileError(f"'{path}' is not an encoder–decoder model "
                             "(its spec has no attention_decoder)")
    model = folder.load_model()
    inference, names = build_inference_model(spec, model)
    preprocessing, missing = folder.preprocessing(allow_outside=allow_outside)
    if "input_vocabulary" not in preprocessing:
        if need_text:
            if missing:
                raise ModelFileError(
                    f"'{path}' has no vocabularies in metadata.json, and the training data "
                    f"that give them cannot be read: {missing}")
            vocabularies(preprocessing)  # says which key is missing
        return Translator(folder, spec, inference, list(names), None, None, None)
    in_vocab, out_vocab, stop_id = vocabularies(preprocessing)
    return Translator(folder, spec, inference, list(names), in_vocab, out_vocab, stop_id)


def read_texts(path: Path, input_name: str) -> tuple[list[str], list[str]]:
    """The texts of a .txt file (one per line) or a .csv file, and where each is.

    A CSV has one column, or a header row naming the column ``text`` or the
    encoder's input; a header of one such name is skipped. Blank lines are
    skipped (and counted, so line numbers match an editor's).

    Raises:
        DataError: not UTF-8, no texts, or a CSV whose text column cannot be told.
    """
    import csv
    import io

    from compiler.data.readers.csv_reader import read_utf8
    from compiler.errors import Location

    shown = str(path)
    content = read_utf8(path, shown)
    if path.suffix == ".txt":
        rows = [(n, line) for n, line in enumerate(content.splitlines(), start=1) if line.strip()]
    else:
        try:
            rows = csv.reader(io.StringIO(content, newline=""))
            table = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
        except csv.Error as err:
            raise DataError(f"cannot read as CSV: {err}", Location(shown)) from None
        column = 0
        if table:
            header = [cell.strip() for cell in table[0][1]]
            named = [i for i, cell in enumerate(header) if cell in ("text", input_name)]
            if named:
                column, table = named[0], table[1:]
            elif len(header) > 1:
                raise DataError(
                    f"the file has {len(header)} columns; name the one to translate `text` "
                    f"(or '{input_name}') in a header row", Location(shown, table[0][0]))
        rows = []
        for line, row in table:
            if len(row) <= column:
                raise DataError(f"row has {len(row)} fields; the text is field {column + 1}",
                                Location(shown, line))
            rows.append((line, row[column]))
    if not rows:
        raise DataError("the file holds no texts; expected one per line", Location(shown))
    return [text for _, text in rows], [f"{shown}:{line}:" for line, _ in rows]


def predict_sequences(target: str | Path, input_path: str | Path, output_path: str | Path, *,
                      allow_outside: bool = False) -> int:
    """`nncompile predict` on an encoder–decoder: greedy decoding, as its export runs it.

    Inputs: texts (.txt, one per line, or .csv) for a model trained on text,
    or the encoder's token ids (.npy, or .npz with one array named as the
    encoder input). Outputs: .csv (the input text and the decoded text; token
    ids for id inputs), .npy (the decoded token ids) or .npz (the ids and the
    attention weights, under the inference graph's output names).

    Returns:
        The number of examples predicted.
    """
    from compiler.data.files import prepare_output, write_failed
    from compiler.errors import Location, UsageError

    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.suffix not in (".csv", ".npy", ".npz"):
        raise UsageError(f"--output must be one of .csv, .npy, .npz, got '{output_path.name}'")
    if input_path.suffix not in (".txt", ".csv", ".npy", ".npz"):
        raise UsageError(f"--input must be one of .txt, .csv, .npy, .npz, got '{input_path.name}'")
    prepare_output(output_path, create=False)  # fail before the model is loaded and run
    text_input = input_path.suffix in (".txt", ".csv")
    translator = load_translator(Path(target), allow_outside=allow_outside, need_text=text_input)
    input_name = translator.inference.inputs[0].name.split(":")[0]
    sources: list[str] | None = None
    if text_input:
        sources, wheres = read_texts(input_path, input_name)
        results = translate(translator.inference, sources, translator.input_vocabulary,
                            translator.output_vocabulary, translator.stop_id, wheres)
        static = translator.inference.inputs[0].shape[1]
        length = int(static) if static is not None else max(len(s) for s in sources)
        ids = np.concatenate([encode(s, translator.input_vocabulary, length, w)
                              for s, w in zip(sources, wheres, strict=True)])
    else:
        from compiler.data.readers.arrays import NpzArchive, load_npy

        shown = str(input_path)
        if input_path.suffix == ".npy":
            ids = load_npy(input_path, shown)
        else:
            with NpzArchive(input_path, shown) as archive:
                keys = archive.keys
                key = input_name if input_name in keys else keys[0] if len(keys) == 1 else None
                if key is None:
                    raise DataError(f"no array '{input_name}' for the encoder input; the file has "
                                    f"{', '.join(keys) or 'none'}", Location(shown))
                ids = archive.load(key)
        if ids.ndim != 2 or ids.dtype.kind not in "iu" or len(ids) == 0:
            raise DataError(f"expected token ids of shape (examples, steps) as integers, got "
                            f"shape {tuple(ids.shape)} of {ids.dtype}", Location(shown))
        results = None
    tokens, attention = translator.inference.predict(ids.astype("int32"), verbose=0)
    names = translator.output_names
    prepare_output(output_path)
    try:
        _write_sequences(output_path, names, tokens, attention, sources, results, translator)
    except OSError as err:
        raise write_failed(output_path, err) from None
    return len(tokens)


def _write_sequences(path: Path, names: list[str], tokens, attention, sources, results,
                     translator: Translator) -> None:
    import csv
    import io

    from compiler.atomic import write_text_atomic, write_with

    if path.suffix == ".npy":
        write_with(path, lambda tmp: np.save(tmp, np.asarray(tokens)))
        return
    if path.suffix == ".npz":
        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, **{names[0]: np.asarray(tokens), names[1]: np.asarray(attention)})

        write_with(path, save)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if results is not None:
        writer.writerow(["text", names[0]])
        for result in results:
            writer.writerow([result.source, result.output])
    else:
        steps = np.asarray(tokens).shape[1]
        writer.writerow([f"{names[0]}_{i}" for i in range(steps)])
        for row in np.asarray(tokens):
            writer.writerow([str(int(v)) for v in row])
    write_text_atomic(path, buffer.getvalue())
