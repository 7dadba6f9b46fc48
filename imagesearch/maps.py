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

from .keras_loader import keras
from .plots import fit_width, thumbnail
from .storage import atomic_path, cache_dir


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
    keras()  # umap imports TensorFlow when it is installed: do it quietly first (see keras_loader.py)
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
    max_thumbnails: int = 24,
    texts: Sequence[str] | None = None,
    figsize: tuple[float, float] = (9.8, 7.5),
    class_names: bool = True,
):
    """A 2-d map coloured by label (tab20: 20 colours), each class's name written at its
    centroid (`class_names`), with some image thumbnails (every `thumbnail_every`-th image, at
    most `max_thumbnails`, large enough to see, none covering another) or word labels on top.
    Texts never overlap: one that would cover an earlier one is moved a little or left out (see
    `place_texts`), class names placed first. The figure is scaled to the notebooks' width (`plots.fit_width`)."""
    import matplotlib.pyplot as plt

    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    cmap = plt.get_cmap("tab20", max(len(classes), 1))
    fig, ax = plt.subplots(figsize=fit_width(figsize))
    for i, label in enumerate(classes):
        mask = labels == label
        ax.scatter(xy[mask, 0], xy[mask, 1], s=14, color=cmap(i), label=label, alpha=0.8)
    items = _class_name_items(xy, labels, classes, cmap) if class_names and texts is None else []
    if texts is not None:
        items += [((x, y), text, {"fontsize": 10}) for (x, y), text in zip(xy, texts)]
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if len(classes) <= 25 and not (class_names and texts is None):
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2)
    fig.tight_layout()
    if thumbnails is not None:
        step = max(thumbnail_every, -(-len(xy) // max(max_thumbnails, 1)))
        _add_thumbnails(fig, ax, xy, thumbnails, lambda row: cmap(classes.index(labels[row])), step)
    place_texts(ax, items)
    return fig


def _class_name_items(xy: np.ndarray, labels: np.ndarray, classes: list[str], cmap) -> list:
    """Each class's name as a place_texts item at its points' median, boxed in its colour."""
    items = []
    for i, label in enumerate(classes):
        centre = np.median(xy[labels == label], axis=0)
        items.append(
            (
                centre,
                label,
                {
                    "weight": "bold",
                    "color": "black",
                    "fontsize": 10,
                    "bbox": {"boxstyle": "round,pad=0.15", "facecolor": cmap(i), "alpha": 0.85, "lw": 0},
                },
            )
        )
    return items


def _add_thumbnails(fig, ax, xy: np.ndarray, thumbnails, edge, step: int) -> None:
    """Every `step`-th point's image, framed in its class colour (`edge(row)`); one
    that would cover an earlier thumbnail is left out, so a crowded spot shows one."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    renderer, boxes = fig.canvas.get_renderer(), []
    for row in range(0, len(xy), step):
        box = OffsetImage(thumbnail(thumbnails[row], 56), zoom=1.0)
        artist = ax.add_artist(
            AnnotationBbox(box, xy[row], frameon=True, pad=0.1, bboxprops={"edgecolor": edge(row), "lw": 2})
        )
        extent = artist.get_window_extent(renderer)
        if any(extent.overlaps(other) for other in boxes):
            artist.remove()
        else:
            boxes.append(extent)


def place_texts(ax, items, offsets=((4, 4), (4, -14), (-40, 4), (-40, -14))) -> list:
    """Write (xy, text, properties) items in order where they overlap no text already written:
    each tries a few offsets from its point, and is left out when none is free (a crowded map
    stays readable). Returns the annotations written."""
    renderer = ax.figure.canvas.get_renderer()
    placed, boxes = [], []
    for xy, text, props in items:
        for dx, dy in offsets:
            note = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", zorder=5, **props)
            box = note.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(other) for other in boxes):
                placed.append(note)
                boxes.append(box)
                break
            note.remove()
    return placed


def joint_space_map(
    engine,
    words: Sequence[str] = (),
    *,
    title: str | None = None,
    seed: int = 42,
    n_neighbors: int = 30,
    min_dist: float = 0.5,
    figsize: tuple[float, float] = (9.8, 7.5),
):
    """Images and words in one map of the joint space, laid out together by UMAP.

    Every indexed image's joint vector is a dot coloured by its label; the class names (black
    stars, bold text) and the extra `words` (anything in the word vectors: "ocean", "kitten";
    red stars, italic red text) are placed with them, texts never overlapping (`place_texts`). It shows what the joint model learnt: each class's images
    gather around its name, and a word that is no label lands near the images it will find.
    """
    images = engine.joint_index
    labels = [item["label"] for item in images.records]
    names = list(dict.fromkeys(sorted(set(labels)) + list(words)))
    word_vectors = np.stack([engine.text_encoder.query(name).vector for name in names])
    xy = umap_2d(
        np.vstack([images.vectors, word_vectors]), seed=seed, n_neighbors=n_neighbors, min_dist=min_dist
    )
    fig = scatter_map(
        xy[: len(labels)],
        labels,
        figsize=figsize,
        class_names=False,
        title=title or f"joint space: {len(labels)} images and {len(names)} words (UMAP)",
    )
    ax = fig.axes[0]
    if ax.get_legend() is not None:
        ax.get_legend().remove()  # the stars name the classes
    classes = set(labels)
    items = []
    for (x, y), name in zip(xy[len(labels) :], names):
        is_class = name in classes
        colour = "black" if is_class else "tab:red"
        ax.scatter([x], [y], marker="*", s=220, color=colour, edgecolor="white", linewidth=0.8, zorder=3)
        props = {
            "fontsize": 11,
            "weight": "bold" if is_class else "normal",
            "color": colour,
            "style": "normal" if is_class else "italic",
            "bbox": {"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75, "lw": 0},
        }
        items.append(((x, y), name, props))
    ax.margins(x=0.1, y=0.06)  # room for the texts of the outermost stars
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    fig.tight_layout()
    place_texts(ax, items)
    return fig
