"""Approximate nearest-neighbour backends behind one interface, over unit vectors.

Annoy (the talk's) stays the default: small collections, the notebooks, byte-identical builds.
It cannot add or remove an item after its build, so updates rebuild it. usearch is the backend
for large collections, chosen by measurement (bench/scale.py, bench/results/scale-100000.json)
and by what it supports: at 100k vectors its float16 HNSW reaches the recall of Annoy at a
third to half of Annoy's latency and half its memory; hnswlib and faiss's HNSW are up to ~2x
faster per query, but hnswlib ships only as a source package compiled with -march=native and
faiss's HNSW indexes cannot remove items (its IVF can, at lower recall per millisecond).
usearch adds and removes after the build and ships wheels. float16, because its float32
build is ~3x slower here; connectivity 32 / expansion 200 / 128 aim at recall@10 >= 0.95.
On the synthetic 1M set (bench/scale.py) f16 stops short of it (0.948 at expansion_search
512); the preset "usearch-i8" (PRESETS) reaches it: int8 storage, expansion 128 / 512, and an
exact re-rank of the top `rerank` = 100 candidates with the float32 vectors, which
EmbeddingIndex.search does (0.953 at 2.59 ms p50, 968 MB). Its metadata says "usearch-i8".

Rows are the keys: a backend answers with row numbers of the index's vectors. Removing rows
compacts them (later rows move down, as in the vectors and records arrays), so no tombstone is
ever returned. Both libraries are imported when first used (faiss/usearch never for Annoy).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from .ranking import top_k
from .storage import ImageSearchError, atomic_path

DEFAULT_TREES = 50
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


class BackendError(ImageSearchError):
    """An index file that a backend cannot open, or an unknown backend name."""


def cosine_from_angular(distance: np.ndarray | float) -> np.ndarray | float:
    """Annoy's angular distance is sqrt(2 - 2 cos) of the unit vectors; invert it."""
    return 1.0 - np.square(distance) / 2.0


def _without(rows, scores, exclude: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """A backend's candidates ranked as every route ranks (ranking.py), `exclude` left out."""
    return top_k(scores, k, exclude, rows=np.asarray(rows, dtype=np.int64))


class NeighbourBackend(Protocol):
    """What EmbeddingIndex needs of a nearest-neighbour backend over unit vectors, whose keys
    are rows. Capabilities: `updatable` (add/remove in place; else they rebuild) and `rerank`
    (> 0: the index asks for that many candidates and re-scores them exactly)."""

    name: ClassVar[str]
    suffix: ClassVar[str]  # of its index file, e.g. images.ann
    updatable: ClassVar[bool]
    rerank: int

    @classmethod
    def from_settings(cls, dim: int, settings: dict[str, Any]) -> NeighbourBackend:
        """The backend with the settings an index recorded (unknown keys ignored)."""

    def settings(self) -> dict[str, Any]:
        """What the index's JSON records, so that `from_settings` rebuilds it alike."""

    def build(self, vectors: np.ndarray) -> None: ...

    def search(
        self, vector: np.ndarray, k: int, exclude: Sequence[int] = (), search_k: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the k nearest rows, ranked by `ranking.top_k`."""

    def add(self, all_vectors: np.ndarray) -> None:
        """Take the rows past the ones indexed (the new tail of `all_vectors`)."""

    def remove(self, rows: Sequence[int], all_vectors: np.ndarray) -> None:
        """Drop `rows` and renumber the later ones (`all_vectors`: the compacted vectors)."""

    def save(self, path: Path) -> None: ...

    def load(self, path: Path) -> None: ...


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
        return _without(rows, scores, exclude, k)

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


class UsearchBackend:
    """usearch's HNSW graph over inner products, float16 storage by default; keys are rows.
    `rerank` > 0: EmbeddingIndex.search asks for that many candidates and re-scores them exactly
    (int8's own distances are not cosines: usearch leaves them in its integer scale)."""

    name = "usearch"
    suffix = ".usearch"
    updatable = True
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
        return _without(matches.keys, 1.0 - matches.distances, exclude, k)  # ip distance = 1 - cos

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


#: The backends an index can be built with: name -> (class, preset settings). A new backend is
#: one class that meets `NeighbourBackend` plus one `register_backend` call.
REGISTRY: dict[str, tuple[type[NeighbourBackend], dict[str, Any]]] = {}


def register_backend(
    name: str, backend: type[NeighbourBackend], preset: dict[str, Any] | None = None
) -> None:
    """Make `backend` (with `preset` settings under its own name) buildable as `name`."""
    REGISTRY[name] = (backend, dict(preset or {}))


register_backend("annoy", AnnoyBackend)
register_backend("usearch", UsearchBackend)
for _name, _preset in PRESETS.items():
    register_backend(_name, UsearchBackend, _preset)
BACKENDS = tuple(REGISTRY)  # the built-in ones, which the command line offers


def backend_class(name: str) -> type[NeighbourBackend]:
    if name not in REGISTRY:
        raise BackendError(f"unknown index backend {name!r}: choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[name][0]


def make_backend(name: str, dim: int, settings: dict[str, Any] | None = None) -> NeighbourBackend:
    """The backend `name` with its preset, then its recorded settings (unknown keys ignored)."""
    backend_class(name)  # an unknown name fails here
    backend, preset = REGISTRY[name]
    return backend.from_settings(dim, {**preset, **dict(settings or {})})
