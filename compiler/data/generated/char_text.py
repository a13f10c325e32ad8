"""A character language-model corpus generated from a small English grammar."""

from __future__ import annotations

import numpy as np

from compiler.data.raw import RawData
from compiler.data.readers.text import next_char_windows
from compiler.data.schema import GenerateSource
from compiler.data.vocabulary import CharVocabulary

DETERMINERS = ["the", "a", "every", "one"]
ADJECTIVES = ["small", "quiet", "red", "old", "clever", "lazy", "bright"]
NOUNS = ["cat", "dog", "bird", "child", "farmer", "river", "robot", "teacher"]
VERBS = ["sees", "follows", "likes", "finds", "helps", "watches"]
ADVERBS = ["slowly", "today", "again", "quietly"]


def _noun_phrase(rng: np.random.Generator) -> list[str]:
    words = [DETERMINERS[rng.integers(len(DETERMINERS))]]
    if rng.random() < 0.5:
        words.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
    words.append(NOUNS[rng.integers(len(NOUNS))])
    return words


def sentence(rng: np.random.Generator) -> str:
    """One sentence: noun phrase, verb, noun phrase, sometimes an adverb, a full stop."""
    words = _noun_phrase(rng) + [VERBS[rng.integers(len(VERBS))]] + _noun_phrase(rng)
    if rng.random() < 0.3:
        words.append(ADVERBS[rng.integers(len(ADVERBS))])
    text = " ".join(words) + "."
    return text[0].upper() + text[1:]


ALPHABET = "".join(
    sorted(set(" ".join(DETERMINERS + ADJECTIVES + NOUNS + VERBS + ADVERBS) + "ATEO. \n"))
)


def char_text(options: GenerateSource) -> RawData:
    """Windows of `length` characters (default 40) of generated text → the next character.

    Sentences are joined by spaces, with a line break after every fifth. The
    vocabulary is fixed by the grammar, so ids do not depend on the seed.

    Produces input ``chars`` (length,) and target ``next_char`` ().
    """
    window = options.length or options.max_length or 40
    rng = np.random.default_rng(options.seed)
    pieces, size, count = [], 0, 0
    while size < options.samples + window:
        count += 1
        piece = sentence(rng) + ("\n" if count % 5 == 0 else " ")
        pieces.append(piece)
        size += len(piece)
    text = "".join(pieces)[: options.samples + window]
    data = next_char_windows(text, window, 1, CharVocabulary(ALPHABET), "char_text")
    data.metadata["corpus"] = "generated grammar"
    return data
