"""usearch's HNSW graph: the backend for large collections, chosen by measurement
(bench/scale.py, bench/results/scale-100000.json) and by what it supports: at 100k vectors its
float16 HNSW reaches the recall of Annoy at a third to half of Annoy's latency and half its
memory; hnswlib and faiss's HNSW are up to ~2x faster per query, but hnswlib ships only as a
source package compiled with -march=native and faiss's HNSW indexes cannot remove items (its IVF
can, at lower recall per millisecond). usearch adds and removes after the build and ships
wheels. float16, because its float32 build is ~3x slower here; connectivity 32 / expansion
200 / 128 aim at recall@10 >= 0.95. On the synthetic 1M set (bench/scale.py) f16 stops short of
it (0.948 at expansion_search 512); the preset "usearch-i8" (PRESETS) reaches it: int8 storage,
expansion 128 / 512, and an exact re-rank of the top `rerank` = 100 candidates with the float32
vectors, which EmbeddingIndex.search does (0.953 at 2.59 ms p50, 968 MB). Its metadata says
"usearch-i8". usearch is imported when first used.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..storage import atomic_path
from .base import BackendError, ranked

PRESETS: dict[str, dict[str, Any]] = {
    "usearch-i8": {
        "dtype": "i8",
        "connectivity": 32,
        "expansion_add": 128,
        "expansion_search": 512,
        "rerank": 100,
    },
}
# usearch inserts on every core by default, and the HNSW graph (hence which neighbours an
# approximate search finds) depends on the order the threads insert in: up to this many
# vectors it inserts on one thread, so that a build or an add repeats exactly on every machine
# and core count (the notebooks print its results); above it, on all cores, since one thread
# takes minutes per million vectors. The thread count used is recorded ("threads": 0 = all).
SERIAL_UP_TO = 100_000


def insert_threads(count: int) -> int:
    """usearch threads for an index of `count` vectors: 1 (deterministic) or 0 (every core)."""
    return 1 if count <= SERIAL_UP_TO else 0


class UsearchBackend:
    """usearch's HNSW graph over inner products, float16 storage by default; keys are rows.
    `rerank` > 0: EmbeddingIndex.search asks for that many candidates and re-scores them exactly
    (int8's own distances are not cosines: usearch leaves them in its integer scale)."""

    name = "usearch"
    suffix = ".usearch"
    updatable = True
    options = ()  # its presets (PRESETS) choose its settings
    KEYS = ("dtype", "connectivity", "expansion_add", "expansion_search", "threads", "rerank")

    def __init__(
        self,
        dim: int,
        *,
        dtype: str = "f16",
        connectivity: int = 32,
        expansion_add: int = 200,
        expansion_search: int = 128,
        seed: int = 0,
        threads: int | None = None,
        rerank: int = 0,
    ):
        self.dim, self.dtype, self.rerank = dim, dtype, int(rerank)
        self.connectivity, self.expansion_add, self.expansion_search = (
            connectivity,
            expansion_add,
            expansion_search,
        )
        self._index = None
        self._path = None  # the file a memory-mapped (read-only) index views
        self.threads = threads  # of the last build or add (insert_threads)

    @classmethod
    def from_settings(cls, dim: int, settings: dict[str, Any]) -> UsearchBackend:
        return cls(dim, **{k: settings[k] for k in cls.KEYS if k in settings})

    def settings(self) -> dict[str, Any]:
        return {
            "metric": "ip",
            "dtype": self.dtype,
            "connectivity": self.connectivity,
            "expansion_add": self.expansion_add,
            "expansion_search": self.expansion_search,
            **({"rerank": self.rerank} if self.rerank else {}),  # older indexes: none
            **({} if self.threads is None else {"threads": self.threads}),
        }

    def tune(self, *, expansion_search: int) -> None:
        """The search effort of the next searches (bench/scale.py sweeps it)."""
        self.expansion_search = int(expansion_search)
        if self._index is not None:
            self._index.expansion_search = self.expansion_search

    def _new(self):
        from usearch.index import Index

        return Index(
            ndim=self.dim,
            metric="ip",
            dtype=self.dtype,
            connectivity=self.connectivity,
            expansion_add=self.expansion_add,
            expansion_search=self.expansion_search,
        )

    def build(self, vectors: np.ndarray) -> None:
        self._index = self._new()
        self.threads = insert_threads(len(vectors))
        if len(vectors):
            keys, vectors = np.arange(len(vectors)), np.ascontiguousarray(vectors, dtype=np.float32)
            self._index.add(keys, vectors, threads=self.threads)

    def search(
        self, vector: np.ndarray, k: int, exclude: Sequence[int] = (), search_k: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """`search_k` is Annoy's knob; here `expansion_search` (recorded at build) sets the effort."""
        want = min(k + len(exclude), len(self._index))
        if want == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        matches = self._index.search(np.asarray(vector, dtype=np.float32), want, threads=1)
        return ranked(matches.keys, 1.0 - matches.distances, exclude, k)  # ip distance = 1 - cos

    def add(self, all_vectors: np.ndarray) -> None:
        """Insert the rows past the ones already indexed (the new tail of `all_vectors`)."""
        self._writable()
        start = len(self._index)
        new = np.ascontiguousarray(all_vectors[start:], dtype=np.float32)
        self.threads = insert_threads(len(all_vectors))
        if len(new):
            self._index.add(np.arange(start, start + len(new)), new, threads=self.threads)

    def remove(self, rows: Sequence[int], all_vectors: np.ndarray) -> None:
        """Remove `rows`, then renumber the keys after them so that keys stay rows: one bulk
        rename, in ascending order, so that each target key is free when it is taken."""
        self._writable()
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        old_count = len(self._index)
        self._index.remove(rows)
        kept = np.setdiff1d(np.arange(old_count), rows)
        moved = kept != np.arange(len(kept))
        if moved.any():
            self._index.rename(kept[moved], np.flatnonzero(moved))
        if len(self._index) != len(all_vectors):
            raise BackendError(
                f"usearch holds {len(self._index)} items after removal, expected {len(all_vectors)}"
            )

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            self._index.save(str(tmp))

    def load(self, path: Path) -> None:
        """Memory-map the saved graph (opening reads nothing); an update loads it (`_writable`)."""
        self._index, self._path = self._new(), Path(path)
        try:
            self._index.view(str(path))
        except (OSError, RuntimeError) as error:
            raise BackendError(f"cannot open {path} ({error}); rebuild the index.") from None

    def _writable(self) -> None:
        if self._path is not None:  # a view: read the file into memory before changing it
            self._index = self._new()
            self._index.load(str(self._path))
            self._path = None
