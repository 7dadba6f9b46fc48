"""Metrics anyone can rerun: how often a search finds what it should.

Pure functions over arrays; the CLI's `evaluate` command and bench/ call them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .features import l2_normalize
from .index import EmbeddingIndex


def precision_at_k(retrieved: Sequence[Sequence[bool]]) -> float:
    """Mean over queries of the share of relevant results (each row: relevance of the top k)."""
    rows = [np.mean(r) for r in retrieved if len(r)]
    return float(np.mean(rows)) if rows else float("nan")


def leave_one_out_precision(vectors: np.ndarray, labels: Sequence[str], k: int = 10,
                            queries: Sequence[int] | None = None,
                            candidates: Sequence[int] | None = None) -> float:
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


def annoy_recall(index: EmbeddingIndex, k: int = 10, queries: Sequence[int] | None = None,
                 search_k: int = -1) -> float:
    """Share of the exact top-k neighbours that Annoy returns, averaged over queries."""
    queries = range(len(index)) if queries is None else queries
    recalls = []
    for row in queries:
        exact = {r.item for r in index.search(index.vectors[row], k, exclude=[row], exact=True)}
        approx = {r.item for r in index.search(index.vectors[row], k, exclude=[row], search_k=search_k)}
        recalls.append(len(exact & approx) / max(len(exact), 1))
    return float(np.mean(recalls))
