"""The concept diagrams draw what they claim: the Annoy splits separate the points into small
leaves, the HNSW layers thin out upwards and a greedy descent ends near the query, and the class
map panel shows one map per class; every figure fits the notebooks' width."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imagesearch import diagrams, plots  # noqa: E402
from imagesearch.datasets import embedded_root  # noqa: E402

POINTS = np.random.default_rng(3).normal(size=(60, 2))


def test_annoy_tree_leaves_are_small_and_every_split_divides_its_node():
    splits = diagrams.annoy_tree(POINTS, leaf_size=5, seed=0)
    leaves = diagrams._leaf_ids(POINTS, splits)
    assert np.bincount(leaves).max() <= 5 and len(set(leaves)) >= 60 // 5
    for split in splits:
        side = POINTS[split["rows"]] @ split["normal"] < split["offset"]
        assert 0 < side.sum() < len(side)


def test_annoy_figure_fits_and_outlines_the_query_leaf():
    fig = diagrams.annoy_tree_figure(POINTS, query=np.array([0.1, 0.2]))
    assert not plots.figure_problems(fig)
    assert "Annoy tree" in fig.axes[0].get_title() and len(fig.axes[0].patches) == 1
    plt.close(fig)


def test_hnsw_layers_thin_out_and_the_greedy_descent_ends_close_to_the_query():
    levels, edges = diagrams.hnsw_layers(POINTS, m=3, seed=0)
    counts = [int((levels >= layer).sum()) for layer in range(len(edges))]
    assert (
        counts[0] == len(POINTS)
        and all(a >= b for a, b in zip(counts, counts[1:]))
        and counts[-1] < counts[0] / 3
        and len(edges) >= 2
    )
    query = np.array([0.3, -0.2])
    path = diagrams._greedy_descent(POINTS, levels, edges, query)
    end = path[0][-1]
    nearest = int(np.argmin(np.linalg.norm(POINTS - query, axis=1)))
    distances = np.sort(np.linalg.norm(POINTS - query, axis=1))
    assert end == nearest or np.linalg.norm(POINTS[end] - query) <= distances[3]
    fig = diagrams.hnsw_figure(POINTS, query=query)
    assert not plots.figure_problems(fig) and len(fig.axes) == len(edges)
    assert fig.axes[0].get_title().startswith(f"layer {len(edges) - 1}")
    plt.close(fig)


def test_class_map_figure_has_the_photo_and_one_panel_per_class():
    path = sorted((embedded_root() / "cat").glob("*.jpg"))[0]
    grid = np.zeros((7, 7))
    grid[2, 3] = 1.0
    fig = diagrams.class_map_figure(path, {"cat": grid, "dog": np.full((7, 7), 1 / 49)})
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == [
        "the photo, 224 x 224",
        "class map: cat",
        "class map: dog",
    ]
    assert "100%" in fig.axes[1].get_title()
    assert not plots.figure_problems(fig)
    plt.close(fig)


def test_class_map_is_the_focus_pooling_weights_on_the_grid():
    from imagesearch import focus

    rng = np.random.default_rng(0)
    query_map = np.maximum(rng.normal(size=(7, 7, 8)), 0)
    weights, intercept = rng.normal(size=(8, 3)), np.zeros(3)
    grid = focus.class_map(query_map, weights, intercept, [2])
    assert grid.shape == (7, 7) and np.isclose(grid.sum(), 1.0)
    flat = focus.position_weights(query_map[None], weights, intercept, [2])[0]
    assert np.allclose(grid.ravel(), flat)
    assert not np.allclose(grid, focus.class_map(query_map, weights, intercept, [0]))
