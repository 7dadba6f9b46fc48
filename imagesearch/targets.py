"""Training targets of the joint model: where in word space each training image should land.

The talk's targets are the label's word vector alone, so only the 20 labels are ever taught.
Pascal Sentences also has about 5 human captions per photo: the caption targets mix the label's
vector with the vectors of the content words the image's captions use, so that "grass", "beach"
or "street" get a place near the photos that show them. Only the rows asked for are read (the
training split, and the validation split for model selection): test captions are never used.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from .splits import Split
from .storage import ImageSearchError
from .text import STOP_WORDS, WordQuery, caption_tokens, label_vector, mean_unit, word_forms
from .words import similar_words

TARGETS = ("captions", "labels")
DEFAULT_TARGETS = "captions"
#: Share of the label in a caption target; the rest is the captions' words. Measured on Pascal
#: (bench/language.py): more label keeps class words and class tags high, less helps other words.
LABEL_WEIGHT = 0.7


def label_targets(kv, labels: Sequence[str]) -> np.ndarray:
    """Each item's target: the (unit, mean-of-words) vector of its label (the talk's targets)."""
    by_label = {label: label_vector(kv, label) for label in sorted(set(labels))}
    return np.stack([by_label[label] for label in labels]).astype(np.float32)


def caption_word_counts(
    captions: Sequence[str], kv, vocabulary: Collection[str], exclude: Collection[str] = ()
) -> dict[str, int]:
    """How many of an image's captions use each content word (plurals folded, stop words and
    words the vectors do not know left out)."""
    counts: dict[str, int] = {}
    for caption in captions:
        for word in word_forms(caption_tokens(caption), vocabulary):
            if len(word) > 1 and word not in STOP_WORDS and word in kv.key_to_index and word not in exclude:
                counts[word] = counts.get(word, 0) + 1
    return dict(sorted(counts.items()))


def caption_targets(
    kv,
    labels: Sequence[str],
    captions: Sequence[Sequence[str]],
    rows: Sequence[int],
    *,
    vocabulary_rows: Sequence[int] | None = None,
    label_weight: float = LABEL_WEIGHT,
    exclude: Collection[str] = (),
) -> np.ndarray:
    """Targets of `rows` (len(rows) x d, unit): unit(w * label + (1 - w) * captions' words).

    The captions' words are the count-weighted mean of the unit vectors of the content words
    the image's captions use. Plurals fold against the words of `vocabulary_rows`' captions
    (default: `rows`), so pass the training rows there when building validation targets.
    `exclude` names words never used as targets (the zero-shot protocol's held-out classes).
    """
    rows = np.asarray(rows, dtype=int)
    vocab_rows = rows if vocabulary_rows is None else np.asarray(vocabulary_rows, dtype=int)
    vocabulary = {t for r in vocab_rows for c in captions[r] for t in caption_tokens(c)}
    by_label = {label: label_vector(kv, label) for label in sorted({labels[r] for r in rows})}
    out = np.empty((len(rows), kv.vector_size), np.float32)
    for i, row in enumerate(rows):
        target = label_weight * by_label[labels[row]]
        counts = caption_word_counts(captions[row], kv, vocabulary, exclude)
        if counts and label_weight < 1.0:
            target = target + (1.0 - label_weight) * mean_unit(
                kv, list(counts), weights=list(counts.values())
            )
        out[i] = target / max(float(np.linalg.norm(target)), 1e-12)
    return out


def explain_target(kv, records: Sequence[dict], split: Split, row: int, k: int = 8) -> dict:
    """What the caption target of training or validation image `row` is made of, as training
    builds it: its label, how many of its captions use each content word, and the `k` words
    nearest to the target vector. Test rows are refused: their captions only score."""
    if row in set(split.test.tolist()):
        raise ImageSearchError(
            f"row {row} ({records[row].get('key')}) is a test image: its captions are never used "
            "to build a target; pick a row of split.train or split.val"
        )
    labels = [record["label"] for record in records]
    captions = [record.get("captions", []) for record in records]
    target = caption_targets(kv, labels, captions, [row], vocabulary_rows=split.train)[0]
    vocabulary = {t for r in split.train for c in captions[r] for t in caption_tokens(c)}
    return {
        "key": records[row].get("key"),
        "label": labels[row],
        "captions": list(captions[row]),
        "caption_words": caption_word_counts(captions[row], kv, vocabulary),
        "nearest_words": similar_words(kv, WordQuery(target, ()), k),
    }
