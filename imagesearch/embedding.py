"""Embedding photo files that are not (yet) a data set: the new photos of `add` and `--update`.

A thousand new photos are minutes of CNN time and tens of GB of activations in one batch, so
they are embedded a chunk at a time (memory stays bounded), with a progress bar and an ETA,
and each finished chunk is saved to the cache: a killed update, rerun, embeds only the chunks
it had not finished. The cache is keyed by the files (path, size, modification time), the model
and its weights; the caller discards it once the index that holds the vectors is saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .features import (
    CHUNK_SIZE,
    DEFAULT_RESAMPLE,
    FEATURES_VERSION,
    MAPS_DTYPE,
    _concatenate_maps,
    chunk_path,
    embed_chunk,
    read_batch,
    save_chunk_file,
)
from .index import EmbeddingIndex
from .layout import IMAGES
from .models import LazyImageModel
from .photos import load_photos
from .storage import cache_dir


@dataclass
class EmbeddedFiles:
    features: np.ndarray  # n x dim float32, in the order of the paths
    maps: np.ndarray | None  # n x 7 x 7 x dim float16, when asked for
    cache: Path | None  # the chunks saved so far: `discard()` once the vectors are kept elsewhere

    def discard(self) -> None:
        if self.cache is not None:
            shutil.rmtree(self.cache, ignore_errors=True)


def files_key(model, paths: Sequence[Path], resample: str, maps: bool) -> str:
    """The cache key of embedding these files with this model: their paths, sizes and times."""
    stats = []
    for path in paths:
        stat = path.stat()
        stats.append([str(path), stat.st_size, stat.st_mtime_ns])
    record = [FEATURES_VERSION, model.name, model.weights_id, resample, bool(maps), stats]
    return hashlib.sha256(json.dumps(record).encode()).hexdigest()[:24]


def embed_files(
    model,
    paths: Sequence[str | os.PathLike],
    *,
    resample: str = DEFAULT_RESAMPLE,
    maps: bool = False,
    progress: bool = True,
    cache: bool = True,
    batch_size: int = 32,
) -> EmbeddedFiles:
    """Features (and, with `maps`, convolution maps) of image files, chunk by chunk; an
    unreadable file raises ImageLoadError naming it. Chunks saved by a killed run are reused."""
    paths = [Path(p) for p in paths]
    maps = bool(maps) and model.has_maps
    folder = None
    if cache and paths:
        folder = cache_dir("features", f"files-{model.name}-{files_key(model, paths, resample, maps)}")
    feats, chunk_maps = [], []
    bar = tqdm(total=len(paths), desc=f"{model.name} new photos", unit="img", disable=not progress)
    for start in range(0, len(paths), CHUNK_SIZE):
        chunk = paths[start : start + CHUNK_SIZE]
        saved = chunk_path(folder, start) if folder is not None else None
        if saved is not None and saved.exists():
            with np.load(saved) as data:
                f, m = data["features"], (data["maps"] if maps else None)
        else:
            _, batch, _ = read_batch(chunk, model.input_size, resample, "raise")
            f, m = embed_chunk(model, batch, batch_size, maps)
            if saved is not None:
                save_chunk_file(saved, f, np.arange(start, start + len(chunk)), [], m)
        feats.append(np.asarray(f, np.float32))
        if maps:
            chunk_maps.append(np.asarray(m, MAPS_DTYPE))
        bar.update(len(chunk))
    bar.close()
    features = np.concatenate(feats) if feats else np.zeros((0, model.dim), np.float32)
    return EmbeddedFiles(features, _concatenate_maps(chunk_maps, model.map_shape) if maps else None, folder)


def folder_vectors(folder: str | os.PathLike, model_name: str, *, progress: bool = True):
    """(feature vectors, photo paths, scan) of a photo folder or an index folder: an index's
    stored vectors (no CNN), else every photo under the folder embedded (cached, resumable)."""
    folder = Path(folder)
    if (folder / f"{IMAGES}.json").exists():
        index = EmbeddingIndex.load(folder, IMAGES)
        return np.asarray(index.vectors), list(index.records.column("path")), None
    dataset, scan = load_photos(folder, "none")
    embedded = embed_files(LazyImageModel(model_name), dataset.paths, progress=progress)
    return embedded.features, [str(p) for p in dataset.paths], scan
