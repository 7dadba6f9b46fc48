"""A saved nearest-neighbour index over embeddings, with the metadata to interpret it.

Annoy answers from a memory-mapped file; an exact numpy search sits beside it, to measure Annoy's
recall and to serve re-weighted ("focused") queries. Large collections use another backend
(`backends/`, recorded as "backend" in the metadata; none = Annoy) that also adds and removes items.
Per index name, a folder holds `NAME.ann` (or `NAME.usearch`), `NAME.npy` (the unit vectors),
`NAME.items.arrow` (each row's path, label, key, captions: records.py), for images `NAME.maps.npy`
(focus maps), and `NAME.json` (model, dimension, count, settings, data set hash), written last:
a folder with a JSON file always holds a complete index. Every save writes a new generation
(`NAME.gG.*`, which the JSON names) and deletes the old files only after the JSON points at the
new ones (generations.py), copying rows in blocks: an interrupted update leaves the previous index
whole, and no update reads every vector into memory. Format-1 indexes (items in the JSON) still open.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .backends import BackendError, build_options, make_backend
from .features import l2_normalize
from .generations import INDEX_FORMAT, IndexLoadError, IndexQueryError, read_metadata, save_index
from .layout import DEFAULT_BACKEND, GenerationFiles, index_file
from .ranking import COSINE, FEEDBACK, Result, top_k
from .records import Records
from .splits import compact_split
from .storage import write_npy

__all__ = [
    "COSINE",
    "FEEDBACK",
    "EmbeddingIndex",
    "IndexLoadError",
    "IndexQueryError",
    "Result",
    "exact_search",
]
Maps = np.ndarray | Callable[[Path], None] | None  # an array, or a function writing the file given


def exact_search(
    vectors: np.ndarray, query: np.ndarray, k: int, exclude: Sequence[int] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows of unit `vectors` by cosine with `query` (brute force): (rows, scores)."""
    return top_k(vectors @ l2_normalize(query), k, exclude)


class EmbeddingIndex:
    """Unit vectors + ANN index + metadata (`model`, `dim`, ...) + `records`: one {path, label,
    key, captions} per row (a `Records` sequence, read from NAME.items.arrow)."""

    def __init__(
        self,
        vectors: np.ndarray,
        metadata: dict[str, Any],
        ann=None,
        records: Records | Sequence[dict[str, Any]] | None = None,
    ):
        # Unit rows, as built, added and saved: a loaded index keeps its memory map (no copy).
        self.vectors = vectors
        self.metadata = metadata
        if records is None:  # format 1: the items are in the metadata
            records = metadata.pop("items")
        self.records = records if isinstance(records, Records) else Records.from_dicts(records)
        self._ann = ann  # a backend from imagesearch/backends/
        self._home: tuple[Path, str] | None = None  # (folder, name) it was loaded from
        self._written: Path | None = None  # a vectors file an update already wrote
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
        backend: str = DEFAULT_BACKEND,
        backend_options: dict[str, Any] | None = None,
        n_trees: int | None = None,
        seed: int = 0,
        **extra: Any,
    ) -> EmbeddingIndex:
        """`backend_options`: its build options (Annoy's n_trees); `n_trees=N` is short for {"n_trees": N}."""
        options = dict(backend_options or {}, **({} if n_trees is None else {"n_trees": n_trees}))
        vectors = l2_normalize(vectors)
        ann = make_backend(backend, vectors.shape[1], {**build_options(backend, options), "seed": seed})
        ann.build(vectors)
        metadata = {
            "format": INDEX_FORMAT,
            "model": model,
            "dim": int(vectors.shape[1]),
            **ann.settings(),
            "count": len(records),
            **extra,
        }
        if backend != DEFAULT_BACKEND:  # Annoy indexes keep the metadata they always had
            metadata = {"backend": backend, **metadata}
        return cls(vectors, metadata, ann, records)

    @property
    def backend(self) -> str:
        return self.metadata.get("backend", DEFAULT_BACKEND)

    @property
    def updatable(self) -> bool:
        """Whether the backend adds and removes items in place (else it rebuilds: Annoy)."""
        return bool(self._ann.updatable)

    @property
    def generation(self) -> int:
        return int(self.metadata.get("generation", 0))

    def files(self, folder: str | os.PathLike, name: str = "images") -> GenerationFiles:
        """The files of this index's generation in `folder`."""
        return index_file(folder, name, self.backend, self.generation)

    def save(self, folder: str | os.PathLike, name: str = "images", *, maps: Maps = None) -> Path:
        """Write a generation the folder's JSON does not name yet (ANN, vectors, items, and
        `maps` when given: an array or a function writing the file), then the JSON that commits
        it, then delete the other generations' files (generations.py). A loaded index saved back
        unchanged without `maps` keeps its maps."""
        return save_index(self, Path(folder), name, maps)

    @property
    def home(self) -> tuple[Path, str] | None:
        """(folder, name) this index was loaded from or last saved to; None when built."""
        return self._home

    def write_files(self, files: GenerationFiles) -> None:
        """Write the ANN index, vectors (unless an update wrote them there) and records."""
        self._ann.save(files.ann)
        if self._written != files.vectors:
            write_npy(files.vectors, [self.vectors], dtype=np.float32)
        self.records.write(files.items)

    def committed(self, folder: Path, name: str, files: GenerationFiles) -> None:
        """The folder's JSON now names `files`: read from them (a memory-mapped index lets go of
        the old generation's files), and remember the folder as this index's home."""
        if isinstance(self.vectors, np.memmap):
            self.vectors, self.records = np.load(files.vectors, mmap_mode="r"), Records.read(files.items)
        self._home, self._written = (Path(folder), name), None

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
        metadata = read_metadata(meta_file)
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
        backend = metadata.get("backend", DEFAULT_BACKEND)
        files = index_file(folder, name, backend, int(metadata.get("generation", 0)))
        try:
            ann = make_backend(backend, metadata["dim"], metadata)
            ann.load(files.ann)
        except BackendError as error:
            raise IndexLoadError(str(error)) from None
        records = None  # format 1: in the JSON
        if "items" not in metadata:
            if not files.items.exists():
                raise IndexLoadError(
                    f"{files.items} is missing: the index in {folder} is incomplete; rebuild it "
                    f"(`python -m imagesearch index DATASET --out {folder} --force`)."
                )
            records = Records.read(files.items)
        index = cls(np.load(files.vectors, mmap_mode="r"), metadata, ann, records)
        index._home = (folder, name)
        return index

    # -- updates ----------------------------------------------------------------------
    def add(self, vectors: np.ndarray, records: list[dict[str, Any]]) -> np.ndarray:
        """Append items (in memory; `save` makes it durable); returns their rows. Annoy
        rebuilds its whole forest to do so, the other backends insert."""
        vectors = l2_normalize(np.asarray(vectors, dtype=np.float32).reshape(len(records), self.dim))
        start = len(self)
        self._new_vectors([self.vectors, vectors])
        self._ann.add(self.vectors)
        self._updated(self.records.extend(records))
        return np.arange(start, len(self))

    def remove(self, rows: Sequence[int]) -> None:
        """Take rows out and compact: later rows move down, in the vectors, the items, the
        ANN index and the split, so that no removed item can ever be returned."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if len(rows) and not (0 <= rows[0] and rows[-1] < len(self)):
            raise IndexQueryError(f"cannot remove rows {rows.tolist()}: the index has {len(self)} items.")
        keep = np.setdiff1d(np.arange(len(self)), rows)
        self._new_vectors([self.vectors], keep)
        self._ann.remove(rows, self.vectors)
        if "split" in self.metadata:
            self.metadata["split"] = compact_split(self.metadata["split"], keep, len(self))
        self._updated(self.records.take(keep))

    def _new_vectors(self, parts: list[np.ndarray], keep: np.ndarray | None = None) -> None:
        """The next generation's vectors: for a loaded index written straight to that
        generation's file (not yet named by the JSON) and memory-mapped; else in memory."""
        if self._home is None or not isinstance(self.vectors, np.memmap):
            joined = np.concatenate([np.asarray(p) for p in parts])
            self.vectors = joined if keep is None else joined[keep]
            return
        target, previous = index_file(*self._home, self.backend, self.generation + 1).vectors, self._written
        write_npy(target, parts, keep, dtype=np.float32)
        self.vectors, self._written = np.load(target, mmap_mode="r"), target
        if previous is not None:  # an earlier update's file, never committed
            previous.unlink(missing_ok=True)

    def _updated(self, records: Records) -> None:
        self.records = records
        self.metadata.update(self._ann.settings(), count=len(records), generation=self.generation + 1)
        self.__dict__.pop("_rows_by_path", None)

    # -- queries ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    @property
    def dim(self) -> int:
        return int(self.metadata["dim"])

    def results_for(self, rows: Sequence[int], scores: Sequence[float], kind: str = COSINE) -> list[Result]:
        """Results for ranked rows; `kind` says what their scores are (COSINE or FEEDBACK)."""
        rows = [int(row) for row in rows]  # path and label only: a row's dict costs more than its search
        found = zip(rows, self.records.values("path", rows), self.records.values("label", rows), scores)
        return [
            Result(rank, row, path, label, float(score), kind)
            for rank, (row, path, label, score) in enumerate(found, 1)
        ]

    def _check_query(self, vector: np.ndarray) -> np.ndarray:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dim:
            raise IndexQueryError(
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
        """The k nearest items to `vector` by cosine; the ANN backend unless `exact`. A backend
        with `rerank` (usearch-i8) returns that many candidates, re-scored here exactly."""
        vector = self._check_query(vector)
        if exact:
            return self.results_for(*exact_search(self.vectors, vector, k, exclude))
        rows, scores = self._ann.search(vector, max(k, self._ann.rerank), exclude, search_k=search_k)
        if self._ann.rerank:  # only the candidates' rows are read, re-scored exactly
            rows = np.sort(rows)
            rows, scores = top_k(self.vectors[rows] @ l2_normalize(vector), k, rows=rows)
        return self.results_for(rows, scores)

    def search_item(self, row: int, k: int = 10, *, exact: bool = False) -> list[Result]:
        """Nearest neighbours of an indexed item, leaving the item itself out."""
        if not 0 <= row < len(self):
            raise IndexQueryError(f"item {row} is out of range: the index has {len(self)} items.")
        return self.search(self.vectors[row], k, exclude=[row], exact=exact)

    @cached_property
    def _rows_by_path(self) -> dict[str, int]:
        # Built once: a script sending many query images must not resolve every path each time.
        paths = self.records.column("path")
        return {str(Path(path).resolve()): row for row, path in reversed(list(enumerate(paths)))}

    def row_of_path(self, path: str | os.PathLike) -> int | None:
        """The row of an indexed image file (first one if listed twice), or None."""
        return self._rows_by_path.get(str(Path(path).resolve()))
