"""Concept diagrams for the notebooks, drawn from data rather than pasted: a class map over a photo
(focus, notebook 04), one Annoy tree's splits of 2-D points (notebook 03) and an HNSW graph's layers
(notebook 08). Each returns a matplotlib figure within the notebooks' width (charts.MAX_WIDTH_IN).

The Annoy and HNSW pictures rebuild the two ideas on a few seeded 2-D points, in a few lines of
numpy each, so that a learner sees what the libraries do inside; the engine itself uses the
libraries.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from .charts import MAX_WIDTH_IN, MIN_FONT_PT
from .images import load_rgb


def class_map_figure(
    path: str | os.PathLike, class_maps: Mapping[str, np.ndarray], *, title: str | None = None
):
    """The photo as the network sees it (squashed to 224 x 224) and, for each class, its class map
    (h x w, e.g. `focus.class_map`) drawn over it: the brighter a cell, the more of the focused query
    it contributes. The grid lines are the map's cells (7 x 7 for VGG16)."""
    import matplotlib.pyplot as plt

    photo = np.asarray(load_rgb(path).resize((224, 224)))
    panels = 1 + len(class_maps)
    side = min(3.2, MAX_WIDTH_IN / panels)
    fig, axes = plt.subplots(1, panels, figsize=(side * panels, side + 0.6))
    axes[0].imshow(photo)
    axes[0].set_title("the photo, 224 x 224", fontsize=MIN_FONT_PT + 1)
    for ax, (name, grid) in zip(axes[1:], class_maps.items()):
        grid = np.asarray(grid, np.float64)
        h, w = grid.shape
        shade = grid / max(float(grid.max()), 1e-12)
        colours = plt.get_cmap("plasma")(shade)
        colours[..., 3] = 0.75 * shade  # cells that show nothing of the class leave the photo as it is
        ax.imshow(photo)
        ax.imshow(colours, extent=(0, 224, 224, 0), interpolation="nearest")
        for k in range(1, h):
            ax.axhline(k * 224 / h, color="white", lw=0.5, alpha=0.6)
        for k in range(1, w):
            ax.axvline(k * 224 / w, color="white", lw=0.5, alpha=0.6)
        peak = np.unravel_index(int(np.argmax(grid)), grid.shape)
        ax.set_title(f"class map: {name}\nbrightest cell {grid[peak]:.0%}", fontsize=MIN_FONT_PT + 1)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=MIN_FONT_PT + 2, weight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.9) if title else None)
    return fig


# -- one Annoy tree ------------------------------------------------------------------------------
def annoy_tree(points: np.ndarray, leaf_size: int = 5, seed: int = 0) -> list[dict]:
    """Annoy's way of building one tree, on 2-D points: pick two points of a node at random, split
    the node by the line halfway between them (perpendicular to the segment joining them), and
    recurse until a node holds at most `leaf_size` points. Returns the splits, parents first:
    {normal, offset, depth, node (the point rows split)}; a point goes left when normal . x < offset."""
    rng = np.random.default_rng(seed)
    splits: list[dict] = []

    def grow(rows: np.ndarray, depth: int, path: tuple) -> None:
        if len(rows) <= leaf_size:
            return
        a, b = points[rng.choice(rows, 2, replace=False)]
        normal = b - a
        offset = float(normal @ (a + b) / 2)
        left = rows[points[rows] @ normal < offset]
        right = rows[points[rows] @ normal >= offset]
        if not len(left) or not len(right):  # two identical points: stop here
            return
        splits.append({"normal": normal, "offset": offset, "depth": depth, "path": path, "rows": rows})
        grow(left, depth + 1, path + ((normal, offset, True),))
        grow(right, depth + 1, path + ((normal, offset, False),))

    grow(np.arange(len(points)), 0, ())
    return splits


def _clip(polygon: np.ndarray, normal: np.ndarray, offset: float, keep_below: bool) -> np.ndarray:
    """The part of a convex polygon on one side of the line normal . x = offset."""
    sign = 1.0 if keep_below else -1.0
    out = []
    for p, q in zip(polygon, np.roll(polygon, -1, axis=0)):
        fp, fq = sign * (p @ normal - offset), sign * (q @ normal - offset)
        if fp <= 0:
            out.append(p)
        if fp * fq < 0:
            out.append(p + (q - p) * fp / (fp - fq))
    return np.array(out)


def annoy_tree_figure(
    points: np.ndarray, query: np.ndarray | None = None, *, leaf_size: int = 5, seed: int = 0
):
    """One Annoy tree on 2-D points: its split lines, each drawn inside the region it splits (the
    first split thickest), and the points coloured by leaf. With `query`, its leaf is outlined:
    the candidates this tree offers; other trees split differently and offer others."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    points = np.asarray(points, np.float64)
    splits = annoy_tree(points, leaf_size, seed)
    lo, hi = points.min(axis=0) - 0.1, points.max(axis=0) + 0.1
    box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH_IN, 7.0), 6.0))
    for split in splits:
        region = box
        for normal, offset, below in split["path"]:
            region = _clip(region, normal, offset, below)
        below = _clip(region, split["normal"], split["offset"], True)
        edge = [
            p for p in below if abs(p @ split["normal"] - split["offset"]) < 1e-9 * (1 + abs(split["offset"]))
        ]
        if len(edge) >= 2:
            edge = np.array(edge)
            ax.plot(edge[:, 0], edge[:, 1], color="black", lw=max(0.6, 3.0 - 0.6 * split["depth"]))
    leaf = _leaf_ids(points, splits)
    ax.scatter(
        points[:, 0], points[:, 1], c=leaf, cmap="tab20", s=28, zorder=3, edgecolor="black", linewidth=0.3
    )
    if query is not None:
        query = np.asarray(query, np.float64)
        region = box
        for split in splits:
            if _on_path(query, split):
                below = query @ split["normal"] < split["offset"]
                region = _clip(region, split["normal"], split["offset"], below)
        ax.add_patch(Polygon(region, closed=True, fill=False, edgecolor="crimson", lw=2.5, zorder=4))
        ax.scatter([query[0]], [query[1]], marker="*", s=260, color="crimson", zorder=5, label="query")
        ax.legend(loc="upper right", frameon=True)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        f"One Annoy tree: {len(splits)} splits of {len(points)} points, at most {leaf_size} a leaf\n"
        "(each line halfway between two random points of its region; colour: leaf)",
        fontsize=MIN_FONT_PT + 1,
    )
    fig.tight_layout()
    return fig


def _on_path(x: np.ndarray, split: dict) -> bool:
    return all((x @ normal < offset) == below for normal, offset, below in split["path"])


def _leaf_ids(points: np.ndarray, splits: Sequence[dict]) -> np.ndarray:
    """A number per point, the same for points in the same leaf."""
    keys = []
    for x in points:
        keys.append(tuple(bool(x @ s["normal"] < s["offset"]) for s in splits if _on_path(x, s)))
    order = {key: i for i, key in enumerate(sorted(set(keys)))}
    return np.array([order[k] for k in keys])


# -- an HNSW graph's layers --------------------------------------------------------------------
def hnsw_layers(
    points: np.ndarray, m: int = 3, seed: int = 0
) -> tuple[np.ndarray, list[list[tuple[int, int]]]]:
    """The shape of an HNSW graph on 2-D points: each point's top layer drawn as in HNSW (level =
    floor(-ln(U) / ln(m)), so each layer holds about 1/m of the one below), and in every layer each
    point linked to its m nearest points of that layer. (The real insertion links by a greedy search
    and prunes; nearest neighbours show the same picture.) Returns (levels, edges per layer)."""
    points = np.asarray(points, np.float64)
    rng = np.random.default_rng(seed)
    levels = np.floor(-np.log(rng.uniform(1e-12, 1.0, len(points))) / np.log(m)).astype(int)
    edges = []
    for layer in range(int(levels.max()) + 1):
        rows = np.flatnonzero(levels >= layer)
        pairs = set()
        if len(rows) > 1:
            d = np.linalg.norm(points[rows][:, None] - points[rows][None], axis=2)
            np.fill_diagonal(d, np.inf)
            for i, row in enumerate(rows):
                for j in np.argsort(d[i], kind="stable")[: min(m, len(rows) - 1)]:
                    pairs.add((int(min(row, rows[j])), int(max(row, rows[j]))))
        edges.append(sorted(pairs))
    return levels, edges


def hnsw_figure(points: np.ndarray, *, m: int = 3, seed: int = 0, query: np.ndarray | None = None):
    """The layers of an HNSW graph side by side, the top layer first: few points and long links at
    the top, every point and short links at the bottom. With `query`, the greedy descent: in each
    layer, from the entry point, step to the neighbour closest to the query until none is closer,
    then go down a layer from there."""
    import matplotlib.pyplot as plt

    points = np.asarray(points, np.float64)
    levels, edges = hnsw_layers(points, m, seed)
    layers = len(edges)
    side = min(3.3, MAX_WIDTH_IN / layers)
    fig, axes = plt.subplots(1, layers, figsize=(side * layers, side + 0.8), squeeze=False)
    path = _greedy_descent(points, levels, edges, query) if query is not None else {}
    for panel, layer in enumerate(range(layers - 1, -1, -1)):
        ax = axes[0, panel]
        for a, b in edges[layer]:
            ax.plot(points[[a, b], 0], points[[a, b], 1], color="#888888", lw=0.7, zorder=1)
        ax.scatter(points[:, 0], points[:, 1], s=6, color="#dddddd", zorder=2)
        members = levels >= layer
        ax.scatter(points[members, 0], points[members, 1], s=22, color="tab:blue", zorder=3)
        if layer in path:
            steps = points[path[layer]]
            ax.plot(steps[:, 0], steps[:, 1], color="crimson", lw=2.2, marker="o", ms=4, zorder=4)
            ax.scatter([query[0]], [query[1]], marker="*", s=200, color="crimson", zorder=5)
        ax.set_title(
            f"layer {layer}: {int(members.sum())} point" + ("s" if members.sum() != 1 else ""),
            fontsize=MIN_FONT_PT + 1,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    fig.suptitle(
        f"An HNSW graph, top layer first (each point linked to its {m} nearest in a layer)",
        fontsize=MIN_FONT_PT + 1,
        weight="bold",
    )
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def _greedy_descent(points, levels, edges, query) -> dict[int, list[int]]:
    """The rows a greedy search visits in each layer, from the top layer's first point down."""
    query = np.asarray(query, np.float64)
    current = int(np.flatnonzero(levels == levels.max())[0])
    path: dict[int, list[int]] = {}
    for layer in range(len(edges) - 1, -1, -1):
        neighbours: dict[int, list[int]] = {}
        for a, b in edges[layer]:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
        visited = [current]
        while True:
            best = min(
                neighbours.get(current, []) + [current], key=lambda r: np.linalg.norm(points[r] - query)
            )
            if best == current:
                break
            current = best
            visited.append(current)
        path[layer] = visited
    return path
