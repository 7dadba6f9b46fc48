"""Checks for the notebooks' build-it exercises: a learner's numpy function against the package's own.

Each exercise asks a learner to write one core idea of the engine (pooling a feature map, cosine
top-k, precision@k, pooling under a class map, the ridge map, the Rocchio update, recall@k,
the near duplicates of a photo). A
`check_*` function runs the learner's function and the package's on the same real data and
raises an AssertionError that says what differs and where to look; it returns a one-line report
when they agree. `attempt` runs a check on a scaffold that is not written yet without failing
the notebook, so that a learner can run every cell top to bottom.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .duplicates import similar_count
from .features import l2_normalize
from .feedback import rocchio, top_rows
from .focus import position_weights
from .metrics import leave_one_out_precision
from .ridge import fit_ridge
from .scaling import recall_at_k


def attempt(check: Callable[..., str], fn: Callable, *args, **kwargs) -> str | None:
    """Run `check(fn, ...)` and print its report; a scaffold that still raises NotImplementedError
    prints a reminder instead (a wrong answer still raises the check's AssertionError)."""
    try:
        report = check(fn, *args, **kwargs)
    except NotImplementedError:
        print(
            f"{getattr(fn, '__name__', 'the function')}: not written yet; fill in its body above, then run this cell"
        )
        return None
    print(report)
    return report


def _close(name: str, got, expected, what: str, hint: str, rtol: float = 1e-3, atol: float = 1e-4) -> None:
    got = np.asarray(got, np.float64)
    expected = np.asarray(expected, np.float64)
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: {what} has shape {got.shape}, expected {expected.shape}. {hint}")
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        raise AssertionError(
            f"{name}: {what} differs from the package's at index {tuple(int(i) for i in worst)}: "
            f"{got[worst]:.5g} instead of {expected[worst]:.5g}. {hint}"
        )


def check_pool(fn: Callable, maps: np.ndarray, features: np.ndarray) -> str:
    """`fn(feature_map)`: one h x w x c convolution map -> its c-vector, as the image model pools it
    (global average pooling). Checked against the model's own pooled features of the same photos."""
    maps = np.asarray(maps, np.float32)
    got = np.stack([np.asarray(fn(m), np.float64) for m in maps])
    _close(
        "pool",
        got,
        features,
        "the pooled vector",
        "Each channel's number is its mean over all h x w positions (axes 0 and 1 of one map).",
        rtol=2e-2,
        atol=2e-2,  # the maps are stored as float16
    )
    return f"pool: the same as the model's pooled features for {len(maps)} photos"


def check_cosine_top_k(fn: Callable, vectors: np.ndarray, queries: Sequence[int], k: int = 10) -> str:
    """`fn(vectors, query, k)`: the rows of the k vectors most similar to `query` by cosine, best
    first. The rows are rescaled to random lengths first: cosine must not care (a dot product does)."""
    rng = np.random.default_rng(0)
    vectors = np.asarray(vectors, np.float32) * rng.uniform(0.2, 5.0, (len(vectors), 1)).astype(np.float32)
    unit = l2_normalize(vectors)
    for q in queries:
        query = vectors[int(q)]
        got = np.asarray(fn(vectors, query, k)).astype(int).ravel()
        expected, scores = top_rows(unit @ l2_normalize(query), k)
        if len(got) != k:
            raise AssertionError(f"cosine_top_k: {len(got)} rows for k={k}; return exactly k row numbers.")
        got_scores = unit[got] @ l2_normalize(query)
        if not np.allclose(got_scores, scores, atol=1e-5):
            raise AssertionError(
                f"cosine_top_k: for query row {int(q)} the rows {got.tolist()} score "
                f"{np.round(got_scores, 3).tolist()}, the best {k} by cosine are {expected.tolist()} "
                f"({np.round(scores, 3).tolist()}). Divide each dot product by both lengths (or make the "
                "rows unit length first), and sort from the highest cosine down."
            )
    return f"cosine_top_k: the same top {k} as the package for {len(queries)} queries"


def check_precision_at_k(fn: Callable, vectors: np.ndarray, labels: Sequence[str], k: int = 10) -> str:
    """`fn(vectors, labels, k)`: leave-one-out precision@k, the mean over all images of the share
    of its k nearest others (by cosine, itself left out) that share its label."""
    got = float(fn(vectors, labels, k))
    expected = leave_one_out_precision(vectors, labels, k)
    if not np.isclose(got, expected, atol=1e-6):
        hint = (
            "Did you leave each query out of its own results? Its nearest neighbour is itself."
            if got > expected
            else "Count a result as a hit when its label equals the query's, and average over all queries."
        )
        raise AssertionError(f"precision_at_k: {got:.4f}, the package measures {expected:.4f}. {hint}")
    return f"precision_at_k: {got:.3f} at k={k}, the same as metrics.leave_one_out_precision"


def check_class_map_pool(
    fn: Callable, maps: np.ndarray, weights: np.ndarray, intercept: np.ndarray, columns: Sequence[int]
) -> str:
    """`fn(feature_map, class_map)`: an h x w x c map pooled under an h x w class map (how much
    each position shows the class): the positions' vectors averaged, each weighted by its share of
    the class map. The class map given is the focus's own (`focus.position_weights`), scaled to
    mean 1 so that it does not sum to 1 already."""
    maps = np.asarray(maps, np.float32)
    n, h, w, c = maps.shape
    shares = position_weights(maps, weights, intercept, columns)  # n x positions, rows sum to 1
    for i in range(n):
        class_map = (shares[i] * h * w).reshape(h, w)
        got = np.asarray(fn(maps[i], class_map), np.float64)
        expected = shares[i] @ maps[i].reshape(-1, c)
        _close(
            "class_map_pool",
            got,
            expected,
            f"photo {i}'s pooled vector",
            "Weight each position's c-vector by class_map / class_map.sum(), then add them up; "
            "a plain mean ignores the class map.",
        )
    return f"class_map_pool: the same as the focus's pooling for {n} photos"


def check_ridge(fn: Callable, x: np.ndarray, y: np.ndarray, lam: float = 1.0) -> str:
    """`fn(x, y, lam)`: the weights W (d_in x d_out) that minimise |x W - y|^2 + lam |W|^2, in
    closed form. `x` is centred here (column means 0), so the package's fit, which adds an
    unshrunk bias, gives the same W."""
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    y = np.asarray(y, np.float64)
    expected, _, _, _ = fit_ridge(x, y, x[:2], y[:2], lambdas=(lam,))
    got = fn(x, y, lam)
    _close(
        "ridge",
        got,
        expected,
        "W",
        "W = (xᵀx + lam I)⁻¹ xᵀy: solve with np.linalg.solve; lam goes on the diagonal of xᵀx.",
        rtol=1e-3,
        atol=1e-4,
    )
    return f"ridge: the same {np.shape(got)[0]} x {np.shape(got)[1]} map as the package at lambda {lam}"


def check_rocchio(
    fn: Callable, query: np.ndarray, vectors: np.ndarray, liked: Sequence[int], disliked: Sequence[int]
) -> str:
    """`fn(query, vectors, liked, disliked, alpha, beta, gamma)`: the moved query, unit length:
    alpha unit(query) + beta mean(liked rows) - gamma mean(disliked rows)."""
    for alpha, beta, gamma in ((1.0, 2.0, 1.0), (0.5, 1.0, 3.0)):
        got = fn(query, vectors, list(liked), list(disliked), alpha, beta, gamma)
        expected = rocchio(query, vectors, liked, disliked, alpha=alpha, beta=beta, gamma=gamma)
        _close(
            "rocchio",
            got,
            expected,
            f"the moved query (alpha {alpha}, beta {beta}, gamma {gamma})",
            "Start from alpha times the unit query, add beta times the MEAN of the liked rows, "
            "subtract gamma times the mean of the disliked rows, and make the result unit length.",
        )
    return f"rocchio: the same moved query as the package ({len(liked)} liked, {len(disliked)} disliked)"


def check_recall_at_k(fn: Callable, found: Sequence[Sequence[int]], truth: Sequence[Sequence[int]]) -> str:
    """`fn(found, truth)`: the mean over queries of the share of the true top k (one list per
    query) that the approximate search returned, in any order. Checked on the data given and on
    two small cases (the same rows in another order; one row missing)."""
    cases = [(found, truth), ([[3, 2, 1]], [[1, 2, 3]]), ([[1, 2, 9], [5, 6, 7]], [[1, 2, 3], [7, 6, 5]])]
    for got_found, got_truth in cases:
        got, expected = float(fn(got_found, got_truth)), recall_at_k(got_found, got_truth)
        if not np.isclose(got, expected, atol=1e-9):
            raise AssertionError(
                f"recall_at_k: {got:.4f} for found {list(map(list, got_found))[:2]}... and truth "
                f"{list(map(list, got_truth))[:2]}..., expected {expected:.4f}. Order does not matter: "
                "count the true rows that are among the found ones (a set intersection), divided by k."
            )
    return f"recall_at_k: {recall_at_k(found, truth):.3f} over {len(truth)} queries, the same as the package"


def check_similar_count(fn: Callable, vectors: np.ndarray, rows: Sequence[int], threshold: float) -> str:
    """`fn(vectors, rows, threshold)`: for each of `rows`, how many OTHER rows have a cosine with
    it of at least `threshold` (a result card's "n similar"). Checked at `threshold` and at a
    lower one, where more photos count."""
    rows = [int(r) for r in rows]
    for t in (threshold, threshold - 0.15):
        got = np.asarray(fn(vectors, rows, t))
        expected = similar_count(vectors, rows, t)
        if got.shape != expected.shape or not np.array_equal(got, expected):
            raise AssertionError(
                f"similar_count: {got.tolist()} at threshold {t:.2f} for rows {rows}, expected "
                f"{expected.tolist()}. Compare unit vectors (cosine, not the dot product of the raw "
                "vectors), count the scores >= the threshold, and leave out the photo itself."
            )
    return f"similar_count: the same counts as the package for {len(rows)} photos"
