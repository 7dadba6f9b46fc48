"""Pictures people would rather look at than read: result grids and contact sheets."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

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


def result_grid(queries: Sequence[tuple[str | os.PathLike | None, str]],
                results: Sequence[Sequence[Result]], *, size: float = 1.9, max_title: int = 24):
    """A matplotlib figure: one row per query (query image first, then its results with label
    and cosine score). A query without image (text) shows its text instead."""
    import matplotlib.pyplot as plt

    columns = 1 + max((len(r) for r in results), default=0)
    fig, axes = plt.subplots(len(queries), columns, figsize=(size * columns, size * 1.15 * len(queries)),
                             squeeze=False)
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
                ax.set_title(f"{result.rank}. {result.label}\n{result.score:.3f}"[:max_title * 2], fontsize=8)
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
