"""The non-label caption words that the language and steering protocols score: chosen by how
many images they are relevant to, never by how well they score."""

from __future__ import annotations

from collections.abc import Sequence

from ..captions import caption_word_sets
from ..metrics import MIN_CAPTIONS
from ..text import STOP_WORDS, naming_words, word_forms

CAPTION_WORDS = 30  # how many non-label caption words the default list holds


def default_caption_words(
    captions: Sequence[Sequence[str]],
    labels: Sequence[str],
    known: set | None = None,
    count: int = CAPTION_WORDS,
) -> list[str]:
    """The `count` content words that are relevant to the most images, chosen by frequency alone
    (never by how well they score): no stop words, no word that names a class (label words,
    synonyms such as "couch" or "plane", ambiguous ones such as "bike"), 3+ letters, and known
    to the word vectors when `known` is given."""
    word_sets, vocabulary = caption_word_sets(captions)
    label_words = word_forms(naming_words(labels), vocabulary)
    counts: dict[str, int] = {}
    for caps in word_sets:
        seen: dict[str, int] = {}
        for s in caps:
            for w in s:
                seen[w] = seen.get(w, 0) + 1
        for w, n in seen.items():
            if n >= MIN_CAPTIONS:
                counts[w] = counts.get(w, 0) + 1
    candidates = [
        w
        for w in counts
        if len(w) >= 3 and w not in STOP_WORDS and w not in label_words and (known is None or w in known)
    ]
    return sorted(candidates, key=lambda w: (-counts[w], w))[:count]
