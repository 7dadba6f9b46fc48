"""The files of a saved joint model, shared by both heads (the Keras MLP of `joint.py`, the ridge
map of `ridge.py`): the metadata `joint.json` that commits a model folder, its checks, and the
errors. Below both heads, so that neither imports the other for them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .splits import Split
from .storage import ImageSearchError, sha256_file, write_text_atomic

META_FILE = "joint.json"
FORMAT = "imagesearch.joint"
FORMAT_VERSION = 1
RETRAIN_HINT = "python -m imagesearch train DIR"


class JointModelError(ImageSearchError):
    """A joint model folder that is missing, incomplete or unreadable."""


class JointModelMismatchError(JointModelError):
    """A saved model was trained for different features or word vectors than the caller has."""

    def __init__(self, folder: Path, mismatches: list[tuple[str, Any, Any]]):
        self.folder = Path(folder)
        self.mismatches = mismatches
        self.key, self.saved, self.expected = mismatches[0]
        details = "; ".join(f"{k}: saved {s!r}, expected {e!r}" for k, s, e in mismatches)
        super().__init__(
            f"the joint model in {self.folder} does not fit the current settings ({details}). "
            f"Retrain it: {RETRAIN_HINT}"
        )


def json_default(obj: Any) -> Any:
    # Callers naturally hand over numpy scalars (e.g. features.shape[1]); JSON wants plain types.
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, os.PathLike)):
        return os.fspath(obj)
    if isinstance(obj, Split):
        return obj.to_json()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def to_plain(obj: Any) -> Any:
    """The value as it will read back from joint.json, so comparisons see what is saved."""
    return json.loads(json.dumps(obj, default=json_default))


def write_meta(
    folder: Path,
    model_path: Path,
    kind: str,
    settings: Mapping[str, Any],
    history: Mapping[str, list[float]],
    train_time_s: float,
    **extra: Any,
) -> None:
    """joint.json, written last: it names the weights file and its checksum, so a folder without
    it (or whose weights were swapped) is "not a model" rather than a silently inconsistent one."""
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "model_file": model_path.name,
        "model_sha256": sha256_file(model_path),
        "settings": settings,
        "history": history,
        "train_time_s": train_time_s,
        **extra,
    }
    text = json.dumps(meta, indent=2, sort_keys=True, default=json_default) + "\n"
    write_text_atomic(folder / META_FILE, text)


def check_training_inputs(features: Any, targets: Any, split: Split) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float32)
    y = np.asarray(targets, dtype=np.float32)
    if x.ndim != 2 or y.ndim != 2:
        raise ImageSearchError(
            f"features and targets must be 2-D (n x D, n x d), got shapes {x.shape} and {y.shape}"
        )
    if x.shape[0] != y.shape[0]:
        raise ImageSearchError(
            f"features and targets disagree on the number of images: {x.shape[0]} vs {y.shape[0]}"
        )
    largest = max((int(p.max()) for p in (split.train, split.val, split.test) if p.size), default=-1)
    if largest >= x.shape[0]:
        raise ImageSearchError(
            f"the split indexes beyond the {x.shape[0]} images given; was it made for another data set?"
        )
    if split.train.size == 0:
        raise ImageSearchError("the split has no training items")
    if split.val.size == 0:
        raise ImageSearchError(
            "the split has no validation items (early stopping needs them); "
            "classes need at least 3 images each to be split"
        )
    for name, arr in (("features", x), ("targets", y)):
        for part in ("train", "val"):  # test rows are never read, so they may hold anything
            rows = arr[getattr(split, part)]
            if not np.all(np.isfinite(rows)):
                raise ImageSearchError(f"{name} of {part} items contain NaN or infinity")
    return x, y


def read_meta(folder: Path, expect: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A model folder's joint.json, checked: a model folder, this format, and (`expect`) the
    settings the caller is about to use."""
    folder = Path(folder)
    if not folder.is_dir():
        raise JointModelError(
            f"no joint model at {folder}: the folder does not exist. Train one: {RETRAIN_HINT}"
        )
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise JointModelError(
            f"{folder} is not a joint model: {META_FILE} is missing (training never finished or its "
            f"save was interrupted). Retrain: {RETRAIN_HINT}"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JointModelError(
            f"{meta_path} is unreadable or corrupt ({exc}). Retrain: {RETRAIN_HINT}"
        ) from None
    if (
        not isinstance(meta, dict)
        or meta.get("format") != FORMAT
        or not isinstance(meta.get("settings"), dict)
    ):
        raise JointModelError(f"{meta_path} is not joint-model metadata. Retrain: {RETRAIN_HINT}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise JointModelError(
            f"{meta_path} has format version {meta.get('format_version')!r}, this code reads "
            f"{FORMAT_VERSION}. Retrain: {RETRAIN_HINT}"
        )
    settings = meta["settings"]

    if expect:
        mismatches = []
        for key, wanted in to_plain(dict(expect)).items():
            saved = settings.get(key, "<not recorded>")
            if saved != wanted:
                mismatches.append((key, saved, wanted))
        if mismatches:
            raise JointModelMismatchError(folder, mismatches)

    return meta


def checked_model_file(folder: Path, meta: Mapping[str, Any], default: str) -> Path:
    """The weights file joint.json names, present and matching its checksum."""
    model_path = folder / meta.get("model_file", default)
    if not model_path.is_file():
        raise JointModelError(f"{model_path} is missing. Retrain: {RETRAIN_HINT}")
    if meta.get("model_sha256") and sha256_file(model_path) != meta["model_sha256"]:
        raise JointModelError(
            f"{model_path} does not match the checksum in {folder / META_FILE} (changed or corrupt). "
            f"Retrain: {RETRAIN_HINT}"
        )
    return model_path
