"""2-d maps: UMAP layouts of image or word vectors, drawn as scatter plots with thumbnails or words.

UMAP (and, through it, TensorFlow) is imported inside :func:`umap_2d`, and matplotlib inside the
drawing functions, deferred on purpose as in plots.py: they take seconds to import, and only the
map cells of the notebooks need them. Layouts are cached on disk, keyed by content.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np

from .backend import keras
from .plots import thumbnail
from .storage import atomic_path, cache_dir
from .text import query_vector


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
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    key = hashlib.sha256(
        vectors.tobytes() + repr((seed, n_neighbors, min_dist, metric)).encode()
    ).hexdigest()[:24]
    path = cache_dir("umap") / f"{key}.npy"
    if cache and path.exists():
        return np.load(path)
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
