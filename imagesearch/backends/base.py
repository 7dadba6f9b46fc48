"""What every nearest-neighbour backend shares: the interface it meets (`NeighbourBackend`),
its error, and the one ranking of its candidates (ranking.py).

Rows are the keys: a backend answers with row numbers of the index's vectors. Removing rows
compacts them (later rows move down, as in the vectors and records arrays), so no tombstone is
ever returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from ..ranking import top_k
from ..storage import ImageSearchError


class BackendError(ImageSearchError):
    """An index file that a backend cannot open, or an unknown backend name."""


def cosine_from_angular(distance: np.ndarray | float) -> np.ndarray | float:
    """Annoy's angular distance is sqrt(2 - 2 cos) of the unit vectors; invert it."""
    return 1.0 - np.square(distance) / 2.0


def ranked(rows, scores, exclude: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """A backend's candidates ranked as every route ranks (ranking.py), `exclude` left out."""
    return top_k(scores, k, exclude, rows=np.asarray(rows, dtype=np.int64))


class NeighbourBackend(Protocol):
    """What EmbeddingIndex needs of a nearest-neighbour backend over unit vectors, whose keys
    are rows. Capabilities: `updatable` (add/remove in place; else they rebuild) and `rerank`
    (> 0: the index asks for that many candidates and re-scores them exactly). `options`: the
    settings a build may choose (`backend_options`; its presets choose the others)."""

    name: ClassVar[str]
    suffix: ClassVar[str]  # of its index file, e.g. images.ann
    updatable: ClassVar[bool]
    options: ClassVar[tuple[str, ...]]  # build options a caller may give (e.g. Annoy's n_trees)
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
