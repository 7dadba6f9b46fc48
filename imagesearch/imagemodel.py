"""What every image model is: uint8 RGB batches in, float32 feature vectors out (and, for
some, their convolution maps). The builders (vgg16.py) make one; the registry (models.py)
names them, so a new model is one builder plus one registry entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .storage import ImageSearchError

INPUT_SIZE = (224, 224)


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
    map_grid: tuple[int, int] = (7, 7)  # the maps' positions (rows, columns): VGG16's at 224 px

    def embed_batch(self, images: np.ndarray) -> np.ndarray:
        batch = self.preprocess(np.asarray(images, dtype=np.float32))
        return np.asarray(self.keras_model.predict_on_batch(batch), dtype=np.float32)

    @property
    def map_shape(self) -> tuple[int, int, int]:
        """One image's convolution maps: rows x columns x dim."""
        return (*self.map_grid, self.dim)

    @property
    def has_maps(self) -> bool:
        return self.maps_model is not None

    def embed_batch_with_maps(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(features N x dim, maps N x rows x columns x dim) in one pass; the features are the output of
        the very layer `embed_batch` reads, so they are the same numbers."""
        if self.maps_model is None:
            raise ModelError(f"model {self.name} has no convolution maps; use vgg16-conv.")
        batch = self.preprocess(np.asarray(images, dtype=np.float32))
        maps, features = self.maps_model.predict_on_batch(batch)
        return np.asarray(features, dtype=np.float32), np.asarray(maps, dtype=np.float32)
