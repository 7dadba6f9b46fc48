"""Pictures people would rather look at than read: result grids, contact sheets, heatmaps and charts.

matplotlib is imported inside each function, deferred on purpose: `import imagesearch.plots` stays
fast. The 2-d UMAP maps are in maps.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .images import ImageLoadError, load_rgb
from .index import Result
from .storage import atomic_path

THUMBNAIL = 160


def thumbnail(path: str | os.PathLike, size: int = THUMBNAIL) -> np.ndarray:
    """A small RGB array of an image, or a gray tile when the file cannot be read."""
    try:
        image = load_rgb(path)
    except ImageLoadError:
        return np.full((size, size, 3), 200, np.uint8)
    image.thumbnail((size, size))
    return np.asarray(image)


def result_grid(
    queries: Sequence[tuple[str | os.PathLike | None, str]],
    results: Sequence[Sequence[Result]],
    *,
    size: float = 1.9,
    max_title: int = 24,
):
    """A matplotlib figure: one row per query (query image first, then its results with label
    and cosine score). A query without image (text) shows its text instead."""
    import matplotlib.pyplot as plt

    columns = 1 + max((len(r) for r in results), default=0)
    fig, axes = plt.subplots(
        len(queries), columns, figsize=(size * columns, size * 1.15 * len(queries)), squeeze=False
    )
    for row, ((query_path, title), found) in enumerate(zip(queries, results)):
        ax = axes[row][0]
        if query_path is not None:
            ax.imshow(thumbnail(query_path))
        else:
            ax.set_facecolor("#f0f0f0")
            ax.text(0.5, 0.5, title, ha="center", va="center", wrap=True, fontsize=11, weight="bold")
        ax.set_title(f"query: {title}"[:max_title], fontsize=9, weight="bold")
        for col in range(1, columns):
            ax = axes[row][col]
            if col - 1 < len(found):
                result = found[col - 1]
                ax.imshow(thumbnail(result.path))
                ax.set_title(
                    f"{result.rank}. {result.label}\n{result.score:.3f}"[: max_title * 2], fontsize=8
                )
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Write a figure atomically (PNG unless the name says otherwise) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def image_grid(
    paths: Sequence[str | os.PathLike],
    titles: Sequence[str] | None = None,
    *,
    columns: int = 5,
    size: float = 2.4,
    suptitle: str | None = None,
):
    """A grid of images with a title under each (label, caption, score...)."""
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(paths) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * 1.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, path in enumerate(paths):
        ax = axes.flat[i]
        ax.imshow(thumbnail(path, 224))
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=12, weight="bold")
    fig.tight_layout()
    return fig


def similarity_heatmap(
    matrix: np.ndarray, labels: Sequence[str], *, title: str, cbar_label: str = "mean cosine"
):
    """A labelled class-by-class matrix with its values written in the cells."""
    import matplotlib.pyplot as plt

    n = len(labels)
    fig, ax = plt.subplots(figsize=(0.5 * n + 3, 0.5 * n + 2))
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(n), labels, rotation=60, ha="right")
    ax.set_yticks(range(n), labels)
    if n <= 25:
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    f"{matrix[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if matrix[i, j] < matrix.mean() else "black",
                )
    fig.colorbar(image, ax=ax, label=cbar_label)
    ax.set_title(title)
    fig.tight_layout()
    return fig


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


def captioned_grid(
    paths: Sequence[str | os.PathLike],
    labels: Sequence[str],
    captions: Sequence[str],
    *,
    columns: int = 4,
    size: float = 3.4,
    width: int = 34,
    lines: int = 3,
    suptitle: str | None = None,
):
    """An image grid titled with each image's label and a caption, wrapped to fit under the
    image (captions are sentences, far wider than a thumbnail)."""
    import textwrap

    titles = []
    for label, caption in zip(labels, captions):
        wrapped = textwrap.wrap(caption, width)
        if len(wrapped) > lines:
            wrapped = wrapped[:lines]
            wrapped[-1] = wrapped[-1][: width - 3] + "..."
        titles.append("\n".join([f"[{label}]", *wrapped]))
    return image_grid(paths, titles, columns=columns, size=size, suptitle=suptitle)


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
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(names) + 1.4))
    colours = ["tab:orange" if m else "tab:blue" for m in marked]
    ax.barh(range(len(names)), values, color=colours)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    for i, value in enumerate(values):
        ax.text(value, i, " " + value_format.format(value), va="center", fontsize=8)
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
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 3.6), gridspec_kw={"width_ratios": [2, 1]})
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
