"""Joint-model heads: the ways to map image features into word space, one registry entry each.

A head is a pair of functions behind `JointHead`: `train(features, targets, split, **options)`
returns a model that meets `JointModelLike` (it embeds features and saves itself with a
joint.json naming its `kind`), and `load(model_path, meta)` reads it back. "ridge" (closed
form, `ridge.py`, the default) and "mlp" (the talk's Keras head, `joint.py`) are registered
here; a new head is one class plus one `register_head` call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .joint import MODEL_FILE as MLP_FILE
from .joint import load_mlp_model, train_joint_model
from .jointfiles import JointModelError, checked_model_file, read_meta
from .pretrained import KIND as PRETRAINED
from .pretrained import MODEL_FILE as PRETRAINED_FILE
from .pretrained import load_pretrained_model
from .ridge import MODEL_FILE as RIDGE_FILE
from .ridge import load_ridge_model, train_ridge_model
from .splits import Split


class JointModelLike(Protocol):
    """What the engine, updates and evaluation use of a trained joint model."""

    settings: dict[str, Any]
    history: dict[str, list[float]]
    train_time_s: float

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Image features -> unit vectors in word space."""

    def save(self, folder: str | os.PathLike) -> Path:
        """The weights file, then joint.json (jointfiles.write_meta) naming its kind."""


@dataclass(frozen=True)
class JointHead:
    train: Callable[..., JointModelLike]  # (features, targets, split, **options)
    load: Callable[[Path, Mapping[str, Any]], JointModelLike]  # (weights file, joint.json)
    model_file: str  # the weights file's name in a model folder
    options: tuple[str, ...] = ()  # the training options it takes beyond `settings`


HEADS_REGISTRY: dict[str, JointHead] = {}


def register_head(name: str, head: JointHead) -> None:
    HEADS_REGISTRY[name] = head


register_head("ridge", JointHead(train_ridge_model, load_ridge_model, RIDGE_FILE))
register_head("mlp", JointHead(train_joint_model, load_mlp_model, MLP_FILE, ("epochs", "seed", "verbose")))
HEADS = tuple(HEADS_REGISTRY)  # the built-in ones, which the command line offers
DEFAULT_HEAD = "ridge"


def _shipped_only(*_args, **_kwargs) -> JointModelLike:
    raise JointModelError(
        "the pretrained head is trained once, by scripts/build_pretrained.py; train with ridge or mlp"
    )


# The shipped model (pretrained.py): loadable from an index, not offered to `train`.
register_head(PRETRAINED, JointHead(_shipped_only, load_pretrained_model, PRETRAINED_FILE))


def joint_head(name: str) -> JointHead:
    if name not in HEADS_REGISTRY:
        raise JointModelError(
            f"unknown joint-model head {name!r}: choose one of {', '.join(HEADS_REGISTRY)}."
        )
    return HEADS_REGISTRY[name]


def train_head(
    name: str, features: np.ndarray, targets: np.ndarray, split: Split, **options
) -> JointModelLike:
    """Train head `name`; options it does not take (e.g. epochs for ridge) are left out."""
    head = joint_head(name)
    chosen = {k: v for k, v in options.items() if k in head.options or k == "settings"}
    return head.train(features, targets, split, **chosen)


def load_joint_model(folder: str | os.PathLike, *, expect: Mapping[str, Any] | None = None) -> JointModelLike:
    """Load a saved joint model of any head, refusing one trained for other features or word
    vectors.

    `expect` maps settings keys (e.g. image_model, feature_dim, vectors) to the values the caller
    is about to use; any difference raises `JointModelMismatchError`, because a head trained on
    other features returns confident nonsense rather than an error.
    """
    folder = Path(folder)
    meta = read_meta(folder, expect)
    head = joint_head(meta.get("kind", "mlp"))  # older models: the Keras head
    return head.load(checked_model_file(folder, meta, head.model_file), meta)
