"""imagesearch.metrics and the trees experiment on small synthetic embeddings where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from imagesearch import metrics
from imagesearch.experiments import annoy_recall, trees_tradeoff
from imagesearch.index import EmbeddingIndex


def clusters(n_clusters=4, per_cluster=30, dim=16, spread=0.3, seed=0):
    """Well separated Gaussian clusters: same cluster = same label."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim)) * 3
    vectors = np.repeat(centres, per_cluster, axis=0) + spread * rng.normal(
        size=(n_clusters * per_cluster, dim)
    )
    labels = [f"c{i}" for i in range(n_clusters) for _ in range(per_cluster)]
    items = [
        {"path": f"/data/{label}/{i}.jpg", "label": label, "key": f"{label}/{i}.jpg"}
        for i, label in enumerate(labels)
    ]
    return vectors.astype(np.float32), labels, items


# --- trees_tradeoff ---------------------------------------------------------------------------


def test_trees_tradeoff_measures_recall_and_times_per_tree_count():
    vectors, _, items = clusters(n_clusters=8, per_cluster=50, dim=32, spread=2.0)
    rows = trees_tradeoff(vectors, items, trees=(1, 5, 60), k=10)
    assert [row["trees"] for row in rows] == [1, 5, 60]
    assert all(set(row) == {"trees", "recall", "query_ms", "exact_ms", "build_s"} for row in rows)
    recalls = [row["recall"] for row in rows]
    assert all(0.0 <= r <= 1.0 for r in recalls)
    # one tree looks at a few candidates only; 60 trees x k=10 at about all 400 items
    assert recalls[0] < 0.9 < 0.99 <= recalls[-1]
    assert all(row["query_ms"] > 0 and row["exact_ms"] > 0 and row["build_s"] > 0 for row in rows)


def test_trees_tradeoff_recall_repeats_and_matches_annoy_recall():
    vectors, _, items = clusters(n_clusters=5, per_cluster=40, dim=24, spread=2.0, seed=1)
    first = trees_tradeoff(vectors, items, trees=(2,), k=5, queries=range(0, 200, 7))
    second = trees_tradeoff(vectors, items, trees=(2,), k=5, queries=range(0, 200, 7))
    assert first[0]["recall"] == second[0]["recall"]
    index = EmbeddingIndex.build(vectors, items, model="m", n_trees=2, seed=0)
    assert first[0]["recall"] == annoy_recall(index, 5, list(range(0, 200, 7)))
    # an int asks with a seeded sample of rows: the same sample, hence the same recall, every time
    sampled = [
        trees_tradeoff(vectors, items, trees=(2,), k=5, queries=50, repeats=1)[0]["recall"] for _ in range(2)
    ]
    assert sampled[0] == sampled[1]
    everyone = trees_tradeoff(vectors, items, trees=(2,), k=5, queries=None, repeats=1)
    assert everyone[0]["recall"] == annoy_recall(index, 5)
    assert (
        trees_tradeoff(vectors, items, trees=(2,), k=5, queries=10_000, repeats=1)[0]["recall"]
        == everyone[0]["recall"]
    )


# --- chance and per-class precision -------------------------------------------------------------


def test_chance_precision_is_the_share_of_other_images_with_the_same_label():
    # a: each query has 1 of 4 others alike; b: 2 of 4 -> (2 * 1/4 + 3 * 2/4) / 5
    assert metrics.chance_precision(["a", "a", "b", "b", "b"]) == pytest.approx(0.4)
    assert metrics.chance_precision(["x"] * 10 + ["y"] * 10) == pytest.approx(9 / 19)
    assert np.isnan(metrics.chance_precision(["a"]))


def test_chance_precision_is_what_random_vectors_score():
    rng = np.random.default_rng(0)
    labels = [f"c{i % 4}" for i in range(400)]
    scores = [metrics.leave_one_out_precision(rng.normal(size=(400, 8)), labels, 10) for _ in range(5)]
    assert np.mean(scores) == pytest.approx(metrics.chance_precision(labels), abs=0.03)


def test_per_class_precision_on_separated_and_mixed_classes():
    vectors, labels, _ = clusters(n_clusters=3, per_cluster=20)
    per_class = metrics.per_class_precision(vectors, labels, k=10)
    assert list(per_class) == ["c0", "c1", "c2"]
    assert all(p == 1.0 for p in per_class.values())
    # relabel half of c0 as "d": it stays in c0's cluster, so both lose precision
    mixed = ["d" if label == "c0" and i % 2 else label for i, label in enumerate(labels)]
    per_class = metrics.per_class_precision(vectors, mixed, k=10)
    assert per_class["c1"] == 1.0 and per_class["c0"] < 0.7 and per_class["d"] < 0.7
    overall = metrics.leave_one_out_precision(vectors, mixed, 10)
    assert min(per_class.values()) <= overall <= max(per_class.values())


# --- embedding_summary ---------------------------------------------------------------------------


def test_embedding_summary_counts_zeros_and_orders_top_channels():
    summary = metrics.embedding_summary(np.array([0.0, 1.0, 3.0, 0.0, 2.0]), top=3)
    assert summary["dimensions"] == 5 and summary["zeros"] == 2
    assert summary["zero share"] == pytest.approx(0.4)
    assert summary["min"] == 0.0 and summary["max"] == 3.0 and summary["mean"] == pytest.approx(1.2)
    assert summary["L2 norm"] == pytest.approx(np.sqrt(14))
    assert summary["top channels"] == [2, 4, 1]


# --- closest_class_pairs -------------------------------------------------------------------------


def test_closest_class_pairs_ranks_each_pair_once():
    vectors, labels, _ = clusters(n_clusters=3, per_cluster=10)
    vectors[labels.index("c2") :] = vectors[:10] + 0.01  # c2 looks like c0
    matrix, classes = metrics.class_similarity_matrix(vectors, labels)
    pairs = metrics.closest_class_pairs(matrix, classes, top=5)
    assert len(pairs) == 3  # 3 classes -> 3 pairs
    assert (pairs[0]["class"], pairs[0]["other class"]) == ("c0", "c2")
    assert pairs[0]["mean cosine"] > 0.9 > pairs[1]["mean cosine"]
    scores = [p["mean cosine"] for p in pairs]
    assert scores == sorted(scores, reverse=True)
