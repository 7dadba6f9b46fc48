"""The joint model as a closed-form ridge map: image features -> word space in well under a second.

The talk trains a small Keras head (Dense 2000 - BN - ReLU - Dropout - Dense - BN, `joint.py`) for
50 epochs. On 700 cached feature vectors a linear map, fitted exactly by ridge regression on
centred features, is as good or better on every measure (bench/language.py), takes a fraction
of a second, needs no TensorFlow, and gives the same numbers on every CPU (no random init, no
mini-batch order). Its regularisation strength is chosen on the validation split, the role
early stopping plays for the Keras head.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .features import l2_normalize
from .jointfiles import JointModelError, check_training_inputs, write_meta
from .splits import Split
from .storage import atomic_path

MODEL_FILE = "joint.npz"
#: Tried on the validation split, best mean cosine wins; one Gram matrix serves them all.
RIDGE_LAMBDAS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def centred(features: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Unit rows, minus the training rows' mean unit row, unit again: the shared "everything
    is a photo" direction removed, so that what differs between photos decides."""
    return l2_normalize(l2_normalize(features) - mean)


@dataclass
class RidgeJointModel:
    """Word-space vector = unit((centred features) @ weights + bias)."""

    weights: np.ndarray  # D x d
    bias: np.ndarray  # d
    mean: np.ndarray  # D: the mean unit feature row of the training split
    settings: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    train_time_s: float = float("nan")

    @property
    def feature_dim(self) -> int:
        return int(self.weights.shape[0])

    @property
    def vector_dim(self) -> int:
        return int(self.weights.shape[1])

    @property
    def split(self) -> Split | None:
        data = self.settings.get("split")
        return Split.from_json(data) if data is not None else None

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Image features (raw or unit) -> unit vectors in word space."""
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.feature_dim:
            raise JointModelError(
                f"joint model expects features of shape (n, {self.feature_dim}), got {x.shape}; were they "
                f"computed with a different image model? (trained with {self.settings.get('image_model')!r})"
            )
        return l2_normalize(centred(x, self.mean) @ self.weights + self.bias)

    def save(self, folder: str | os.PathLike) -> Path:
        """joint.npz, then joint.json (see `jointfiles.write_meta`), each atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "joint.json").unlink(missing_ok=True)  # "not a model" until the new json lands
        with atomic_path(folder / MODEL_FILE) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, weights=self.weights, bias=self.bias, mean=self.mean)
        write_meta(folder, folder / MODEL_FILE, "ridge", self.settings, self.history, self.train_time_s)
        return folder


def fit_ridge(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    lambdas: Sequence[float] = RIDGE_LAMBDAS,
) -> tuple[np.ndarray, np.ndarray, float, list[float]]:
    """(weights, bias, chosen lambda, validation cosine per lambda) of the ridge map from
    prepared features to targets; the bias is not shrunk."""
    a = np.hstack([x_train, np.ones((len(x_train), 1))]).astype(np.float64)
    gram, rhs = a.T @ a, a.T @ np.asarray(y_train, np.float64)
    shrink = np.eye(gram.shape[0])
    shrink[-1, -1] = 0.0
    val = np.hstack([x_val, np.ones((len(x_val), 1))]).astype(np.float64)
    scores, solutions = [], []
    for lam in lambdas:
        w = np.linalg.solve(gram + lam * shrink, rhs)
        scores.append(float(np.mean(np.sum(l2_normalize(val @ w) * l2_normalize(y_val), axis=1))))
        solutions.append(w)
    best = int(np.argmax(scores))
    w = solutions[best].astype(np.float32)
    return w[:-1], w[-1], float(lambdas[best]), scores


def train_ridge_model(
    features: np.ndarray,
    targets: np.ndarray,
    split: Split,
    *,
    lambdas: Sequence[float] = RIDGE_LAMBDAS,
    settings: Mapping[str, Any] | None = None,
) -> RidgeJointModel:
    """Fit on `split.train`, choose lambda on `split.val`; `split.test` rows are never read."""
    x, y = check_training_inputs(features, targets, split)
    start = time.perf_counter()
    mean = l2_normalize(x[split.train]).mean(axis=0)
    weights, bias, lam, scores = fit_ridge(
        centred(x[split.train], mean), y[split.train], centred(x[split.val], mean), y[split.val], lambdas
    )
    train_time_s = time.perf_counter() - start
    full = {
        **dict(settings or {}),
        "head": "ridge",
        "lambda": lam,
        "lambdas": list(lambdas),
        "feature_dim": int(x.shape[1]),
        "vector_dim": int(y.shape[1]),
        "n_train": int(split.train.size),
        "n_val": int(split.val.size),
        "split": split.to_json(),
    }
    return RidgeJointModel(weights, bias, mean.astype(np.float32), full, {"val_cosine": scores}, train_time_s)


def load_ridge_model(path: Path, meta: Mapping[str, Any]) -> RidgeJointModel:
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in ("weights", "bias", "mean")}
    except (OSError, KeyError, ValueError) as exc:
        raise JointModelError(
            f"cannot read {path} ({exc}); retrain: python -m imagesearch train DIR"
        ) from None
    return RidgeJointModel(
        **arrays,
        settings=dict(meta["settings"]),
        history={k: list(v) for k, v in meta.get("history", {}).items()},
        train_time_s=float(meta.get("train_time_s", float("nan"))),
    )
