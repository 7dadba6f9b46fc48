"""Relevance feedback: "more like these, less like those", as scores over the collection.

Rocchio in every space the index has (the CNN image features and the joint word space):
each space's query moves to alpha q + beta mean(liked) - gamma mean(disliked), its cosines
over the collection are standardised (z-scores: the two spaces' cosines live on different
scales) and the spaces' scores are added with equal weights. A query that does not live in
a space (words have no CNN vector) counts there by its examples alone: the liked mean minus
gamma times the disliked mean.

Chosen by measurement on Pascal Sentences (study of issue 9, validation queries; README
"Steering a search"): alpha 1, beta 2, gamma 1, both spaces, beat image-space Rocchio alone
(+0.40 against +0.18 residual P@10 after one round) and a logistic-regression classifier on
the likes and dislikes (+0.14, and it needs sklearn at query time). The joint space alone
scored higher still on the whole collection, but only because most candidates are its
training images; on images it never trained on, both spaces held up best.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .features import l2_normalize
from .ranking import top_k

ALPHA, BETA, GAMMA = 1.0, 2.0, 1.0


def zscore(scores: np.ndarray) -> np.ndarray:
    """Scores shifted and scaled to mean 0 and standard deviation 1 (constant scores: all 0)."""
    scores = np.asarray(scores, np.float32)
    return (scores - scores.mean()) / max(float(scores.std()), 1e-12)


def rocchio(
    query: np.ndarray | None,
    vectors: np.ndarray,
    liked: Sequence[int],
    disliked: Sequence[int],
    *,
    alpha: float = ALPHA,
    beta: float = BETA,
    gamma: float = GAMMA,
) -> np.ndarray:
    """alpha q + beta mean(liked rows) - gamma mean(disliked rows), unit length; `query` None
    for a query that does not live in this space (then only the examples count)."""
    moved = np.zeros(vectors.shape[1], np.float32) if query is None else alpha * l2_normalize(query)
    if len(liked):
        moved = moved + beta * vectors[list(liked)].mean(axis=0)
    if len(disliked):
        moved = moved - gamma * vectors[list(disliked)].mean(axis=0)
    return l2_normalize(moved)


def feedback_scores(
    spaces: Sequence[tuple[np.ndarray, np.ndarray | None]],
    liked: Sequence[int],
    disliked: Sequence[int],
    **weights: float,
) -> np.ndarray:
    """Scores of every row after feedback: the sum over `spaces` ([(unit vectors n x d, query
    or None)], e.g. image features and joint vectors) of the z-scored cosines with each
    space's Rocchio query. `weights` are rocchio's alpha, beta, gamma."""
    total = np.zeros(len(spaces[0][0]), np.float32)
    for vectors, query in spaces:
        if query is None and not len(liked) and not len(disliked):
            continue  # nothing to say in this space
        total += zscore(vectors @ rocchio(query, vectors, liked, disliked, **weights))
    return total


top_rows = top_k  # the package's one ranking (ranking.py), by its older name here
