"""What training the Keras head checks and records, as plain values: its hyperparameters, the
caller's settings against the arrays, and the record saved in joint.json. Apart from joint.py,
which holds the Keras model itself, so these read (and test) without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .jointfiles import to_plain
from .storage import ImageSearchError


def check_hyperparameters(epochs, batch_size, patience, hidden, dropout, lr) -> None:
    if int(epochs) < 1 or int(batch_size) < 1 or int(patience) < 0 or int(hidden) < 1:
        raise ImageSearchError(
            f"need epochs >= 1, batch_size >= 1, patience >= 0 and hidden >= 1; got epochs={epochs}, "
            f"batch_size={batch_size}, patience={patience}, hidden={hidden}"
        )
    if not (0.0 <= float(dropout) < 1.0) or not float(lr) > 0.0:
        raise ImageSearchError(f"need 0 <= dropout < 1 and lr > 0; got dropout={dropout}, lr={lr}")


def caller_settings(settings: Mapping[str, Any] | None, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The caller's settings as they will read back from joint.json, checked against the arrays."""
    caller = dict(settings or {})
    for key, actual in (("feature_dim", x.shape[1]), ("vector_dim", y.shape[1])):
        if key in caller and to_plain(caller[key]) != actual:
            raise ImageSearchError(
                f"settings say {key}={caller[key]!r} but the arrays given have {actual}; "
                "the features or word vectors are not the ones the settings describe"
            )
    try:
        return to_plain(caller)
    except (TypeError, ValueError) as exc:
        raise ImageSearchError(
            f"settings must be JSON-serialisable to be saved with the model: {exc}"
        ) from None


def training_record(
    x, y, split, history, best_epoch, epochs, seed, batch_size, patience, hidden, dropout, lr
):
    """What a trained head records of its training, beside the caller's settings."""
    return {
        "feature_dim": int(x.shape[1]),
        "vector_dim": int(y.shape[1]),
        "epochs": int(epochs),
        "epochs_run": len(history["loss"]),
        "best_epoch": best_epoch,
        "seed": int(seed),
        "batch_size": int(batch_size),
        "patience": int(patience),
        "hidden": int(hidden),
        "dropout": float(dropout),
        "lr": float(lr),
        "optimizer": "adam",
        "loss": "cosine",
        "normalize_features": True,
        "n_train": int(split.train.size),
        "n_val": int(split.val.size),
        "split": split.to_json(),
    }
