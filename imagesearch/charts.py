"""Charts of numbers (bars, curves, a vector): the measured side of the notebooks' figures.

Split from plots.py, which re-exports them (the notebooks call `plots.bar_chart`...), with the
figure rules' constants; the same rules hold (width within MAX_WIDTH_IN, text at least MIN_FONT_PT). matplotlib is imported
inside each function, deferred on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_WIDTH_IN = 9.8  # 980 px at plots.DPI (100), leaving room for bbox_inches="tight" to add a few pixels
MIN_FONT_PT = 10  # the smallest text a figure may use


def loss_curves(history: dict[str, list[float]], *, title: str = "joint model training"):
    """Training and validation loss by epoch (cosine loss: -1 is perfect)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for key, style in (("loss", "-"), ("val_loss", "--")):
        if key in history:
            ax.plot(range(1, len(history[key]) + 1), history[key], style, label=key.replace("_", " "))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (negative cosine)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def bar_chart(
    names: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    highlight: Sequence[str] = (),
    highlight_label: str = "",
    other_label: str = "",
    value_format: str = "{:g}",
    reference: float | None = None,
    reference_label: str = "",
):
    """Horizontal bars, the first name on top, values written at the bar ends; names in
    `highlight` get another colour (e.g. caption words that are class names); `reference` draws
    a dashed vertical line (e.g. the chance level)."""
    import matplotlib.pyplot as plt

    names, values = list(names), [float(v) for v in values]
    marked = [name in set(highlight) for name in names]
    fig, ax = plt.subplots(figsize=(8, 0.34 * len(names) + 1.4))
    colours = ["tab:orange" if m else "tab:blue" for m in marked]
    ax.barh(range(len(names)), values, color=colours)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    for i, value in enumerate(values):
        ax.text(value, i, " " + value_format.format(value), va="center", fontsize=MIN_FONT_PT)
    handles = []
    if any(marked) and highlight_label:
        from matplotlib.patches import Patch

        handles = [
            Patch(color="tab:orange", label=highlight_label),
            Patch(color="tab:blue", label=other_label or "other"),
        ]
    if reference is not None:
        handles.append(
            ax.axvline(reference, color="black", ls="--", lw=1, label=reference_label or "reference")
        )
    if handles:
        ax.legend(handles=handles, loc="lower right")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.margins(x=0.1)
    fig.tight_layout()
    return fig


def vector_plot(vector: np.ndarray, *, title: str, ylabel: str = "activation"):
    """One embedding two ways: each dimension's value, and the values sorted, which shows how
    few channels carry most of the signal and how many are (near) zero."""
    import matplotlib.pyplot as plt

    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(MAX_WIDTH_IN, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    left.bar(range(len(vector)), vector, width=1.0, color="tab:blue")
    left.set_xlim(-0.5, len(vector) - 0.5)
    left.set_xlabel("dimension (channel)")
    left.set_ylabel(ylabel)
    left.set_title(title)
    right.plot(np.sort(vector)[::-1], color="tab:blue")
    right.axhline(0, color="gray", lw=0.8)
    right.set_xlabel("rank")
    right.set_ylabel(ylabel)
    right.set_title(f"sorted: {int(np.sum(vector == 0))} of {len(vector)} are 0")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def tradeoff_plot(rows: Sequence[dict], *, k: int = 10, title: str = "Annoy: trees vs recall and speed"):
    """Number of Annoy trees (log x) against recall@k (left axis) and the time of one query
    (right axis), with exact search's time as a dashed line: what `experiments.trees_tradeoff` measured."""
    import matplotlib.pyplot as plt

    trees = [row["trees"] for row in rows]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(trees, [row["recall"] for row in rows], "o-", color="tab:blue", label=f"recall@{k}")
    ax.set_xscale("log")
    ax.set_xticks(trees, [str(t) for t in trees])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("Annoy trees (log scale)")
    ax.set_ylabel(f"recall@{k} against exact search", color="tab:blue")
    ax.grid(alpha=0.3)
    right = ax.twinx()
    right.plot(trees, [row["query_ms"] for row in rows], "s-", color="tab:red", label="Annoy query")
    # exact search does not depend on the trees: its fastest measurement is the least disturbed
    right.axhline(
        float(np.min([row["exact_ms"] for row in rows])), color="tab:red", ls="--", label="exact query"
    )
    right.set_ylim(bottom=0)
    right.set_ylabel("time per query (ms)", color="tab:red")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="center right")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def cluster_order(matrix: np.ndarray) -> list[int]:
    """Row order that puts alike rows (classes) next to each other: the leaves of an average-
    linkage clustering of the rows, optimally ordered. Deterministic: no random start."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    matrix = np.asarray(matrix, np.float64)
    if len(matrix) < 3:
        return list(range(len(matrix)))
    return [int(i) for i in leaves_list(linkage(matrix, method="average", optimal_ordering=True))]


def similarity_heatmap(
    matrix: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    cbar_label: str = "mean cosine",
    numbers: bool | None = None,
):
    """A class-by-class matrix, classes ordered by `cluster_order` (classes the features confuse
    sit side by side), a colour bar the matrix's height, and the values written in the cells
    when they fit at MIN_FONT_PT (`numbers`; by default up to 12 classes)."""
    import matplotlib.pyplot as plt
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    order = cluster_order(matrix)
    matrix = np.asarray(matrix)[np.ix_(order, order)]
    labels = [labels[i] for i in order]
    n = len(labels)
    numbers = n <= 12 if numbers is None else numbers
    side = min(MAX_WIDTH_IN - 2.6, 0.36 * n + 2.5)
    fig, ax = plt.subplots(figsize=(side + 2.6, side + 1.0))
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(n), labels, rotation=60, ha="right")
    ax.set_yticks(range(n), labels)
    if numbers:
        middle = (matrix.min() + matrix.max()) / 2
        for i in range(n):
            for j in range(n):
                colour = "white" if matrix[i, j] < middle else "black"
                ax.text(
                    j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=MIN_FONT_PT, color=colour
                )
    bar = make_axes_locatable(ax).append_axes("right", size="4%", pad=0.15)
    fig.colorbar(image, cax=bar, label=cbar_label)
    ax.set_title(title)
    fig.tight_layout()
    return fig
