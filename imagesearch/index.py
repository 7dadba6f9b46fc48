"""A saved nearest-neighbour index over embeddings, with the metadata to interpret it.

Annoy answers queries in well under a millisecond from a memory-mapped file; an exact numpy
search sits beside it, to measure Annoy's recall and to serve re-weighted ("focused") queries.
Large collections use another backend (`backends.py`, recorded as "backend" in the metadata;
none recorded = Annoy), which also adds and removes items after the build.
An index folder holds, per index name: `NAME.ann` (or `NAME.usearch`), `NAME.npy` (the unit
vectors) and `NAME.json` (model, dimension, items, build settings, data set hash), written
atomically, the JSON last, so that a folder with a JSON file always holds a complete index.
Adds and removes write a new generation (`NAME.gG.*`, named in the JSON's "generation") and
delete the old files only after the JSON points at the new ones: an interrupted update leaves
the previous index whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .backends import DEFAULT_TREES, BackendError, cosine_from_angular, index_file, make_backend
from .features import l2_normalize
from .storage import ImageSearchError, atomic_path, write_text_atomic

__all__ = [
    "DEFAULT_TREES",
    "cosine_from_angular",
    "EmbeddingIndex",
    "IndexLoadError",
    "Result",
    "exact_search",
]
INDEX_FORMAT = 1


class IndexLoadError(ImageSearchError):
    """An index folder that is missing, incomplete or built for something else."""


@dataclass(frozen=True)
class Result:
    rank: int
    row: int  # row number in the index (= item number in its data set when nothing was skipped)
    path: str
    label: str
    score: float  # cosine similarity, 1 = same direction

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "path": self.path,
            "label": self.label,
            "score": round(float(self.score), 4),
        }


def exact_search(
    vectors: np.ndarray, query: np.ndarray, k: int, exclude: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows of unit `vectors` by cosine with `query` (brute force): (rows, scores)."""
    scores = vectors @ l2_normalize(query)
    if len(exclude):
        scores = scores.copy()
        scores[list(exclude)] = -np.inf
    k = min(k, len(scores) - len(exclude))
    top = np.argpartition(-scores, k - 1)[:k] if k > 0 else np.zeros(0, int)
    top = top[np.lexsort((top, -scores[top]))]  # by score, ties by row: deterministic
    return top, scores[top]


class EmbeddingIndex:
    """Unit vectors + Annoy index + metadata (`model`, `dim`, and `records`: one {path, label, key,
    captions} per row, stored under "items" in the JSON file)."""

    def __init__(self, vectors: np.ndarray, metadata: dict[str, Any], ann=None):
        # Unit rows, as `build`, `add` and the saved file hold them: a loaded index keeps its
        # memory map instead of reading (and copying) every vector to normalise it again.
        self.vectors = vectors
        self.metadata = metadata
        self.records: list[dict[str, Any]] = metadata["items"]
        self._ann = ann  # a backend from backends.py
        if len(self.records) != len(self.vectors):
            raise IndexLoadError(f"index has {len(self.vectors)} vectors but {len(self.records)} items")

    # -- building and storage ---------------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        records: list[dict[str, Any]],
        *,
        model: str,
        n_trees: int = DEFAULT_TREES,
        seed: int = 0,
        backend: str = "annoy",
        **extra: Any,
    ) -> EmbeddingIndex:
        vectors = l2_normalize(vectors)
        ann = make_backend(backend, vectors.shape[1], {"n_trees": n_trees, "seed": seed})
        ann.build(vectors)
        metadata = {
            "format": INDEX_FORMAT,
            "model": model,
            "dim": int(vectors.shape[1]),
            **ann.settings(),
            "count": len(records),
            **extra,
            "items": records,
        }
        if backend != "annoy":  # Annoy indexes keep the metadata they always had
            metadata = {"backend": backend, **metadata}
        return cls(vectors, metadata, ann)

    @property
    def backend(self) -> str:
        return self.metadata.get("backend", "annoy")

    @property
    def generation(self) -> int:
        return int(self.metadata.get("generation", 0))

    def save(self, folder: str | os.PathLike, name: str = "images") -> Path:
        """Write the ANN file and vectors of this generation, then the JSON; then delete the
        files of the generation the JSON named before (after an add or remove)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta_file = folder / f"{name}.json"
        old = json.loads(meta_file.read_text()) if meta_file.exists() else None
        ann_file, vectors_file = index_file(folder, name, self.backend, self.generation)
        self._ann.save(ann_file)
        with atomic_path(vectors_file) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, self.vectors)
        write_text_atomic(meta_file, json.dumps(self.metadata, indent=1))
        if old is not None:
            stale = index_file(folder, name, old.get("backend", "annoy"), int(old.get("generation", 0)))
            for path in set(stale) - {ann_file, vectors_file}:
                path.unlink(missing_ok=True)
        return folder

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike,
        name: str = "images",
        *,
        model: str | None = None,
        dim: int | None = None,
    ) -> EmbeddingIndex:
        """Open a saved index; `model`/`dim`, when given, must match what it was built with."""
        folder = Path(folder)
        meta_file = folder / f"{name}.json"
        if not meta_file.exists():
            raise IndexLoadError(
                f"no index {name!r} in {folder} ({meta_file.name} is missing). "
                f"Build one with `python -m imagesearch index DATASET --out {folder}`."
            )
        try:
            metadata = json.loads(meta_file.read_text())
        except json.JSONDecodeError as error:
            raise IndexLoadError(f"{meta_file} is corrupt ({error}); rebuild the index.") from None
        if model is not None and metadata.get("model") != model:
            raise IndexLoadError(
                f"the index in {folder} was built with model {metadata.get('model')!r}, "
                f"not {model!r}: query it with that model or rebuild it with --model {model}."
            )
        if dim is not None and metadata.get("dim") != dim:
            raise IndexLoadError(
                f"the index in {folder} holds {metadata.get('dim')}-d vectors, but the "
                f"query has {dim} dimensions: rebuild the index for this model."
            )
        backend = metadata.get("backend", "annoy")
        ann_file, vectors_file = index_file(folder, name, backend, int(metadata.get("generation", 0)))
        try:
            ann = make_backend(backend, metadata["dim"], metadata)
            ann.load(ann_file)
        except BackendError as error:
            raise IndexLoadError(str(error)) from None
        vectors = np.load(vectors_file, mmap_mode="r")
        return cls(vectors, metadata, ann)

    # -- updates ----------------------------------------------------------------------
    def add(self, vectors: np.ndarray, records: list[dict[str, Any]]) -> np.ndarray:
        """Append items (in memory; `save` makes it durable); returns their rows. Annoy
        rebuilds its whole forest to do so, the other backends insert."""
        vectors = l2_normalize(np.asarray(vectors, dtype=np.float32).reshape(len(records), self.dim))
        start = len(self)
        self.vectors = np.concatenate([np.asarray(self.vectors), vectors])
        self._ann.add(self.vectors)
        self._updated(self.records + list(records))
        return np.arange(start, len(self))

    def remove(self, rows: Sequence[int]) -> None:
        """Take rows out and compact: later rows move down, in the vectors, the items, the
        ANN index and the split, so that no removed item can ever be returned."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if len(rows) and not (0 <= rows[0] and rows[-1] < len(self)):
            raise IndexLoadError(f"cannot remove rows {rows.tolist()}: the index has {len(self)} items.")
        keep = np.setdiff1d(np.arange(len(self)), rows)
        self.vectors = np.asarray(self.vectors)[keep]
        self._ann.remove(rows, self.vectors)
        if "split" in self.metadata:
            self.metadata["split"] = _compact_split(self.metadata["split"], keep, len(self))
        self._updated([self.records[row] for row in keep])

    def _updated(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.metadata.update(items=records, count=len(records), generation=self.generation + 1)
        self.__dict__.pop("_rows_by_path", None)

    # -- queries ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    @property
    def dim(self) -> int:
        return int(self.metadata["dim"])

    def results_for(self, rows: Sequence[int], scores: Sequence[float]) -> list[Result]:
        return [
            Result(rank, int(row), self.records[row]["path"], self.records[row]["label"], float(score))
            for rank, (row, score) in enumerate(zip(rows, scores), start=1)
        ]

    def _check_query(self, vector: np.ndarray) -> np.ndarray:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dim:
            raise IndexLoadError(
                f"query has {vector.shape[0]} dimensions, the index "
                f"({self.metadata['model']}) has {self.dim}."
            )
        return vector

    def search(
        self,
        vector: np.ndarray,
        k: int = 10,
        *,
        exclude: Sequence[int] = (),
        exact: bool = False,
        search_k: int = -1,
    ) -> list[Result]:
        """The k nearest items to `vector` by cosine; the ANN backend unless `exact`."""
        vector = self._check_query(vector)
        if exact:
            return self.results_for(*exact_search(self.vectors, vector, k, exclude))
        return self.results_for(*self._ann.search(vector, k, exclude, search_k=search_k))

    def search_item(self, row: int, k: int = 10, *, exact: bool = False) -> list[Result]:
        """Nearest neighbours of an indexed item, leaving the item itself out."""
        if not 0 <= row < len(self):
            raise IndexLoadError(f"item {row} is out of range: the index has {len(self)} items.")
        return self.search(self.vectors[row], k, exclude=[row], exact=exact)

    @cached_property
    def _rows_by_path(self) -> dict[str, int]:
        # Built once: a script sending many query images must not resolve every path each time.
        return {
            str(Path(item["path"]).resolve()): row for row, item in reversed(list(enumerate(self.records)))
        }

    def row_of_path(self, path: str | os.PathLike) -> int | None:
        """The row of an indexed image file (first one if listed twice), or None."""
        return self._rows_by_path.get(str(Path(path).resolve()))


def _compact_split(split: dict[str, Any], keep: np.ndarray, count: int) -> dict[str, Any]:
    """The split's row lists after keeping rows `keep` (renumbered 0..len(keep)-1)."""
    new_row = np.full(count, -1, np.int64)
    new_row[keep] = np.arange(len(keep))
    out = dict(split)
    for part in ("train", "val", "test"):
        if part in split:
            rows = new_row[np.asarray(split[part], dtype=np.int64)]
            out[part] = rows[rows >= 0].tolist()
    return out
