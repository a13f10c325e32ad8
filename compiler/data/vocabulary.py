"""Character vocabularies: id 0 is padding, real characters start at 1."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class CharVocabulary:
    """A fixed list of characters with ids ``1..len(chars)``; 0 is reserved for padding.

    Extra tokens (start, stop) come after the characters, so their ids are
    stable for a given character list.

    Example:
        >>> vocab = CharVocabulary("ab", extra=["<start>"])
        >>> vocab.encode("ba").tolist(), vocab.id("<start>"), vocab.size
        ([2, 1], 3, 4)
    """

    def __init__(self, chars: Iterable[str], extra: Iterable[str] = ()):
        self.tokens: list[str] = ["<pad>", *sorted(set(chars)), *extra]
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    @property
    def size(self) -> int:
        """Number of ids, padding included (the `input_dim` of an embedding)."""
        return len(self.tokens)

    def id(self, token: str) -> int:
        """The id of one character or extra token."""
        return self._ids[token]

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text``."""
        return np.array([self._ids[c] for c in text], dtype=np.int32)

    def decode(self, ids: Iterable[int], stop: int | None = None) -> str:
        """Characters of ``ids``, skipping padding and ending at ``stop``."""
        out = []
        for i in ids:
            if stop is not None and int(i) == stop:
                break
            if int(i) != 0 and self.tokens[int(i)] not in ("<start>", "<stop>"):
                out.append(self.tokens[int(i)])
        return "".join(out)

    def __contains__(self, token: str) -> bool:
        return token in self._ids
