"""Annoy's angular forest (the talk's, the default): small collections, the notebooks,
byte-identical builds. It cannot add or remove an item after its build, so updates rebuild it.
Where Annoy has no wheel, an exact numpy search stands in (`ExactForest`), with a warning.
Annoy is imported when first used.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..storage import atomic_path
from .base import BackendError, cosine_from_angular, ranked

DEFAULT_TREES = 50


def annoy_index_class():
    """annoy.AnnoyIndex, or None where no Annoy is installed (no wheel for this platform)."""
    try:
        from annoy import AnnoyIndex
    except ImportError:
        return None
    return AnnoyIndex


NO_ANNOY = (
    "Annoy is not installed (annoy-mm has no wheel for this platform): searching exactly instead, "
    "with the same answers, slower past ~100k images. Install annoy-mm to search approximately."
)
NPY_MAGIC = b"\x93NUMPY"  # what an exact stand-in's .ann file starts with (never an Annoy file)


class ExactForest:
    """Annoy's interface over an exact numpy search: the stand-in where Annoy has no wheel.
    Its file holds the vectors (.npy format), so an index built with it opens anywhere."""

    def __init__(self, dim: int):
        self.dim, self.vectors = dim, np.zeros((0, dim), dtype=np.float32)

    def build(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def get_nns_by_vector(self, vector, n, search_k=-1, include_distances=True):
        scores = self.vectors @ np.asarray(vector, dtype=np.float32)
        rows = np.argsort(-scores, kind="stable")[:n]
        return rows.tolist(), np.sqrt(np.maximum(2.0 - 2.0 * scores[rows], 0.0)).tolist()

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            np.save(f, self.vectors)

    def unload(self) -> None:
        pass

    def load(self, path: str) -> None:
        self.vectors = np.load(path, mmap_mode="r")


class AnnoyBackend:
    """Annoy's angular forest: fast, memory-mapped, but frozen after its build. Where Annoy is
    not installed, an exact search stands in for it (ExactForest), with a warning."""

    name = "annoy"
    suffix = ".ann"
    updatable = False
    options = ("n_trees",)  # more trees: better recall, a bigger index
    rerank = 0  # candidates EmbeddingIndex.search re-scores exactly (none)

    def __init__(self, dim: int, *, n_trees: int = DEFAULT_TREES, seed: int = 0):
        self.dim, self.n_trees, self.seed = dim, n_trees, seed
        self._index = None

    @classmethod
    def from_settings(cls, dim: int, settings: dict[str, Any]) -> AnnoyBackend:
        return cls(
            dim, n_trees=int(settings.get("n_trees", DEFAULT_TREES)), seed=int(settings.get("seed", 0))
        )

    def settings(self) -> dict[str, Any]:
        return {"metric": "angular", "n_trees": self.n_trees, "seed": self.seed}

    def build(self, vectors: np.ndarray) -> None:
        AnnoyIndex = annoy_index_class()
        if AnnoyIndex is None:
            warnings.warn(NO_ANNOY, stacklevel=2)
            self._index = ExactForest(self.dim)
            self._index.build(vectors)
            return
        self._index = AnnoyIndex(self.dim, "angular")
        self._index.set_seed(self.seed)
        for row, vector in enumerate(vectors):
            self._index.add_item(row, vector)
        self._index.build(self.n_trees, n_jobs=1)  # one job: the same trees on every run

    def search(
        self, vector: np.ndarray, k: int, exclude: Sequence[int] = (), search_k: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        rows, distances = self._index.get_nns_by_vector(
            vector, k + len(exclude), search_k=search_k, include_distances=True
        )
        scores = cosine_from_angular(np.asarray(distances, dtype=np.float32))
        return ranked(rows, scores, exclude, k)

    def add(self, all_vectors: np.ndarray) -> None:
        """Annoy has no add: rebuild over every vector (the caller names the cost)."""
        self.build(all_vectors)

    def remove(self, rows: Sequence[int], all_vectors: np.ndarray) -> None:
        self.build(all_vectors)  # the compacted vectors

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            self._index.save(str(tmp))
            self._index.unload()
        self.load(path)

    def load(self, path: Path) -> None:
        with open(path, "rb") as f:
            exact = f.read(len(NPY_MAGIC)) == NPY_MAGIC
        AnnoyIndex = annoy_index_class()
        if exact or AnnoyIndex is None:
            if not exact:
                raise BackendError(
                    f"{path} is an Annoy index and Annoy is not installed: pip install annoy-mm, "
                    "or build the index again here (it then searches exactly)."
                )
            self._index = ExactForest(self.dim)
            self._index.load(str(path))
            return
        self._index = AnnoyIndex(self.dim, "angular")
        try:
            self._index.load(str(path))
        except OSError as error:
            raise BackendError(f"cannot open {path} ({error}); rebuild the index.") from None
