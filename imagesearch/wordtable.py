"""The word table: converted word vectors as plain arrays, read without gensim.

A text query needs a few words' rows and their vectors, nothing more; importing gensim for
that costs about a second (scipy.stats), and splitting the vocabulary into a 400k-entry list
and dict took another 0.2-0.9 s per process on the 2-core machine. So the vocabulary stays one
bytes object, searched in place, and the vectors stay the memory-mapped .npy that gensim saved
(see :mod:`imagesearch.glove`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property

import numpy as np


class _Words(Sequence):
    """The word list file (one word a line, in row order) as a read-only sequence of words."""

    def __init__(self, data: bytes):
        self._data = b"\n" + data  # every word is b"\n" + word + b"\n"

    @cached_property
    def _starts(self) -> np.ndarray:
        return np.flatnonzero(np.frombuffer(self._data, np.uint8) == 10)[:-1] + 1

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        start = int(self._starts[i])
        return self._data[start : self._data.index(b"\n", start)].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        start = 1
        while (end := self._data.find(b"\n", start)) >= 0:
            yield self._data[start:end].decode("utf-8")
            start = end + 1

    def row(self, word: str) -> int:
        """The row of `word`, or -1."""
        try:
            pos = self._data.find(b"\n" + word.encode("utf-8") + b"\n")
        except UnicodeEncodeError:
            return -1
        return -1 if pos < 0 else self._data.count(b"\n", 0, pos + 1) - 1


class _Rows(Mapping):
    """word -> row over :class:`_Words`, like KeyedVectors.key_to_index."""

    def __init__(self, words: _Words):
        self._words = words

    def __getitem__(self, word: str) -> int:
        row = self._words.row(word) if isinstance(word, str) else -1
        if row < 0:
            raise KeyError(word)
        return row

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


class WordTable:
    """A converted vector set as plain arrays: all a text query or a tag needs, without gensim.

    Has the attributes of gensim's KeyedVectors that the text functions use (`index_to_key`,
    `key_to_index`, `vectors`, `vector_size`), so either works with them.
    """

    def __init__(self, words: bytes, vectors: np.ndarray):
        self.index_to_key = _Words(words)
        self.key_to_index = _Rows(self.index_to_key)
        self.vectors = vectors

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def __contains__(self, word: str) -> bool:
        return word in self.key_to_index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.key_to_index[word]]
