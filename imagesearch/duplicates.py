"""Near-duplicate photos: the same shot twice, resized, re-encoded or lightly cropped.

Photo libraries are full of them. Two copies of one shot have almost the same CNN features, far
closer than two different photos of the same thing, so a cosine threshold over the image
vectors the index already holds finds them with no other model. Pairs above the threshold are
joined into groups (a photo, its resized copy and the copy's crop are one group).

`DEFAULT_THRESHOLD` was chosen on Pascal Sentences' training photos and their altered copies and
is measured on the test photos by `python -m bench.duplicates` (bench/results/duplicates.json).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .features import l2_normalize
from .images import load_rgb
from .storage import atomic_path

# vgg16-conv features (512-d), chosen on Pascal training photos (bench/duplicates.py,
# `choose_threshold`): distinct photos of one class scored at most 0.81 there, altered copies
# of one shot 0.83 to 1 (95% of them above 0.94).
DEFAULT_THRESHOLD = 0.85
BLOCK_ROWS = 2048  # rows compared at a time: memory stays BLOCK_ROWS x n floats


def similar_pairs(
    vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows i, rows j, cosines) of every pair i < j with cosine >= `threshold`, by rows."""
    unit = l2_normalize(vectors)
    found_i, found_j, found_s = [], [], []
    for start in range(0, len(unit), BLOCK_ROWS):
        scores = unit[start : start + BLOCK_ROWS] @ unit.T
        i, j = np.nonzero(scores >= threshold)
        keep = j > i + start
        found_i.append(i[keep] + start)
        found_j.append(j[keep])
        found_s.append(scores[i[keep], j[keep]])
    if not found_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return (
        np.concatenate(found_i).astype(np.int64),
        np.concatenate(found_j).astype(np.int64),
        np.concatenate(found_s).astype(np.float32),
    )


def duplicate_groups(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Groups (two rows or more) joined by pairs above the threshold: each group sorted, the
    groups by their first row."""
    parent = list(range(len(vectors)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rows_i, rows_j, _ = similar_pairs(vectors, threshold)
    for i, j in zip(rows_i.tolist(), rows_j.tolist()):
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for row in range(len(vectors)):
        groups.setdefault(root(row), []).append(row)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def similar_count(
    vectors: np.ndarray, rows: Sequence[int] | np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> np.ndarray:
    """For each of `rows`, how many other rows are near duplicates of it: the "n similar" of a
    result card. One matrix product over the collection per call (`vectors` may be memory-mapped
    unit vectors, as an index holds them)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return np.zeros(0, np.int64)
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))  # no normalised copy of the collection
    scores = (l2_normalize(np.asarray(vectors)[rows]) @ np.asarray(vectors).T) / np.maximum(norms, 1e-12)
    return (scores >= threshold).sum(axis=1).astype(np.int64) - 1  # less the photo itself


def pair_scores(vectors: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Cosine of each (i, j) row pair: what the threshold is compared with."""
    unit = l2_normalize(vectors)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return np.einsum("ij,ij->i", unit[pairs[:, 0]], unit[pairs[:, 1]])


def precision_recall(scores: np.ndarray, is_duplicate: np.ndarray, threshold: float) -> tuple[float, float]:
    """(precision, recall) of calling a pair a duplicate when its score >= threshold
    (precision 1.0 when nothing is called)."""
    called = np.asarray(scores) >= threshold
    truth = np.asarray(is_duplicate, bool)
    hits = int((called & truth).sum())
    precision = hits / int(called.sum()) if called.any() else 1.0
    recall = hits / int(truth.sum()) if truth.any() else 1.0
    return precision, recall


def choose_threshold(scores: np.ndarray, is_duplicate: np.ndarray, *, step: float = 0.05) -> float:
    """The lowest multiple of `step` above every non-duplicate pair's score: what
    DEFAULT_THRESHOLD was chosen with, on training photos. Not a point that hugs the last
    negative: a library of n photos has n^2 / 2 pairs that are no duplicates, so the threshold
    keeps a margin above them, and altered copies still score well above it."""
    negatives = np.asarray(scores, np.float64)[~np.asarray(is_duplicate, bool)]
    if not len(negatives):
        raise ValueError("choosing a threshold needs pairs that are not duplicates")
    return round(float(np.floor(negatives.max() / step + 1e-9) + 1) * step, 10)


#: The alterations a copy of one shot goes through in a photo library, as bench/duplicates.py
#: measures them: half size, JPEG quality 30, a 10% crop, a 5-degree rotation.
VARIANTS = ("resize", "jpeg30", "crop10", "rotate5")


def altered_copy(source: str | Path, out: str | Path, variant: str) -> Path:
    """Write one altered copy of a photo as JPEG (atomically; an existing `out` is kept)."""
    from PIL import Image

    out = Path(out)
    if out.exists():
        return out
    image = load_rgb(source)
    width, height = image.size
    quality = 95
    if variant == "resize":
        image = image.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.LANCZOS)
    elif variant == "jpeg30":
        quality = 30
    elif variant == "crop10":
        w, h = round(width * 0.9), round(height * 0.9)
        left, top = (width - w) // 2, (height - h) // 2
        image = image.crop((left, top, left + w, top + h))
    elif variant == "rotate5":
        image = image.rotate(5, resample=Image.Resampling.BICUBIC)
    else:
        raise ValueError(f"unknown alteration {variant!r}: one of {', '.join(VARIANTS)}")
    with atomic_path(out) as tmp:
        image.save(tmp, format="JPEG", quality=quality)
    return out
