"""Train / validation / test splits that keep every class in every part.

The joint model is judged on how well it places *unseen* images of each class near that class's
word, so the split is stratified: each class contributes its own share of test and validation
items, and the split is stored (``Split.to_json``) beside the model so an evaluation can prove it
never looked at training images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .storage import ImageSearchError

__all__ = ["Split", "stratified_split", "MIN_CLASS_SIZE"]

#: A class needs this many items to put one in each of train, val and test; smaller classes
#: go entirely to train (a word seen once is still worth learning, but cannot be evaluated).
MIN_CLASS_SIZE = 3


def _as_index_array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        arr = arr.reshape(0).astype(np.int64)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise ImageSearchError(f"split part {name!r} must be a flat list of integer indices")
    if arr.size and arr.min() < 0:
        raise ImageSearchError(f"split part {name!r} holds a negative index ({int(arr.min())})")
    arr = np.sort(arr.astype(np.int64))
    arr.flags.writeable = False  # a Split is a record; nobody should edit it in place
    return arr


@dataclass(frozen=True, eq=False)
class Split:
    """Sorted, disjoint index arrays into the labels the split was made from."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __post_init__(self) -> None:
        for name in ("train", "val", "test"):
            object.__setattr__(self, name, _as_index_array(getattr(self, name), name))
        everything = np.concatenate([self.train, self.val, self.test])
        if np.unique(everything).size != everything.size:
            raise ImageSearchError("split parts overlap: an index is in more than one of train/val/test")

    def __len__(self) -> int:
        return int(self.train.size + self.val.size + self.test.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Split):
            return NotImplemented
        return all(np.array_equal(getattr(self, k), getattr(other, k)) for k in ("train", "val", "test"))

    __hash__ = None  # type: ignore[assignment]  # equality is by content; arrays are not hashable

    def to_json(self) -> dict[str, list[int]]:
        """A plain dict of int lists, so the split can live in a model's metadata file."""
        return {k: [int(i) for i in getattr(self, k)] for k in ("train", "val", "test")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Split:
        if not isinstance(data, dict) or not {"train", "val", "test"} <= set(data):
            raise ImageSearchError("a stored split must be a dict with 'train', 'val' and 'test' lists")
        return cls(train=data["train"], val=data["val"], test=data["test"])


def _round_half_up(x: float) -> int:
    # Python's round() rounds 2.5 to 2; counts that jump with parity would surprise people.
    return int(math.floor(x + 0.5))


def _held_out_sizes(n: int, test_fraction: float, val_fraction: float) -> tuple[int, int]:
    """How many of a class's `n` (>= 3) items go to test and to val: their shares rounded half
    up, at least one each where the fraction is above zero, and always one left to train."""
    n_test = _round_half_up(n * test_fraction)
    n_val = _round_half_up(n * val_fraction)
    if test_fraction > 0:
        n_test = max(1, n_test)
    if val_fraction > 0:
        n_val = max(1, n_val)
    # Always keep one for training; take the excess from the larger held-out part.
    while n_test + n_val > n - 1:
        if n_test >= n_val and n_test > (1 if test_fraction > 0 else 0):
            n_test -= 1
        elif n_val > (1 if val_fraction > 0 else 0):
            n_val -= 1
        else:  # pragma: no cover - n >= 3 always leaves room for 1 + 1 + 1
            break
    return n_test, n_val


def stratified_split(
    labels: Sequence[Any] | np.ndarray,
    *,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """Split indices of `labels` so every class keeps its share in train, val and test.

    A class of ``n >= 3`` items gives ``round(n * test_fraction)`` items to test and
    ``round(n * val_fraction)`` to val (rounding half up), at least one to each (when that fraction
    is above zero) and always leaves at least one for training. A class with fewer than
    ``MIN_CLASS_SIZE`` (3) items goes entirely to train: it cannot be both learnt and evaluated.
    The same labels and seed always give the same split.
    """
    for name, frac in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not (0.0 <= float(frac) < 1.0):
            raise ImageSearchError(f"{name} must be in [0, 1), got {frac!r}")
    if test_fraction + val_fraction >= 1.0:
        raise ImageSearchError(
            f"test_fraction + val_fraction must be below 1 to leave training items, "
            f"got {test_fraction} + {val_fraction}"
        )
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ImageSearchError(f"labels must be a flat sequence, got shape {labels.shape}")

    rng = np.random.default_rng(seed)
    # np.unique sorts the classes, so the order the rng is consumed in does not depend on
    # the order the labels happen to arrive in.
    classes, inverse = np.unique(labels, return_inverse=True)
    train, val, test = [], [], []
    for c in range(classes.size):
        members = np.flatnonzero(inverse == c)
        n = members.size
        if n < MIN_CLASS_SIZE:
            train.append(members)
            continue
        n_test, n_val = _held_out_sizes(n, test_fraction, val_fraction)
        perm = rng.permutation(members)
        test.append(perm[:n_test])
        val.append(perm[n_test : n_test + n_val])
        train.append(perm[n_test + n_val :])

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return Split(train=cat(train), val=cat(val), test=cat(test))


def compact_split(split: dict[str, Any], keep: np.ndarray, count: int) -> dict[str, Any]:
    """The split's row lists after keeping rows `keep` (renumbered 0..len(keep)-1)."""
    new_row = np.full(count, -1, np.int64)
    new_row[keep] = np.arange(len(keep))
    out = dict(split)
    for part in ("train", "val", "test"):
        if part in split:
            rows = new_row[np.asarray(split[part], dtype=np.int64)]
            out[part] = rows[rows >= 0].tolist()
    return out
