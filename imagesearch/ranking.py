"""Ranking: the one top-k of the package, used by every route (exact search, ANN candidates,
feedback, tags). The order is by score, highest first, and ties go to the lower row, so that
the same scores always give the same ranking, on every machine and every route. A `Result`
is one ranked row; its `score_kind` says what its score is: a cosine (COSINE), or after
relevance feedback a sum of z-scored cosines (FEEDBACK, feedback.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

COSINE, FEEDBACK = "cosine", "feedback"  # what a Result's score is


@dataclass(frozen=True)
class Result:
    rank: int
    row: int  # row number in the index (= item number in its data set when nothing was skipped)
    path: str
    label: str
    score: float  # what `score_kind` says: a cosine similarity (1 = same direction), or ...
    score_kind: str = COSINE  # ... FEEDBACK: a sum of z-scored cosines after feedback (feedback.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "path": self.path,
            "label": self.label,
            "score": round(float(self.score), 4),
            "score_kind": self.score_kind,
        }


def top_k(
    scores: np.ndarray, k: int, exclude: Sequence[int] = (), rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores): by score, ties by row, the rows in `exclude` left out.

    `rows` names the row of each score when the scores cover some candidates only (an ANN
    backend's answer); by default score i is row i's. Partial selection, then a sort of the
    few candidates (every score tied with the k-th is kept, so ties at the cut go by row)."""
    scores = np.asarray(scores, np.float32).reshape(-1)
    rows = np.arange(len(scores), dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
    if len(exclude):
        keep = ~np.isin(rows, np.asarray(list(exclude), np.int64))
        rows, scores = rows[keep], scores[keep]
    k = max(0, min(int(k), len(scores)))
    if k == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    candidates = np.arange(len(scores))
    if k < len(scores):
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]  # the k-th highest score
        candidates = np.flatnonzero(scores >= kth)
    order = candidates[np.lexsort((rows[candidates], -scores[candidates]))][:k]
    return rows[order], scores[order]
