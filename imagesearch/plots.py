"""Pictures people would rather look at than read: result grids and contact sheets."""

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


def umap_2d(
    vectors: np.ndarray,
    *,
    seed: int = 42,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
    cache: bool = True,
) -> np.ndarray:
    """A 2-d UMAP layout of the rows, cached on disk by content and parameters (UMAP takes
    tens of seconds; the notebooks draw the same maps on every run). Seeded: it repeats."""
    import hashlib

    from .storage import cache_dir

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    key = hashlib.sha256(
        vectors.tobytes() + repr((seed, n_neighbors, min_dist, metric)).encode()
    ).hexdigest()[:24]
    path = cache_dir("umap") / f"{key}.npy"
    if cache and path.exists():
        return np.load(path)
    from .backend import keras

    keras()  # umap imports TensorFlow when it is installed: do it quietly first (see backend.py)
    import umap

    layout = (
        umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric, random_state=seed, n_jobs=1)
        .fit_transform(vectors)
        .astype(np.float32)
    )
    if cache:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, layout)
    return layout


def scatter_map(
    xy: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    thumbnails: Sequence[str | os.PathLike] | None = None,
    thumbnail_every: int = 10,
    texts: Sequence[str] | None = None,
    figsize: tuple[float, float] = (13, 10),
):
    """A 2-d map coloured by label, with some image thumbnails or word labels on top."""
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    cmap = plt.get_cmap("tab20", max(len(classes), 1))
    fig, ax = plt.subplots(figsize=figsize)
    for i, label in enumerate(classes):
        mask = labels == label
        ax.scatter(xy[mask, 0], xy[mask, 1], s=14, color=cmap(i), label=label, alpha=0.8)
    if thumbnails is not None:
        for row in range(0, len(xy), thumbnail_every):
            box = OffsetImage(thumbnail(thumbnails[row], 48), zoom=0.8)
            ax.add_artist(
                AnnotationBbox(
                    box,
                    xy[row],
                    frameon=True,
                    pad=0.1,
                    bboxprops={"edgecolor": cmap(classes.index(labels[row]))},
                )
            )
    if texts is not None:
        for (x, y), text in zip(xy, texts):
            ax.annotate(text, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    if len(classes) <= 25:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, markerscale=2)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
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


def joint_space_map(
    engine,
    words: Sequence[str] = (),
    *,
    title: str | None = None,
    seed: int = 42,
    n_neighbors: int = 30,
    min_dist: float = 0.5,
    figsize: tuple[float, float] = (14, 10),
):
    """Images and words in one map of the joint space, laid out together by UMAP.

    Every indexed image's joint vector is a dot coloured by its label; the class names (black
    stars, bold text above) and the extra `words` (anything in the word vectors: "ocean",
    "kitten"; red stars, italic text below, so that a word landing on a class name stays
    readable) are placed with them. It shows what the joint model learnt: each class's images
    gather around its name, and a word that is no label lands near the images it will find.
    """

    from .text import query_vector

    images = engine.joint_index
    labels = [item["label"] for item in images.records]
    names = list(dict.fromkeys(sorted(set(labels)) + list(words)))
    word_vectors = np.stack([query_vector(engine.word_vectors, name).vector for name in names])
    xy = umap_2d(
        np.vstack([images.vectors, word_vectors]), seed=seed, n_neighbors=n_neighbors, min_dist=min_dist
    )
    fig = scatter_map(
        xy[: len(labels)],
        labels,
        figsize=figsize,
        title=title or f"joint space: {len(labels)} images and {len(names)} words (UMAP)",
    )
    ax = fig.axes[0]
    classes = set(labels)
    for (x, y), name in zip(xy[len(labels) :], names):
        is_class = name in classes
        ax.scatter(
            [x],
            [y],
            marker="*",
            s=220,
            color="black" if is_class else "tab:red",
            edgecolor="white",
            linewidth=0.8,
            zorder=3,
        )
        ax.annotate(
            name,
            (x, y),
            fontsize=11,
            weight="bold" if is_class else "normal",
            style="normal" if is_class else "italic",
            color="black" if is_class else "tab:red",
            xytext=(7, 5) if is_class else (7, -14),
            textcoords="offset points",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75, "lw": 0},
        )
    ax.margins(x=0.1, y=0.06)  # room for the texts of the outermost stars
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    return fig
