"""A saved nearest-neighbour index over embeddings, with the metadata to interpret it.

Annoy answers queries in well under a millisecond from a memory-mapped file; an exact numpy
search sits beside it, to measure Annoy's recall and to serve re-weighted ("focused") queries.
An index folder holds, per index name: `NAME.ann` (Annoy), `NAME.npy` (the unit vectors) and
`NAME.json` (model, dimension, items, build settings, data set hash), written atomically, the
JSON last, so that a folder with a JSON file always holds a complete index.
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

from .features import l2_normalize
from .storage import ImageSearchError, atomic_path, write_text_atomic

DEFAULT_TREES = 50
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


def cosine_from_angular(distance: np.ndarray | float) -> np.ndarray | float:
    """Annoy's angular distance is sqrt(2 - 2 cos) of the unit vectors; invert it."""
    return 1.0 - np.square(distance) / 2.0


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

    def __init__(self, vectors: np.ndarray, metadata: dict[str, Any], annoy_index=None):
        self.vectors = l2_normalize(vectors)
        self.metadata = metadata
        self.records: list[dict[str, Any]] = metadata["items"]
        self._annoy = annoy_index
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
        **extra: Any,
    ) -> EmbeddingIndex:
        from annoy import AnnoyIndex

        vectors = l2_normalize(vectors)
        annoy = AnnoyIndex(vectors.shape[1], "angular")
        annoy.set_seed(seed)
        for row, vector in enumerate(vectors):
            annoy.add_item(row, vector)
        annoy.build(n_trees, n_jobs=1)  # one job: the same trees on every run
        metadata = {
            "format": INDEX_FORMAT,
            "model": model,
            "dim": int(vectors.shape[1]),
            "metric": "angular",
            "n_trees": n_trees,
            "seed": seed,
            "count": len(records),
            **extra,
            "items": records,
        }
        return cls(vectors, metadata, annoy)

    def save(self, folder: str | os.PathLike, name: str = "images") -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{name}.ann") as tmp:
            self._annoy.save(str(tmp))
            self._annoy.unload()
        with atomic_path(folder / f"{name}.npy") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, self.vectors)
        write_text_atomic(folder / f"{name}.json", json.dumps(self.metadata, indent=1))
        self._annoy = _load_annoy(folder / f"{name}.ann", self.vectors.shape[1])
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
        vectors = np.load(folder / f"{name}.npy", mmap_mode="r")
        annoy = _load_annoy(folder / f"{name}.ann", metadata["dim"])
        return cls(np.asarray(vectors), metadata, annoy)

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
        """The k nearest items to `vector` by cosine; Annoy unless `exact`."""
        vector = self._check_query(vector)
        if exact:
            return self.results_for(*exact_search(self.vectors, vector, k, exclude))
        want = k + len(exclude)
        rows, distances = self._annoy.get_nns_by_vector(
            vector, want, search_k=search_k, include_distances=True
        )
        excluded = set(exclude)
        pairs = [(r, cosine_from_angular(d)) for r, d in zip(rows, distances) if r not in excluded]
        return self.results_for([r for r, _ in pairs[:k]], [s for _, s in pairs[:k]])

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


def _load_annoy(path: Path, dim: int):
    from annoy import AnnoyIndex

    annoy = AnnoyIndex(dim, "angular")
    try:
        annoy.load(str(path))
    except OSError as error:
        raise IndexLoadError(f"cannot open {path} ({error}); rebuild the index.") from None
    return annoy
