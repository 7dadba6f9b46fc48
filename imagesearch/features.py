"""Image features, extracted once and cached.

VGG16 takes about 0.3 s per photo on a laptop CPU, so features are computed once per
(data set content, model, weights, resampling) and kept on disk. Extraction streams the images
in batches (memory stays bounded for any data set), saves each finished chunk atomically, and
so continues where it stopped after Ctrl-C or a kill. With `maps=True` (vgg16-conv) the same
pass keeps the last convolution maps too, float16, in a memory-mapped `maps.npy` beside the
features: focus reads a query's map from there instead of running the CNN again.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from .batches import DEFAULT_RESAMPLE, embed_image_maps, embed_images, read_batch  # noqa: F401 (re-exported)
from .datasets import Dataset
from .models import ImageModel, LazyImageModel
from .storage import ImageSearchError, atomic_path, cache_dir

# Bump when the extraction itself changes, so old caches are not reused.
FEATURES_VERSION = 1
CHUNK_SIZE = 64
FINAL_FILE = "features.npz"
MAPS_FILE = "maps.npy"
MAPS_DTYPE = np.float16  # 49 x 512 x 2 bytes = 50 KB an image; their mean matches GAP to 1e-3


@dataclass
class FeatureSet:
    """Features of the images that could be read; `item_numbers` maps each row to its data set item."""

    features: np.ndarray  # n x dim, float32, as the model gives them
    item_numbers: np.ndarray  # n item numbers into the data set
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item key, reason)
    cache_file: Path | None = None
    from_cache: bool = False
    maps: np.ndarray | None = None  # n x rows x columns x dim float16 (memory-mapped when cached)


def l2_normalize(vectors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit length, so that a dot product is a cosine similarity."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, eps)


def cache_key(dataset: Dataset, model: ImageModel | LazyImageModel, resample: str = DEFAULT_RESAMPLE) -> str:
    record = [FEATURES_VERSION, dataset.content_hash, model.name, model.weights_id, resample]
    return hashlib.sha256(json.dumps(record).encode()).hexdigest()[:24]


def _save_npz(path: Path, **arrays) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def extract_features(
    dataset: Dataset,
    model: ImageModel | LazyImageModel,
    *,
    resample: str = DEFAULT_RESAMPLE,
    batch_size: int = 32,
    on_error: Literal["raise", "skip"] = "raise",
    cache: bool | str | os.PathLike = True,
    progress: bool = True,
    maps: bool = False,
) -> FeatureSet:
    """Features for every item of `dataset`, from the cache when it has them.

    `on_error="skip"` leaves unreadable images out and lists them in `skipped` (by name and
    reason); `"raise"` stops at the first one with an ImageLoadError naming the file.
    `cache` is True (the default cache folder), False, or a folder. `maps=True` also returns
    the convolution maps (models that have them; a cache without them is extended, chunk by
    chunk, in one more CNN pass); without a cache they are held in memory.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError("on_error must be 'raise' or 'skip'")
    want_maps = bool(maps) and model.has_maps
    folder = feature_cache_folder(dataset, model, resample, cache) if cache else None
    if folder is not None:
        final = folder / FINAL_FILE
        if final.exists() and (not want_maps or (folder / MAPS_FILE).exists()):
            result = _read_final(final, on_error)
            if want_maps:
                result.maps = np.load(folder / MAPS_FILE, mmap_mode="r")
            return result
        folder.mkdir(parents=True, exist_ok=True)

    n = len(dataset)
    parts, todo = cached_chunks(dataset, folder, want_maps, on_error)
    bar = tqdm(total=n, desc=f"{model.name} features", unit="img", disable=not progress)
    bar.update(sum(min(CHUNK_SIZE, n - start) for start in parts))
    memory_maps: dict[int, np.ndarray] = {}  # chunk start -> maps, only without a cache
    for start, chunk in _embed_chunks(dataset, model, todo, resample, batch_size, on_error, want_maps):
        feats, items, skipped, chunk_maps = chunk
        if folder is not None:
            save_chunk_file(chunk_path(folder, start), feats, items, skipped, chunk_maps)
        elif want_maps:
            memory_maps[start] = chunk_maps
        parts[start] = (feats, items, skipped)
        bar.update(min(CHUNK_SIZE, n - start))
    bar.close()
    result = finish_features(
        [parts[s] for s in sorted(parts)], folder, maps=want_maps, map_shape=model.map_shape
    )
    if want_maps and folder is None:
        result.maps = _concatenate_maps([memory_maps[s] for s in sorted(memory_maps)], model.map_shape)
    return result


def cached_chunks(dataset: Dataset, folder: Path | None, want_maps: bool, on_error: str):
    """(the chunks a killed run already finished, by start; the starts of those left to embed)."""
    parts: dict[int, tuple[np.ndarray, np.ndarray, list]] = {}
    todo = []
    for start in range(0, len(dataset), CHUNK_SIZE):
        chunk = chunk_path(folder, start) if folder is not None else None
        if chunk is not None and chunk.exists() and (not want_maps or _has_maps(chunk)):
            parts[start] = read_chunk_file(chunk)
            if parts[start][2] and on_error == "raise":
                _raise_skipped(parts[start][2])
        else:
            todo.append(start)
    return parts, todo


def _embed_chunks(dataset, model, todo, resample, batch_size, on_error, want_maps):
    """(start, (features, item numbers, skipped, maps)) for each chunk in `todo`, the next
    chunk's JPEGs decoded in a thread while the CNN runs on this one."""

    def read_chunk(start: int):
        paths = dataset.paths[start : start + CHUNK_SIZE]
        return read_batch(paths, model.input_size, resample, on_error)

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(read_chunk, todo[0]) if todo else None
        for i, start in enumerate(todo):
            positions, batch, failures = future.result()
            if i + 1 < len(todo):
                future = pool.submit(read_chunk, todo[i + 1])
            feats, chunk_maps = embed_chunk(model, batch, batch_size, want_maps)
            items = np.asarray([start + p for p in positions], dtype=np.int64)
            skipped = [(dataset[start + p].key, reason) for p, reason in failures]
            yield start, (feats, items, skipped, chunk_maps)


def feature_cache_folder(
    dataset: Dataset,
    model: ImageModel | LazyImageModel,
    resample: str = DEFAULT_RESAMPLE,
    cache: bool | str | os.PathLike = True,
) -> Path:
    """The folder of one data set's features (chunks while extracting, then `features.npz`)."""
    root = cache_dir("features") if cache is True else Path(cache)
    return root / f"{dataset.name}-{model.name}-{cache_key(dataset, model, resample)}"


def chunk_path(folder: Path, start: int) -> Path:
    # The chunk size is in the name: chunks of another size never overlap with these.
    return folder / f"chunk-{CHUNK_SIZE}-{start:07d}.npz"


def embed_chunk(model, batch: np.ndarray, batch_size: int, want_maps: bool = False):
    """(features, float16 maps or None) of one chunk's images, `batch_size` at a time."""
    feats, maps = [], []
    for b in range(0, len(batch), batch_size):
        if want_maps:
            f, m = model.embed_batch_with_maps(batch[b : b + batch_size])
            maps.append(m.astype(MAPS_DTYPE))
        else:
            f = model.embed_batch(batch[b : b + batch_size])
        feats.append(f)
    features = np.concatenate(feats) if feats else np.zeros((0, model.dim), np.float32)
    return features, (_concatenate_maps(maps, model.map_shape) if want_maps else None)


def save_chunk_file(
    path: Path, features: np.ndarray, items: np.ndarray, skipped: list, maps: np.ndarray | None = None
) -> None:
    extra = {} if maps is None else {"maps": maps}
    _save_npz(path, features=features, items=items, skipped=np.asarray(json.dumps(skipped)), **extra)


def finish_features(
    parts: list[tuple[np.ndarray, np.ndarray, list]],
    folder: Path | None,
    *,
    maps: bool = False,
    map_shape: tuple[int, ...] = (),
) -> FeatureSet:
    """Chunks (features, item numbers, skipped) -> one FeatureSet in item order; with a cache
    folder, saved as `features.npz` (and, with `maps`, the chunks' maps as `maps.npy`, written
    chunk by chunk into a memory map), and the chunk files removed."""
    features = np.concatenate([p[0] for p in parts]).astype(np.float32)
    items = np.concatenate([p[1] for p in parts]).astype(np.int64)
    order = np.argsort(items, kind="stable")
    features, items = features[order], items[order]
    skipped = [s for p in parts for s in p[2]]
    result = FeatureSet(features, items, skipped)
    if folder is not None:
        final = folder / FINAL_FILE
        if maps:  # never all maps in memory at once
            _write_maps(
                folder / MAPS_FILE, sorted(folder.glob(f"chunk-{CHUNK_SIZE}-*.npz")), len(items), map_shape
            )
            result.maps = np.load(folder / MAPS_FILE, mmap_mode="r")
        save_chunk_file(final, features, items, skipped)
        for chunk in folder.glob("chunk-*.npz"):
            chunk.unlink()
        result.cache_file = final
    return result


def read_chunk_file(path: Path) -> tuple[np.ndarray, np.ndarray, list]:
    with np.load(path) as data:
        return (data["features"], data["items"], [tuple(s) for s in json.loads(str(data["skipped"]))])


def _read_final(path: Path, on_error: str) -> FeatureSet:
    features, items, skipped = read_chunk_file(path)
    if skipped and on_error == "raise":
        _raise_skipped(skipped)
    return FeatureSet(features, items, skipped, cache_file=path, from_cache=True)


def _raise_skipped(skipped: list) -> None:
    key, reason = skipped[0]
    raise ImageSearchError(
        f"{len(skipped)} images could not be read, e.g. {key}: {reason}. "
        "Fix them (the cache is then rebuilt) or use on_error='skip'."
    )


def _concatenate_maps(parts: list[np.ndarray], map_shape: tuple[int, ...]) -> np.ndarray:
    """The chunks' maps in one array; `map_shape` (one image's: grid x dim, the model's) for none."""
    parts = [p for p in parts if len(p)]
    return np.concatenate(parts).astype(MAPS_DTYPE) if parts else np.zeros((0, *map_shape), MAPS_DTYPE)


def _has_maps(path: Path) -> bool:
    with np.load(path) as data:
        return "maps" in data.files


def _write_maps(path: Path, chunk_files: list[Path], count: int, map_shape: tuple[int, ...]) -> None:
    """The chunks' maps, in item order, into one .npy file (atomically), one chunk in memory at a time."""
    shapes = []
    for chunk in chunk_files:
        with np.load(chunk) as data:
            if len(data["maps"]):
                shapes.append(data["maps"].shape[1:])
                break
    shape = (count, *(shapes[0] if shapes else map_shape))
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=MAPS_DTYPE, shape=shape)
        row = 0
        for chunk in chunk_files:
            with np.load(chunk) as data:
                part = data["maps"]
            out[row : row + len(part)] = part
            row += len(part)
        out.flush()
        del out
