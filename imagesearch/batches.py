"""Photos to feature vectors in batches: image files decoded into one uint8 batch (failures
listed, not fatal, where asked), and loose files such as a query photo embedded at once. The
cached extraction of a whole data set (features.py) runs on the same batches.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .images import ImageLoadError, load_array
from .models import ImageModel, LazyImageModel

DEFAULT_RESAMPLE = "bilinear"


def read_batch(
    paths: Sequence[Path], size: tuple[int, int], resample: str, on_error: str
) -> tuple[list[int], np.ndarray, list[tuple[int, str]]]:
    """(positions read, uint8 batch, failures) for one chunk of paths."""
    loaded, failures = [], []
    for position, path in enumerate(paths):
        try:
            loaded.append((position, load_array(path, size, resample=resample)))
        except ImageLoadError as error:
            if on_error == "raise":
                raise
            failures.append((position, error.reason))
    positions = [p for p, _ in loaded]
    batch = np.stack([a for _, a in loaded]) if loaded else np.zeros((0, size[1], size[0], 3), np.uint8)
    return positions, batch, failures


def embed_images(
    model: ImageModel | LazyImageModel,
    paths: Sequence[str | os.PathLike],
    *,
    resample: str = DEFAULT_RESAMPLE,
    batch_size: int = 32,
) -> np.ndarray:
    """Features of image files outside any data set (e.g. a query photo); errors raise."""
    out = []
    for start in range(0, len(paths), batch_size):
        _, batch, _ = read_batch(
            [Path(p) for p in paths[start : start + batch_size]], model.input_size, resample, "raise"
        )
        out.append(model.embed_batch(batch))
    return np.concatenate(out) if out else np.zeros((0, model.dim), np.float32)


def embed_image_maps(
    model: ImageModel | LazyImageModel,
    paths: Sequence[str | os.PathLike],
    *,
    resample: str = DEFAULT_RESAMPLE,
) -> tuple[np.ndarray, np.ndarray]:
    """(features, float32 convolution maps) of image files outside any data set, in one pass."""
    _, batch, _ = read_batch([Path(p) for p in paths], model.input_size, resample, "raise")
    return model.embed_batch_with_maps(batch)
