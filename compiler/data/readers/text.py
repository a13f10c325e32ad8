"""Reading a text file as characters: next-character windows or labelled lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.data.raw import RawData
from compiler.data.schema import TextSource
from compiler.data.sequences import fit_length
from compiler.data.vocabulary import CharVocabulary
from compiler.errors import DataError, Location


def read_text_file(path: Path, shown_name: str) -> str:
    """The file's text; a DataError if it is not UTF-8 or is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text (byte {err.object[err.start]:#04x})", Location(shown_name, line)
        ) from None
    if not text.strip():
        raise DataError("the file is empty; expected text", Location(shown_name))
    return text


def next_char_windows(
    text: str, window: int, step: int, vocab: CharVocabulary, origin: str
) -> RawData:
    """Windows of ``window`` characters (input `chars`), each predicting the next one."""
    if len(text) <= window:
        raise DataError(
            f"the text has {len(text)} characters, too few for windows of {window} "
            "plus the character to predict; lower `max_length`",
            Location(origin),
        )
    ids = vocab.encode(text)
    starts = np.arange(0, len(ids) - window, step)
    chars = np.stack([ids[s : s + window] for s in starts]).astype(np.int32)
    return RawData(
        inputs={"chars": chars},
        targets={"next_char": ids[starts + window].astype(np.int32)},
        task="classification",
        class_names=list(vocab.tokens),
        num_classes=vocab.size,
        metadata={"vocabulary": list(vocab.tokens), "pad_id": 0, "window": window},
    )


def read_text(
    path: Path, options: TextSource, shown_name: str, training: RawData | None = None
) -> RawData:
    """Read ``path`` in the `mode` the spec gives.

    Args:
        path: the resolved file.
        options: the `text:` section.
        shown_name: how messages name the file.
        training: what the training file gave, whose vocabulary, classes and
            length a validation or test file must reuse; None for the training file.

    Raises:
        DataError: empty or non-UTF-8 file, a labelled line without a tab, a
            character or label the training file lacks.
    """
    text = read_text_file(path, shown_name)
    vocab = CharVocabulary(text)
    if training is not None:
        vocab = CharVocabulary(training.metadata["vocabulary"][1:])
        _check_known(text, vocab, shown_name)
    if options.mode == "next_char":
        window = options.max_length or 40
        return next_char_windows(text, window, options.step, vocab, shown_name)
    labels, lines, origins = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataError(
                "expected `label<TAB>text`, found no tab", Location(shown_name, number)
            )
        label, _, body = line.partition("\t")
        if not label.strip():
            raise DataError(
                "the label before the tab is empty; expected `label<TAB>text`",
                Location(shown_name, number, 1),
            )
        labels.append(label.strip())
        lines.append(body)
        origins.append(f"{shown_name}:{number}")
    if training is None:
        vocab = CharVocabulary("".join(lines))
        class_names = sorted(set(labels))
        if len(class_names) == 1:
            raise DataError(
                f"every line is labelled {class_names[0]!r}: a classifier needs examples of "
                "two or more classes",
                Location(shown_name),
            )
        max_length = options.max_length
    else:
        class_names = training.class_names
        max_length = training.metadata["max_length"]
        for label, origin in zip(labels, origins, strict=True):
            if label not in class_names:
                raise DataError(
                    f"label {label!r} does not occur in the training file; "
                    f"known: {', '.join(class_names)}",
                    Location(*origin.rsplit(":", 1)[:1], int(origin.rsplit(":", 1)[1])),
                )
    encoded = fit_length(
        [vocab.encode(line) for line in lines],
        max_length,
        padding=options.padding,
        truncating=options.truncating,
    )
    return RawData(
        inputs={"text": encoded},
        targets={"label": np.array([class_names.index(x) for x in labels], dtype=np.int32)},
        task="classification",
        class_names=class_names,
        num_classes=len(class_names),
        metadata={"vocabulary": list(vocab.tokens), "pad_id": 0, "max_length": encoded.shape[1]},
        origins=origins,
    )


def _check_known(text: str, vocab: CharVocabulary, shown_name: str) -> None:
    """A character the training file lacks has no id: name where it is."""
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        for col, char in enumerate(line, start=1):
            if char not in vocab:
                raise DataError(
                    f"character {char!r} does not occur in the training file",
                    Location(shown_name, number, col),
                )
