"""Each build-it check passes the reference answer (the notebooks' solution) and fails a wrong one:
the exercises can tell a learner that their function is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from imagesearch import exercises
from imagesearch.features import l2_normalize

RNG = np.random.default_rng(7)
MAPS = np.maximum(RNG.normal(0.2, 1.0, (6, 7, 7, 32)), 0).astype(np.float16)
VECTORS = np.abs(RNG.normal(size=(120, 16))).astype(np.float32) ** 2
LABELS = [f"class{i % 6}" for i in range(120)]


# -- reference answers (the notebooks' solutions) ------------------------------------------------
def pool(feature_map):
    return feature_map.mean(axis=(0, 1))


def cosine_top_k(vectors, query, k):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    return np.argsort(-scores, kind="stable")[:k]


def precision_at_k(vectors, labels, k):
    labels = np.asarray(labels)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ unit.T
    np.fill_diagonal(scores, -np.inf)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(labels[top] == labels[:, None]))


def class_map_pool(feature_map, class_map):
    share = class_map / class_map.sum()
    return np.einsum("hw,hwc->c", share, feature_map)


def ridge(x, y, lam):
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ y)


def rocchio(query, vectors, liked, disliked, alpha, beta, gamma):
    moved = alpha * query / np.linalg.norm(query) + beta * vectors[liked].mean(axis=0)
    moved = moved - gamma * vectors[disliked].mean(axis=0)
    return moved / np.linalg.norm(moved)


def recall_at_k(found, truth):
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def n_similar(vectors, rows, threshold):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return (unit[rows] @ unit.T >= threshold).sum(axis=1) - 1


# -- wrong answers, each a mistake a learner makes -----------------------------------------------
def pool_max(feature_map):
    return feature_map.max(axis=(0, 1))


def top_k_by_dot_product(vectors, query, k):
    return np.argsort(-(vectors @ query), kind="stable")[:k]


def precision_with_the_query_in(vectors, labels, k):
    labels = np.asarray(labels)
    unit = l2_normalize(vectors)
    top = np.argsort(-(unit @ unit.T), axis=1, kind="stable")[:, :k]
    return float(np.mean(labels[top] == labels[:, None]))


def class_map_plain_mean(feature_map, class_map):
    return feature_map.mean(axis=(0, 1))


def class_map_unnormalised(feature_map, class_map):
    return np.einsum("hw,hwc->c", class_map, feature_map)


def least_squares(x, y, lam):
    return np.linalg.lstsq(x, y, rcond=None)[0]


def rocchio_sum_not_mean(query, vectors, liked, disliked, alpha, beta, gamma):
    moved = alpha * query / np.linalg.norm(query) + beta * vectors[liked].sum(axis=0)
    moved = moved - gamma * vectors[disliked].sum(axis=0)
    return moved / np.linalg.norm(moved)


def rocchio_not_unit(query, vectors, liked, disliked, alpha, beta, gamma):
    return (
        alpha * query / np.linalg.norm(query)
        + beta * vectors[liked].mean(axis=0)
        - gamma * vectors[disliked].mean(axis=0)
    )


def recall_by_position(found, truth):
    return float(np.mean([np.mean([a == b for a, b in zip(f, t)]) for f, t in zip(found, truth)]))


def n_similar_with_itself(vectors, rows, threshold):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return (unit[rows] @ unit.T >= threshold).sum(axis=1)


def n_similar_by_dot_product(vectors, rows, threshold):
    return (vectors[rows] @ vectors.T >= threshold).sum(axis=1) - 1


WEIGHTS = RNG.normal(size=(32, 4)).astype(np.float32)
INTERCEPT = np.zeros(4, np.float32)
UNIT = l2_normalize(VECTORS)
X, Y = RNG.normal(size=(80, 12)), RNG.normal(size=(80, 5))
FOUND = [[1, 2, 3, 4], [9, 8, 7, 6]]
TRUTH = [[4, 3, 2, 1], [6, 7, 8, 5]]

CASES = {
    "pool": (exercises.check_pool, pool, [pool_max], (MAPS, MAPS.astype(np.float32).mean(axis=(1, 2)))),
    "cosine_top_k": (
        exercises.check_cosine_top_k,
        cosine_top_k,
        [top_k_by_dot_product],
        (VECTORS, [0, 5, 17], 5),
    ),
    "precision_at_k": (
        exercises.check_precision_at_k,
        precision_at_k,
        [precision_with_the_query_in],
        (VECTORS, LABELS, 5),
    ),
    "class_map_pool": (
        exercises.check_class_map_pool,
        class_map_pool,
        [class_map_plain_mean, class_map_unnormalised],
        (MAPS, WEIGHTS, INTERCEPT, [1]),
    ),
    "ridge": (exercises.check_ridge, ridge, [least_squares], (X, Y, 10.0)),
    "rocchio": (
        exercises.check_rocchio,
        rocchio,
        [rocchio_sum_not_mean, rocchio_not_unit],
        (UNIT[0], UNIT, [3, 4, 5], [7, 8]),
    ),
    "recall_at_k": (exercises.check_recall_at_k, recall_at_k, [recall_by_position], (FOUND, TRUTH)),
    "similar_count": (
        exercises.check_similar_count,
        n_similar,
        [n_similar_with_itself, n_similar_by_dot_product],
        (VECTORS, [0, 3, 7, 11], 0.9),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_reference_answer_passes(name):
    check, right, _, args = CASES[name]
    assert name in check(right, *args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_wrong_answer_fails_with_a_hint(name):
    check, _, wrong, args = CASES[name]
    for fn in wrong:
        with pytest.raises(AssertionError, match=name):
            check(fn, *args)


def test_an_unwritten_scaffold_does_not_stop_the_notebook(capsys):
    def pool(feature_map):
        """Not written yet."""
        raise NotImplementedError

    assert exercises.attempt(exercises.check_pool, pool, MAPS, MAPS.mean(axis=(1, 2))) is None
    assert "not written yet" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        exercises.attempt(exercises.check_pool, pool_max, MAPS, MAPS.astype(np.float32).mean(axis=(1, 2)))
