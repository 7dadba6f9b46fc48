"""Feature extraction on a distributed engine (Dask or Ray): the same code on a laptop and a cluster.

The data set is cut into the chunks of `features.extract_features`, and each chunk is one task.
A worker process builds the CNN once (`cached_image_model`) and reuses it for every chunk it
gets; it reads the images itself (on a cluster they must be at the same paths on every worker,
e.g. a shared file system) and sends back only the features (64 x 512 floats a chunk). The
client writes each chunk atomically into the feature cache as it arrives, so the cache needs no
shared file system, an interrupted run keeps its finished chunks and continues from them (with
either engine, or the single-process path), and the result is the cache file that `build_index`
reads. Dask and Ray are imported only when used: each takes seconds to import.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np

from .datasets import Dataset
from .features import (
    CHUNK_SIZE,
    DEFAULT_RESAMPLE,
    FINAL_FILE,
    MAPS_FILE,
    FeatureSet,
    _read_final,
    cached_chunks,
    chunk_path,
    feature_cache_folder,
    finish_features,
    read_batch,
    save_chunk_file,
)
from .features import (
    embed_chunk as embed_in_batches,
)
from .images import ImageLoadError
from .models import DEFAULT_MODEL, LazyImageModel, cached_image_model

ENGINES = ("dask", "ray")
DEFAULT_WORKERS = 2
_MODEL_LOCK = threading.Lock()  # a worker with several threads still builds its CNN once

# (chunk start, positions read, features, convolution maps or None, failures as (position, reason))
ChunkResult = tuple[int, list[int], np.ndarray, np.ndarray | None, list[tuple[int, str]]]


@dataclass
class DistributedRun:
    """What a run produced and what it cost: cluster start and extraction time, in seconds."""

    features: FeatureSet
    engine: str
    workers: int
    start_s: float
    run_s: float
    chunks_computed: int
    chunks_reused: int
    photos_computed: int

    @property
    def photos_per_s(self) -> float:
        return self.photos_computed / self.run_s if self.run_s else 0.0


def embed_chunk_on_worker(
    start: int, paths: Sequence[str], model_name: str, weights: str | None, resample: str, batch_size: int
) -> ChunkResult:
    """One task, run on a worker: read a chunk's images and embed them with the worker's CNN.
    Unreadable images come back as failures (the client decides whether they stop the run)."""
    with _MODEL_LOCK:
        model = cached_image_model(model_name, weights)
    positions, batch, failures = read_batch([Path(p) for p in paths], model.input_size, resample, "skip")
    feats, maps = embed_in_batches(model, batch, batch_size, model.has_maps)
    return start, positions, feats, maps, failures


class RayEmbedder:
    """Ray Data's callable class: one CNN per actor, built when the actor starts."""

    def __init__(self, model_name: str, weights: str | None, resample: str, batch_size: int):
        self.args = (model_name, weights, resample, batch_size)
        cached_image_model(model_name, weights)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [
            pickle.dumps(embed_chunk_on_worker(int(start), list(paths.split("\n")), *self.args))
            for start, paths in zip(batch["start"], batch["paths"])
        ]
        return {"result": np.asarray(results, dtype=object)}


def _run_dask(tasks, args, address: str | None, workers: int, on_result: Callable) -> float:
    from dask.distributed import Client, LocalCluster, as_completed

    began = perf_counter()
    if address:
        cluster, client = None, Client(address)
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    start_s = perf_counter() - began
    try:
        futures = [
            client.submit(embed_chunk_on_worker, start, paths, *args, pure=False) for start, paths in tasks
        ]
        for future in as_completed(futures):
            on_result(future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return start_s


def _run_ray(tasks, args, address: str | None, workers: int, on_result: Callable) -> float:
    import ray

    began = perf_counter()
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # One CPU more than actors: Ray Data's own tasks must never wait behind the CNNs.
            ray.init(num_cpus=workers + 1, include_dashboard=False, log_to_driver=False)
    start_s = perf_counter() - began
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    rows = [{"start": start, "paths": "\n".join(paths)} for start, paths in tasks]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        RayEmbedder,
        fn_constructor_args=args,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    try:
        for row in dataset.iter_rows():
            on_result(pickle.loads(row["result"]))
    finally:  # a failed chunk must not leave a local cluster running in this process
        if not address:
            ray.shutdown()
    return start_s


def extract_features_distributed(
    dataset: Dataset,
    model: str = DEFAULT_MODEL,
    *,
    engine: str = "dask",
    address: str | None = None,
    workers: int = DEFAULT_WORKERS,
    weights: str | None = None,
    resample: str = DEFAULT_RESAMPLE,
    batch_size: int = 32,
    on_error: str = "raise",
    cache: bool | str | os.PathLike = True,
) -> DistributedRun:
    """`extract_features` on a Dask or Ray cluster: the same features, in the same order, in the
    same cache. Without `address`, a local cluster of `workers` processes on this machine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if on_error not in ("raise", "skip"):
        raise ValueError("on_error must be 'raise' or 'skip'")
    lazy = LazyImageModel(model, weights)
    folder = feature_cache_folder(dataset, lazy, resample, cache) if cache else None
    want_maps = lazy.has_maps
    done = folder is not None and (folder / FINAL_FILE).exists()
    if done and (not want_maps or (folder / MAPS_FILE).exists()):
        features = _read_final(folder / FINAL_FILE, on_error)
        return DistributedRun(features, engine, workers, 0.0, 0.0, 0, 0, 0)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)

    parts, todo = cached_chunks(dataset, folder, want_maps, on_error)
    tasks = [(start, [str(p) for p in dataset.paths[start : start + CHUNK_SIZE]]) for start in todo]
    reused = len(parts)

    def on_result(result: ChunkResult) -> None:
        start, positions, feats, maps, failures = result
        if failures and on_error == "raise":
            position, reason = failures[0]
            raise ImageLoadError(dataset[start + position].path, reason)
        items = np.asarray([start + p for p in positions], dtype=np.int64)
        skipped = [(dataset[start + p].key, reason) for p, reason in failures]
        if folder is not None:
            save_chunk_file(chunk_path(folder, start), feats, items, skipped, maps)
        parts[start] = (feats, items, skipped)

    began = perf_counter()
    start_s = 0.0
    if tasks:
        run = _run_dask if engine == "dask" else _run_ray
        start_s = run(tasks, (lazy.name, lazy.weights, resample, batch_size), address, workers, on_result)
    run_s = perf_counter() - began - start_s
    features = finish_features(
        [parts[s] for s in sorted(parts)], folder, maps=want_maps, map_shape=lazy.map_shape
    )
    computed = sum(len(paths) for _, paths in tasks)
    return DistributedRun(features, engine, workers, start_s, run_s, len(tasks), reused, computed)
