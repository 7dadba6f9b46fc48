"""The trees protocol: Annoy's recall against exact search, and its speed, per number of trees.

The only experiment that times anything: builds indexes of the given vectors and measures
queries; recall repeats exactly (seeded, one build job), times do not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..index import EmbeddingIndex


def annoy_recall(
    index: EmbeddingIndex, k: int = 10, queries: Sequence[int] | None = None, search_k: int = -1
) -> float:
    """Share of the exact top-k neighbours that Annoy returns, averaged over queries."""
    queries = range(len(index)) if queries is None else queries
    recalls = []
    for row in queries:
        exact = {r.row for r in index.search(index.vectors[row], k, exclude=[row], exact=True)}
        approx = {r.row for r in index.search(index.vectors[row], k, exclude=[row], search_k=search_k)}
        recalls.append(len(exact & approx) / max(len(exact), 1))
    return float(np.mean(recalls))


def trees_tradeoff(
    vectors: np.ndarray,
    items: Sequence[dict],
    trees: Sequence[int] = (1, 2, 5, 10, 20, 50, 100),
    k: int = 10,
    queries: Sequence[int] | int | None = 300,
    seed: int = 0,
    repeats: int = 3,
) -> list[dict]:
    """Annoy's accuracy/speed trade-off on these vectors, one dict per number of trees.

    Each dict: `trees`, `recall` (share of the exact top-k that Annoy returns, each query left
    out; see annoy_recall), `query_ms` (mean time of one Annoy query), `exact_ms` (one exact
    brute-force query through the same code path) and `build_s`; query times are the best of
    `repeats` passes over the queries, as timeit does, so that a busy machine disturbs them
    less. `queries`: rows to ask with; an int asks with a seeded sample of that many rows (all
    rows when there are fewer; a few hundred queries measure recall well and keep this fast);
    None asks with every row. More trees give better recall
    but slower builds, slower queries and bigger files; with a few thousand images exact search
    is fast enough, Annoy pays off with millions. Recall repeats (seeded, one build job);
    times do not.
    """
    if queries is None or (isinstance(queries, (int, np.integer)) and queries >= len(vectors)):
        queries = list(range(len(vectors)))
    elif isinstance(queries, (int, np.integer)):
        queries = sorted(
            np.random.default_rng(seed).choice(len(vectors), int(queries), replace=False).tolist()
        )
    else:
        queries = [int(q) for q in queries]
    rows = []
    for n_trees in trees:
        start = time.perf_counter()
        index = EmbeddingIndex.build(vectors, list(items), model="trees-tradeoff", n_trees=n_trees, seed=seed)
        build_s = time.perf_counter() - start
        timings = {}
        for exact in (False, True):
            passes = []
            for _ in range(max(1, repeats)):
                start = time.perf_counter()
                for row in queries:
                    index.search(index.vectors[row], k, exclude=[row], exact=exact)
                passes.append((time.perf_counter() - start) * 1000 / max(len(queries), 1))
            timings[exact] = min(passes)
        rows.append(
            {
                "trees": int(n_trees),
                "recall": annoy_recall(index, k, queries),
                "query_ms": timings[False],
                "exact_ms": timings[True],
                "build_s": build_s,
            }
        )
    return rows
