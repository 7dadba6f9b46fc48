"""Word search: the words nearest to a word (or to several), over gensim KeyedVectors.

Exact, by gensim's own `most_similar` over the most frequent words: a product of 100k short
vectors with one query, a few milliseconds, so no approximate index is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .text import WordQuery, label_vector, mean_unit, query_vector

#: Only the most frequent words are candidates: GloVe's 400k vocabulary is mostly rare names,
#: typos and foreign words that make poor neighbours. Query words may still be rare ones.
WORD_SEARCH_VOCAB = 100_000


def _query_words(kv, word_or_words: str | Sequence[str] | WordQuery) -> WordQuery:
    if isinstance(word_or_words, WordQuery):
        return word_or_words
    if isinstance(word_or_words, str):
        return query_vector(kv, word_or_words)
    return query_vector(kv, " ".join(word_or_words))


def similar_words(
    kv, word_or_words: str | Sequence[str] | WordQuery, k: int = 10, *, cap: int = WORD_SEARCH_VOCAB
) -> list[tuple[str, float]]:
    """The `k` words nearest (by cosine) to the mean of the given words (gensim KeyedVectors).

    Candidates are the `cap` most frequent words; query words themselves are left out; unknown
    query words and stop words are ignored (use :func:`~imagesearch.text.query_vector` first to
    report them).
    """
    query = _query_words(kv, word_or_words)
    found = kv.most_similar(positive=[query.vector], topn=k + len(query.known), restrict_vocab=cap)
    return [(word, score) for word, score in found if word not in query.known][:k]


def word_neighbourhoods(kv, seeds: Sequence[str], k: int = 8) -> tuple[list[str], list[str], np.ndarray]:
    """Seeds and their `k` nearest words, ready for a labelled map of the word space.

    Returns (texts, groups, unit vectors): the seeds (words or multi-word labels such as
    "tv monitor", placed at :func:`~imagesearch.text.label_vector`), then each seed's neighbours
    from :func:`similar_words`, every text grouped (coloured) by its seed. A word near several
    seeds appears once, with the first, and a seed that is another seed's neighbour ("dog" near
    "cat") stays in its own group; a seed with an unknown word raises
    :class:`~imagesearch.text.UnknownWordError`, since a map silently missing a class would mislead.
    """
    unique = list(dict.fromkeys(seeds))
    texts, groups = list(unique), list(unique)
    vectors = [label_vector(kv, seed) for seed in unique]
    for seed in unique:
        for word, _ in similar_words(kv, seed, k):
            if word not in texts:
                texts.append(word)
                groups.append(seed)
                vectors.append(mean_unit(kv, [word]))
    return texts, groups, np.stack(vectors).astype(np.float32)
