"""Text: words of queries and captions, and text queries as vectors.

One rule for each thing, used by the queries, the tags, the data set's caption statistics and
the evaluation: :data:`STOP_WORDS` (gensim's list less picture words, in wordlists.py so that a query
needs no gensim),
:func:`fold_plural` for word forms and :data:`CLASS_SYNONYMS` for the other names of a class.
The functions taking `kv` accept gensim KeyedVectors or a :class:`~imagesearch.glove.WordTable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .storage import ImageSearchError
from .wordlists import CLASS_SYNONYMS, GENSIM_STOP_WORDS, PICTURE_WORDS, STOP_WORDS  # noqa: F401 (re-exported)

_CAPTION_TOKEN = re.compile(r"[a-z]+")


class UnknownWordError(ImageSearchError):
    """Words not in the vocabulary, where a vector is needed for every word (or for at least one)."""

    def __init__(self, message: str, words: Sequence[str]):
        super().__init__(message)
        self.words = tuple(words)


class NoContentWordError(ImageSearchError):
    """A query of stop words only ("the a of"): nothing to search for."""


# -- word forms ---------------------------------------------------------------------------


def caption_tokens(caption: str) -> list[str]:
    """The lower-case words (runs of a-z) of a caption."""
    return _CAPTION_TOKEN.findall(caption.lower())


def fold_plural(word: str, vocabulary: Iterable[str]) -> str:
    """The singular of `word` when that is in `vocabulary`, else `word` itself.

    `dogs` -> `dog`, `buses` -> `bus`, `puppies` -> `puppy`; `grass`, `bus` and `sheep` stay as
    they are, and so does a plural whose singular the vocabulary does not hold.
    """
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        stems = [word[:-1]]
        if word.endswith("es"):
            stems.append(word[:-2])
        if word.endswith("ies"):
            stems.append(word[:-3] + "y")
        for stem in stems:
            if stem in vocabulary:
                return stem
    return word


def word_forms(tokens: Iterable[str], vocabulary: Iterable[str]) -> set[str]:
    """The tokens with plurals folded against `vocabulary` (:func:`fold_plural`), as a set."""
    return {fold_plural(t, vocabulary) for t in tokens}


#: Words that name one of several classes ("bike": a bicycle or a motorbike): no class's
#: synonym, but no "non-label" word either.
AMBIGUOUS_CLASS_WORDS = frozenset({"bike"})


def class_words(label: str) -> set[str]:
    """The words that name a class in a caption: its label's words and CLASS_SYNONYMS."""
    return set(label.lower().split()) | set(CLASS_SYNONYMS.get(label, ()))


def naming_words(labels: Iterable[str]) -> set[str]:
    """Every word that names one of the classes: labels' words, synonyms, ambiguous names."""
    return set().union(*(class_words(label) for label in labels)) | AMBIGUOUS_CLASS_WORDS


# -- text queries -------------------------------------------------------------------------

_SPLIT = re.compile(r"[\s,;/|+&]+")
_STRIP = "".join(sorted(set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…–—")))


def tokenize(text: str, vocabulary) -> list[str]:
    """Distinct lower-case words of `text`, in order, matched against `vocabulary` where it helps.

    Splits on whitespace and , ; / | + &; strips surrounding punctuation unless the word is known
    with it ("u.s."); splits on hyphens unless the hyphenated word is known ("t-shirt");
    drops a possessive 's. Tokens without a letter or digit (",", "--") are dropped.
    """
    out: list[str] = []
    for raw in _SPLIT.split(text.replace("’", "'").lower()):
        for token in _candidates(raw, vocabulary):
            if any(ch.isalnum() for ch in token):
                out.append(token)
    return list(dict.fromkeys(out))


def _candidates(raw: str, vocabulary) -> list[str]:
    if raw in vocabulary:
        return [raw]
    token = raw.strip(_STRIP)
    if token in vocabulary:
        return [token]
    if token.endswith("'s") and token[:-2] in vocabulary:
        return [token[:-2]]
    if "-" in token:
        return [part for piece in token.split("-") for part in _candidates(piece, vocabulary) if part]
    return [token] if token else []


def content_words(text: str, vocabulary) -> tuple[list[str], list[str]]:
    """(content words, stop words) of `text`: its tokens, split by :data:`STOP_WORDS`.

    A text that has words but only stop words is a :class:`NoContentWordError`.
    """
    tokens = tokenize(text, vocabulary)
    content = [t for t in tokens if t not in STOP_WORDS]
    if tokens and not content:
        raise NoContentWordError(
            f"{text!r} has no content word: {quoted(tokens)} are all stop words "
            "(like 'the', 'a', 'of'). Add a word that names what to find, e.g. 'dog'."
        )
    return content, [t for t in tokens if t in STOP_WORDS]


@dataclass(frozen=True)
class WordQuery:
    """A text query as a unit vector, with the words it used and those it left out."""

    vector: np.ndarray = field(compare=False, repr=False)
    known: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    stop_words: tuple[str, ...] = ()


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm < 1e-12:
        raise ImageSearchError(
            "These words cancel each other out (their vectors sum to zero); add or change a word."
        )
    return (v / norm).astype(np.float32)


def mean_unit(kv, words: Sequence[str], weights: Sequence[float] | None = None) -> np.ndarray:
    """Unit-norm (weighted) mean of unit vectors: each word counts equally, however long its raw
    vector, unless `weights` say otherwise."""
    rows = np.asarray(kv.vectors[[kv.key_to_index[w] for w in words]], dtype=np.float64)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    out = _unit(np.average(rows, axis=0, weights=weights))
    out.setflags(write=False)
    return out


def query_vector(kv, text: str) -> WordQuery:
    """The vector of a free-text query: its content words' mean; unknown words are skipped and
    reported in ``unknown``, stop words (same list as the tags) in ``stop_words``."""
    content, stop = content_words(text, kv.key_to_index)
    if not content:
        raise ImageSearchError(
            f"The query {text!r} has no words; type one or more words, e.g. 'cat on a sofa'."
        )
    known = tuple(t for t in content if t in kv.key_to_index)
    unknown = tuple(t for t in content if t not in kv.key_to_index)
    if not known:
        raise UnknownWordError(
            f"None of the words in {text!r} are in the word vectors' vocabulary ({quoted(unknown)}). "
            "Check the spelling, or use other (common English) words.",
            unknown,
        )
    return WordQuery(mean_unit(kv, known), known, unknown, tuple(stop))


def label_vector(kv, label: str) -> np.ndarray:
    """The vector of a class label ("potted plant"): same as :func:`query_vector` of its words.

    Unit-norm like a query, so searching for a label's words lands exactly on that label. Every
    word must be known, since a training target silently missing a word would be wrong.
    """
    tokens, _ = content_words(label, kv.key_to_index)
    unknown = [t for t in tokens if t not in kv.key_to_index]
    if unknown or not tokens:
        raise UnknownWordError(
            f"Class label {label!r} has words not in the word vectors' vocabulary: {quoted(unknown or [label])}. "
            "Write it as separate known words (e.g. 'dining table', not 'diningtable') or map it to a synonym.",
            unknown or [label],
        )
    return mean_unit(kv, tokens)


def tag_vocabulary(kv, size: int = 20_000) -> list[str]:
    """The `size` most frequent plain words (a-z only, 2+ letters, no stop words), to tag images with.

    Relies on GloVe's vocabulary being in frequency order. Stop words and single letters carry
    no meaning as tags; digits and punctuation tokens are not things in pictures.
    """
    return tag_matrix(kv, size)[0]


def tag_matrix(kv, size: int = 20_000) -> tuple[list[str], np.ndarray]:
    """:func:`tag_vocabulary` and the words' unit vectors (float32), one row per word."""
    plain = re.compile(r"[a-z]{2,}")
    words: list[str] = []
    rows: list[int] = []
    for row, word in enumerate(kv.index_to_key):
        if plain.fullmatch(word) and word not in STOP_WORDS:
            words.append(word)
            rows.append(row)
            if len(words) == size:
                break
    matrix = np.asarray(kv.vectors[rows], dtype=np.float32)
    return words, matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def quoted(words: Iterable[str]) -> str:
    return ", ".join(repr(w) for w in words)
