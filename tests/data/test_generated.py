"""Generated tasks: shapes, determinism by seed, and targets checked independently."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from compiler.data.builtin import load_builtin
from compiler.data.generated import generate
from compiler.data.generated.seq2seq import DATE_MAX_LENGTH
from compiler.data.schema import GenerateSource
from compiler.data.vocabulary import CharVocabulary

TASKS = ["adding", "parity", "tagging", "dates", "addition", "digit_pairs", "char_text"]


def make(task: str, samples: int = 200, seed: int = 1, **options):
    return generate(GenerateSource(task=task, samples=samples, seed=seed, **options))


@pytest.mark.parametrize("task", TASKS)
def test_same_seed_same_examples_other_seed_others(task):
    first, again, other = make(task), make(task), make(task, seed=2)
    for name in first.inputs:
        np.testing.assert_array_equal(first.inputs[name], again.inputs[name])
        assert not np.array_equal(first.inputs[name], other.inputs[name])
    for name in first.targets:
        np.testing.assert_array_equal(first.targets[name], again.targets[name])
    assert len(first) == 200


def test_adding_target_is_the_sum_of_the_two_marked_values():
    data = make("adding", samples=300, length=30)
    sequence, total = data.inputs["sequence"], data.targets["sum"]
    assert sequence.shape == (300, 30, 2) and total.shape == (300, 1)
    assert np.all((sequence[..., 1] == 1).sum(axis=1) == 2)
    assert set(np.unique(sequence[..., 1])) == {0.0, 1.0}
    for values, markers, expected in zip(sequence[..., 0], sequence[..., 1], total[:, 0],
                                         strict=True):
        assert values[markers == 1].sum() == pytest.approx(expected, abs=1e-5)
    assert data.task == "regression"


def test_parity_counts_one_bits_and_pads_with_zero():
    data = make("parity", samples=300, length=12)
    bits, parity = data.inputs["bits"], data.targets["parity"]
    assert bits.shape == (300, 12) and set(np.unique(bits)) <= {0, 1, 2}
    lengths = (bits != 0).sum(axis=1)
    assert lengths.min() >= 1 and len(set(lengths)) > 5
    for row, label in zip(bits, parity, strict=False):
        kept = row[row != 0]
        assert np.all(row[len(kept):] == 0)  # post padding: real bits first
        assert label == int(np.sum(kept == 2)) % 2
    assert 0.35 < parity.mean() < 0.65 and data.class_names == ["even", "odd"]


def test_parity_pre_padding_and_cutting():
    data = make("parity", samples=100, length=12, max_length=6, padding="pre")
    bits = data.inputs["bits"]
    assert bits.shape == (100, 6)
    for row, label in zip(bits, data.targets["parity"], strict=False):
        real = np.flatnonzero(row)
        assert np.all(real == np.arange(6 - len(real), 6))  # zeros first
        assert label == int(np.sum(row == 2)) % 2


def test_tagging_marks_tokens_greater_than_both_neighbours():
    data = make("tagging", samples=100, length=15)
    tokens, tags = data.inputs["tokens"], data.targets["tags"]
    assert tokens.shape == tags.shape == (100, 15)
    assert tokens.min() >= 1 and tokens.max() <= 9
    for row, row_tags in zip(tokens, tags, strict=True):
        for t in range(15):
            left = row[t - 1] if t > 0 else 0
            right = row[t + 1] if t < 14 else 0
            assert row_tags[t] == int(row[t] > left and row[t] > right)
    assert data.task == "sequence_labeling" and 0.1 < tags.mean() < 0.6


def _parse_date(text: str) -> datetime.date:
    """An independent reader of the written forms (strptime, not the generator's code)."""
    for pattern in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y", "%m/%d/%Y", "%d %B %Y",
                    "%A, %B %d, %Y", "%B %d, %Y", "%b %d, %Y", "%a %d %b %Y", "%m/%d/%y"]:
        try:
            parsed = datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if pattern.endswith("%y") and parsed.year > 2049:
            parsed = parsed.replace(year=parsed.year - 100)  # the task reads yy as 1950..2049
        if "%A" in pattern or "%a" in pattern:
            assert parsed.strftime("%A").startswith(text[:3])
        return parsed
    raise AssertionError(f"unreadable date {text!r}")


def test_dates_target_is_the_iso_date_of_the_input():
    data = make("dates", samples=400)
    meta = data.metadata
    source = CharVocabulary(meta["input_vocabulary"][1:])
    target = CharVocabulary(meta["output_vocabulary"][1:-2], extra=["<start>", "<stop>"])
    assert target.tokens == meta["output_vocabulary"]
    enc, dec_in = data.inputs["encoder_input"], data.inputs["decoder_input"]
    dec_out = data.targets["decoder_target"]
    assert enc.shape == (400, DATE_MAX_LENGTH) and dec_in.shape == dec_out.shape == (400, 11)
    start, stop = meta["start_id"], meta["stop_id"]
    assert np.all(dec_in[:, 0] == start) and np.all(dec_out[:, -1] == stop)
    np.testing.assert_array_equal(dec_in[:, 1:], dec_out[:, :-1])  # teacher forcing shift
    written = {source.decode(row) for row in enc}
    assert len({len(w) for w in written}) >= 5  # many formats
    for row, out in zip(enc, dec_out, strict=True):
        text, iso = source.decode(row), target.decode(out, stop=stop)
        assert _parse_date(text).isoformat() == iso


def test_addition_target_is_the_sum():
    data = make("addition", samples=300, length=3)
    meta = data.metadata
    source = CharVocabulary(meta["input_vocabulary"][1:])
    target = CharVocabulary("0123456789", extra=["<start>", "<stop>"])
    assert data.inputs["encoder_input"].shape == (300, 7)
    assert data.targets["decoder_target"].shape == (300, 5)
    for row, out in zip(data.inputs["encoder_input"], data.targets["decoder_target"],
                        strict=True):
        left, right = source.decode(row).split("+")
        assert int(target.decode(out, stop=meta["stop_id"])) == int(left) + int(right)
        assert meta["stop_id"] in out


def test_digit_pairs_are_balanced_and_labelled_by_class():
    data = make("digit_pairs", samples=200)
    digits = load_builtin("digits")
    label_of = {img.tobytes(): lab
                for img, lab in zip(digits.inputs["image"], digits.targets["label"], strict=False)}
    a, b, same = data.inputs["image_a"], data.inputs["image_b"], data.targets["same"][:, 0]
    assert a.shape == b.shape == (200, 8, 8, 1) and same.sum() == 100
    for left, right, flag in zip(a, b, same, strict=False):
        assert not np.array_equal(left, right)
        assert (label_of[left.tobytes()] == label_of[right.tobytes()]) == bool(flag)


def test_char_text_windows_predict_the_next_character():
    data = make("char_text", samples=500, length=20)
    chars, nxt = data.inputs["chars"], data.targets["next_char"]
    assert chars.shape == (500, 20) and chars.min() >= 1
    np.testing.assert_array_equal(chars[1:, -1], nxt[:-1])  # overlapping windows, step 1
    vocab = data.metadata["vocabulary"]
    assert vocab == make("char_text", seed=9).metadata["vocabulary"]  # ids do not depend on seed
    text = "".join(vocab[i] for i in chars[0])
    assert text[0].isupper() and data.num_classes == len(vocab)
