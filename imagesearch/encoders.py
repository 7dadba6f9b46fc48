"""Text encoders: how a text query becomes a vector in a joint index's word space.

An encoder meets `TextEncoder`; the registry maps the name a joint index records as its word
vectors ("word_vectors", e.g. glove-6b-50d) to a factory, exactly or by family prefix
("glove-"). GloVe is the one today: the mean of the query's content words' unit vectors
(text.query_vector), read from the memory-mapped word table, without gensim. A sentence
encoder is one class plus one `register_text_encoder` call; the joint model must then be
trained towards its vectors (targets.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .text import WordQuery, query_vector


class TextEncoder(Protocol):
    name: str
    dim: int

    def query(self, text: str) -> WordQuery:
        """The query's unit vector, with the words it used and those it could not (unknown)."""


class GloveEncoder:
    """GloVe: a query is the mean of its content words' vectors (stop words left out)."""

    def __init__(self, name: str):
        from .glove import load_word_table

        self.name = name
        self.table = load_word_table(name, progress=False)
        self.dim = int(self.table.vector_size)

    def query(self, text: str) -> WordQuery:
        return query_vector(self.table, text)


TEXT_ENCODERS: dict[str, Callable[[str], TextEncoder]] = {}


def register_text_encoder(name: str, factory: Callable[[str], TextEncoder]) -> None:
    """`factory(name)` serves word vectors `name`, or (a name ending in "-") every name that
    starts with it."""
    TEXT_ENCODERS[name] = factory


register_text_encoder("glove-", GloveEncoder)


def text_encoder(name: str) -> TextEncoder:
    """The encoder of word vectors `name`: an exact registry entry, else its family's."""
    if name in TEXT_ENCODERS:
        return TEXT_ENCODERS[name](name)
    family = next((f for f in TEXT_ENCODERS if f.endswith("-") and name.startswith(f)), None)
    if family is None:
        from .storage import ImageSearchError

        raise ImageSearchError(
            f"no text encoder for word vectors {name!r}: registered are {', '.join(TEXT_ENCODERS)}."
        )
    return TEXT_ENCODERS[family](name)
