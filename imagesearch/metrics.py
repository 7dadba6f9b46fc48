"""Metrics: how often a ranking finds what it should, as pure functions over arrays.

Vectors, labels and relevance flags in, numbers out: no index files, no models, no I/O, so
every figure can be recomputed from the arrays alone. The experiments (imagesearch.experiments)
and the notebooks call them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .features import l2_normalize

MIN_CAPTIONS = 2  # an image is relevant to a word when this many of its captions say it


def precision_at_k(retrieved: Sequence[Sequence[bool]]) -> float:
    """Mean over queries of the share of relevant results (each row: relevance of the top k)."""
    rows = [np.mean(r) for r in retrieved if len(r)]
    return float(np.mean(rows)) if rows else float("nan")


def leave_one_out_precision(
    vectors: np.ndarray,
    labels: Sequence[str],
    k: int = 10,
    queries: Sequence[int] | None = None,
    candidates: Sequence[int] | None = None,
) -> float:
    """Image -> image precision@k by cosine, each query left out of its own results;
    relevant = same label. `queries`/`candidates` restrict who asks and who may be found."""
    labels = np.asarray(labels)
    unit = l2_normalize(vectors)
    queries = np.arange(len(unit)) if queries is None else np.asarray(queries)
    candidates = np.arange(len(unit)) if candidates is None else np.asarray(candidates)
    scores = unit[queries] @ unit[candidates].T
    scores[queries[:, None] == candidates[None, :]] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return precision_at_k(labels[candidates][top] == labels[queries][:, None])


def ranked_precision(vectors: np.ndarray, query: np.ndarray, relevant: np.ndarray, k: int = 10) -> float:
    """Precision@k of one query over unit `vectors` (exact ranking by cosine)."""
    scores = vectors @ query
    top = np.argsort(-scores, kind="stable")[:k]
    return float(np.mean(relevant[top]))


def relevant_to_word(
    word_sets: list[list[set[str]]], word: str, min_captions: int = MIN_CAPTIONS
) -> np.ndarray:
    """Which images have the word in at least `min_captions` of their captions."""
    return np.array([sum(word in s for s in caps) >= min_captions for caps in word_sets])


def chance_precision(labels: Sequence[str]) -> float:
    """Precision@k of a random ranking with each query left out: the mean over queries of the
    share of the other images that share its label (k does not matter). The bar to beat."""
    labels = np.asarray(labels)
    if len(labels) < 2:
        return float("nan")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return float(np.mean((counts[inverse] - 1) / (len(labels) - 1)))


def per_class_precision(vectors: np.ndarray, labels: Sequence[str], k: int = 10) -> dict[str, float]:
    """Leave-one-out precision@k with the queries of each class: which classes are easy."""
    labels = np.asarray(labels)
    return {
        label: leave_one_out_precision(vectors, labels, k, queries=np.flatnonzero(labels == label))
        for label in sorted(set(labels.tolist()))
    }


def class_similarity_matrix(vectors: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Mean cosine between the images of every pair of classes (diagonal: within a class,
    leaving each image's similarity to itself out)."""
    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    unit = l2_normalize(vectors)
    sims = unit @ unit.T
    matrix = np.zeros((len(classes), len(classes)), np.float32)
    for i, a in enumerate(classes):
        for j, b in enumerate(classes):
            block = sims[np.ix_(labels == a, labels == b)]
            if i == j:
                n = block.shape[0]
                matrix[i, j] = (block.sum() - np.trace(block)) / max(n * (n - 1), 1)
            else:
                matrix[i, j] = block.mean()
    return matrix, classes


def closest_class_pairs(matrix: np.ndarray, classes: Sequence[str], top: int = 5) -> list[dict]:
    """The `top` most similar pairs of different classes in a class_similarity_matrix (each pair
    once, ties by name): which classes the image features confuse."""
    pairs = [
        (float((matrix[i, j] + matrix[j, i]) / 2), classes[i], classes[j])
        for i in range(len(classes))
        for j in range(i + 1, len(classes))
    ]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return [{"class": a, "other class": b, "mean cosine": s} for s, a, b in pairs[:top]]


def embedding_summary(vector: np.ndarray, top: int = 5) -> dict:
    """What one feature vector looks like: its size, range, length, and how sparse it is
    (after ReLU and pooling, channels that never fire on an image are exactly 0)."""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    order = np.argsort(-vector, kind="stable")[:top]
    return {
        "dimensions": int(vector.size),
        "zeros": int(np.sum(vector == 0)),
        "zero share": float(np.mean(vector == 0)),
        "min": float(vector.min()),
        "max": float(vector.max()),
        "mean": float(vector.mean()),
        "L2 norm": float(np.linalg.norm(vector)),
        "top channels": [int(i) for i in order],
    }


def expected_precision(scores: np.ndarray, relevant: np.ndarray, k: int = 10) -> float:
    """Precision@k when tied scores are ordered at random, exactly (its expectation): a baseline
    whose scores tie, such as one score per class, must not win or lose by row order."""
    scores, relevant = np.asarray(scores, float), np.asarray(relevant, float)
    order = np.argsort(-scores, kind="stable")
    scores, relevant = scores[order], relevant[order]
    found, taken, start = 0.0, 0, 0
    while taken < k and start < len(scores):
        end = start + int(np.sum(scores[start:] == scores[start]))
        take = min(end - start, k - taken)
        found += take * relevant[start:end].mean()
        taken, start = taken + take, end
    return found / k


def class_prior_scores(
    word: str,
    word_sets: Sequence[Sequence[set[str]]],
    labels: Sequence[str],
    train: Sequence[int],
    rows: Sequence[int],
) -> np.ndarray:
    """For each of `rows`: the share of its true class's training captions that use `word`. A
    reference ranking that knows every image's label and nothing of the photo itself."""
    labels = np.asarray(labels)
    share = {}
    for label in sorted(set(labels[np.asarray(rows)].tolist())):
        sets = [s for r in train if labels[r] == label for s in word_sets[r]]
        share[label] = float(np.mean([word in s for s in sets])) if sets else 0.0
    return np.array([share[labels[r]] for r in rows])


def most_used_words(
    word_sets: Sequence[Sequence[set[str]]], rows: Sequence[int], allowed: set[str], count: int = 5
) -> list[str]:
    """The `count` allowed words that the most captions of `rows` use (ties by word)."""
    counts: dict[str, int] = {}
    for r in rows:
        for s in word_sets[r]:
            for w in s & allowed:
                counts[w] = counts.get(w, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))[:count]
