"""The ready-trained joint model and focus class weights that ship in the package.

Trained once on Pascal Sentences' training split (scripts/build_pretrained.py), so that a
collection with no labels or captions of its own (a folder of personal photos) can still be
searched by words, tagged and focused on Pascal's 20 classes, offline and with no training
step. The head is the ridge map blended with a caption transfer from the nearest training
photos: unit(ridge(x) + blend * unit(similarity-weighted mean of the k nearest training
images' caption targets)). It knows Pascal's 20 classes and the words of their captions, and
nothing else: not faces, not places it never saw, not text in images.

Light on purpose: numpy only (no TensorFlow, no gensim) at import.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .features import l2_normalize
from .focus import ClassWeights, focus_classes
from .jointfiles import JointModelError, write_meta
from .ridge import RidgeJointModel, centred
from .storage import atomic_path

PRETRAINED_DIR = Path(__file__).parent / "data" / "pretrained"
RECIPE_FILE = "recipe.json"
MODEL_FILE = "joint.npz"  # in an index's model folder: ridge map, bank and its targets
SHIPPED_FILES = ("ridge.npz", "bank.npz", "class_weights.npz")
KIND = "pretrained"
IMAGE_MODEL = "vgg16-conv"  # the features it was trained on (the recipe records it too)


@dataclass
class PretrainedJointModel:
    """Ridge map + k-nearest-training-image caption transfer (meets heads.JointModelLike)."""

    ridge: RidgeJointModel
    bank: np.ndarray  # n x D: the training images' centred unit features (float16)
    bank_targets: np.ndarray  # n x d: their caption targets (unit)
    k: int
    blend: float
    settings: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    train_time_s: float = float("nan")

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Image features (raw or unit) -> unit vectors in word space."""
        ridge = self.ridge.embed(features)  # checks the shape
        if self.blend == 0.0:
            return ridge
        x = centred(np.asarray(features, np.float32), self.ridge.mean)
        sims = x @ self.bank.astype(np.float32).T
        k = min(self.k, sims.shape[1])
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        weights = np.clip(np.take_along_axis(sims, top, axis=1), 0.0, None) + 1e-6
        transfer = np.einsum("nk,nkd->nd", weights, self.bank_targets[top].astype(np.float32))
        return l2_normalize(ridge + self.blend * l2_normalize(transfer))

    def arrays(self) -> dict[str, np.ndarray]:
        r = self.ridge
        return {
            "weights": r.weights,
            "bias": r.bias,
            "mean": r.mean,
            "bank": self.bank,
            "bank_targets": self.bank_targets,
        }

    def save(self, folder: str | os.PathLike) -> Path:
        """joint.npz (every array), then joint.json naming the kind "pretrained"."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "joint.json").unlink(missing_ok=True)
        with atomic_path(folder / MODEL_FILE) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **self.arrays())
        write_meta(folder, folder / MODEL_FILE, KIND, self.settings, self.history, self.train_time_s)
        return folder


def _model(arrays: Mapping[str, np.ndarray], settings: Mapping[str, Any]) -> PretrainedJointModel:
    ridge = RidgeJointModel(arrays["weights"], arrays["bias"], arrays["mean"], dict(settings))
    return PretrainedJointModel(
        ridge,
        arrays["bank"],
        arrays["bank_targets"],
        int(settings["k"]),
        float(settings["blend"]),
        dict(settings),
    )


def load_pretrained_model(path: Path, meta: Mapping[str, Any]) -> PretrainedJointModel:
    """An index's saved copy of the shipped model (heads registry loader)."""
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in ("weights", "bias", "mean", "bank", "bank_targets")}
    except (OSError, KeyError, ValueError) as exc:
        raise JointModelError(f"cannot read {path} ({exc}); re-index the folder") from None
    model = _model(arrays, meta["settings"])
    model.history = {k: list(v) for k, v in meta.get("history", {}).items()}
    return model


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def recipe(folder: Path = PRETRAINED_DIR) -> dict[str, Any]:
    """The shipped recipe, its files checked against the sha256 it records."""
    path = Path(folder) / RECIPE_FILE
    if not path.exists():
        raise JointModelError(f"{path} is missing: rebuild with python scripts/build_pretrained.py")
    data = json.loads(path.read_text())
    for name, digest in data["sha256"].items():
        if sha256(Path(folder) / name) != digest:
            raise JointModelError(
                f"{Path(folder) / name} does not match its sha256 in {path}: reinstall the package "
                "or rebuild with python scripts/build_pretrained.py"
            )
    return data


def shipped_model(folder: Path = PRETRAINED_DIR) -> PretrainedJointModel:
    """The ready-trained joint model (vgg16-conv features -> GloVe 6B 50-d word space)."""
    settings = recipe(folder)["settings"]
    arrays: dict[str, np.ndarray] = {}
    for name in ("ridge.npz", "bank.npz"):
        with np.load(Path(folder) / name) as data:
            arrays.update({k: data[k] for k in data.files})
    return _model(arrays, settings)


def shipped_class_weights(folder: Path = PRETRAINED_DIR) -> ClassWeights:
    """Focus weights of Pascal's 20 classes (logistic regression on the training split)."""
    recipe(folder)
    with np.load(Path(folder) / "class_weights.npz") as data:
        return ClassWeights(
            data["weights"], tuple(str(c) for c in data["classes"]), str(data["source"]), data["intercept"]
        )


def unlabelled(records: list[dict], train_rows) -> bool:
    """No two classes to learn from and no captions: the collection's words come from the shipped model."""
    labels = [r["label"] for r in records]
    return not focus_classes(labels, train_rows) and not any(r.get("captions") for r in records)
