"""Sequence-to-sequence tasks: reading dates, adding numbers written as text.

Both use one layout: the encoder reads the source characters; the decoder is
trained with teacher forcing, reading ``<start>`` followed by the target
characters (``decoder_input``) and predicting the target characters followed
by ``<stop>`` (``decoder_target``). Id 0 pads every sequence.
"""

from __future__ import annotations

import datetime

import numpy as np

from compiler.data.raw import RawData
from compiler.data.schema import GenerateSource
from compiler.data.sequences import fit_length
from compiler.data.vocabulary import CharVocabulary

START, STOP = "<start>", "<stop>"
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]  # fmt: skip
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Two-digit years are read as 1950..2049, so dates are drawn from that range
# and every written form names exactly one date.
FIRST_DATE, LAST_DATE = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
DATE_MAX_LENGTH = len("Wednesday, September 30, 2049")


def _date_formats(d: datetime.date) -> list[str]:
    """The written forms of ``d`` (one of them is chosen per example)."""
    month, day = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    yy = f"{d.year % 100:02d}"
    return [
        f"{d.day} {month} {d.year}",  # 3 May 1979
        f"{d.day} {month.lower()} {d.year}",  # 3 may 1979
        f"{d.month:02d}/{d.day:02d}/{yy}",  # 05/03/79 (month first)
        f"{d.month}/{d.day}/{d.year}",  # 5/3/1979
        f"{day}, {month} {d.day}, {d.year}",  # Thursday, May 3, 1979
        f"{month} {d.day}, {d.year}",  # May 3, 1979
        f"{month[:3]} {d.day:02d}, {d.year}",  # May 03, 1979
        f"{day[:3]} {d.day:02d} {month[:3]} {d.year}",  # Thu 03 May 1979
        f"{d.day:02d}.{d.month:02d}.{d.year}",  # 03.05.1979 (day first)
        d.isoformat(),  # 1979-05-03
        f"{d.year}{d.month:02d}{d.day:02d}",  # 19790503
        f"{d.year}/{d.month:02d}/{d.day:02d}",  # 1979/05/03
    ]


DATE_INPUT_CHARS = "".join(
    sorted(set("".join(MONTHS + WEEKDAYS) + "".join(MONTHS).lower() + "0123456789 ,/.-"))
)


def dates(options: GenerateSource) -> RawData:
    """Human-readable dates → ISO 8601 (``"Thursday, May 3, 1979"`` → ``"1979-05-03"``).

    Dates are uniform over 1950-01-01..2049-12-31; the written form is chosen
    uniformly among twelve formats. ``max_length`` (default 29, the longest
    form) fixes the encoder length.
    """
    rng = np.random.default_rng(options.seed)
    span = (LAST_DATE - FIRST_DATE).days + 1
    offsets = rng.integers(0, span, size=options.samples)
    choices = rng.integers(0, len(_date_formats(FIRST_DATE)), size=options.samples)
    written, iso = [], []
    for offset, choice in zip(offsets, choices, strict=True):
        day = FIRST_DATE + datetime.timedelta(days=int(offset))
        written.append(_date_formats(day)[choice])
        iso.append(day.isoformat())
    return _seq2seq(
        written,
        iso,
        CharVocabulary(DATE_INPUT_CHARS),
        CharVocabulary("0123456789-", extra=[START, STOP]),
        options.max_length or DATE_MAX_LENGTH,
        len("1979-05-03") + 1,
        options,
    )


def addition(options: GenerateSource) -> RawData:
    """Sums written as text: ``"12+345"`` → ``"357"``.

    Each operand has up to `length` digits (default 3), drawn uniformly in
    0..10**length - 1. The encoder length is 2·length+1 and the decoder length
    length+2 (the longest sum plus the start or stop token).
    """
    digits = options.length or 3
    rng = np.random.default_rng(options.seed)
    a = rng.integers(0, 10**digits, size=options.samples)
    b = rng.integers(0, 10**digits, size=options.samples)
    return _seq2seq(
        [f"{x}+{y}" for x, y in zip(a, b, strict=True)],
        [str(x + y) for x, y in zip(a, b, strict=True)],
        CharVocabulary("0123456789+"),
        CharVocabulary("0123456789", extra=[START, STOP]),
        options.max_length or 2 * digits + 1,
        digits + 2,
        options,
    )


def _seq2seq(
    sources: list[str],
    targets: list[str],
    in_vocab: CharVocabulary,
    out_vocab: CharVocabulary,
    encoder_length: int,
    decoder_length: int,
    options: GenerateSource,
) -> RawData:
    start, stop = out_vocab.id(START), out_vocab.id(STOP)
    encoded_targets = [out_vocab.encode(text) for text in targets]
    return RawData(
        inputs={
            "encoder_input": fit_length(
                [in_vocab.encode(text) for text in sources],
                encoder_length,
                padding=options.padding,
                truncating=options.truncating,
            ),
            "decoder_input": fit_length(
                [np.concatenate([[start], ids]) for ids in encoded_targets], decoder_length
            ),
        },
        targets={
            "decoder_target": fit_length(
                [np.concatenate([ids, [stop]]) for ids in encoded_targets], decoder_length
            )
        },
        task="seq2seq",
        class_names=list(out_vocab.tokens),
        num_classes=out_vocab.size,
        metadata={
            "input_vocabulary": list(in_vocab.tokens),
            "output_vocabulary": list(out_vocab.tokens),
            "start_id": start,
            "stop_id": stop,
            "pad_id": 0,
            "max_input_length": encoder_length,
            "max_output_length": decoder_length,
        },
    )
