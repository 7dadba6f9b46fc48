"""`IndexFolder`: the one owner of an index folder's format.

An index folder holds an image index (`images.json` + its generation's files), optionally a
joint index (`joint.json`) with the joint model it names, the class weights and the focus maps.
Only this class reads or writes those JSON files, knows where the class weights, maps and joint
model of the committed generation are, and takes the folder's write lock. Builders
(`indexing.py`), updates (`updates.py`) and readers (`engine.py`, `qdrant_store.py`) all go
through it, so the format is decided here once.

One writer at a time: `IndexFolder.writing()` holds the folder's lock file (`filelock`, the
OS's own lock, released by the OS when a process dies) for a whole read-modify-write. A second
writer waits, saying so, up to `wait` seconds, then fails with an `IndexBusyError`. Readers
never take the lock: every save writes a new generation beside the committed one and commits it
by replacing the JSON atomically (generations.py), so a reader sees the old index or the new one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from .focus import ClassWeights, NoClassesError
from .generations import IndexLoadError, read_metadata
from .heads import load_joint_model
from .index import EmbeddingIndex, Maps
from .layout import (
    CLASS_WEIGHTS_FILE,
    DEFAULT_BACKEND,
    IMAGES,
    JOINT,
    JOINT_MODEL_DIR,
    generational,
    index_file,
)
from .models import LazyImageModel
from .storage import ImageSearchError, atomic_path

LOCK_FILE = "write.lock"
DEFAULT_WAIT = 600.0  # seconds a second writer waits for the first before giving up


class IndexBusyError(ImageSearchError):
    """Another process is writing to the index folder, and kept at it past the wait limit."""


class IndexFolder:
    """An index folder: its JSON, generations, class weights, focus maps, joint model and lock."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"IndexFolder({str(self.path)!r})"

    # -- what the folder holds ------------------------------------------------------------
    def meta_file(self, name: str = IMAGES) -> Path:
        return self.path / f"{name}.json"

    def has(self, name: str = IMAGES) -> bool:
        return self.meta_file(name).exists()

    @property
    def has_joint(self) -> bool:
        return self.has(JOINT)

    def metadata(self, name: str = IMAGES) -> dict[str, Any]:
        """The JSON of index `name`; a missing one says how to make it."""
        if not self.has(name):
            if name == JOINT:
                raise IndexLoadError(
                    f"{self.path} has no joint image-word model yet: train it with "
                    f"`python -m imagesearch train {self.path}`."
                )
            raise IndexLoadError(
                f"no index {name!r} in {self.path} ({self.meta_file(name).name} is missing). "
                f"Build one with `python -m imagesearch index DATASET --out {self.path}`."
            )
        return read_metadata(self.meta_file(name))

    def next_generation(self, name: str = IMAGES) -> int:
        """0 in a new folder; one past the generation the folder's index JSON names."""
        return int(self.metadata(name).get("generation", 0)) + 1 if self.has(name) else 0

    def committed_maps(self, metadata: dict[str, Any]) -> Path:
        """The focus-maps file of the image generation `metadata` names (absent when none)."""
        backend = metadata.get("backend", DEFAULT_BACKEND)
        return index_file(self.path, IMAGES, backend, int(metadata.get("generation", 0))).maps

    # -- the indexes ----------------------------------------------------------------------
    def load(self, name: str = IMAGES) -> EmbeddingIndex:
        """Open index `name` without waiting for a writer. Should a writer commit a new
        generation and delete the one whose JSON this reader had just read, the reader opens
        the new one (it sees one whole generation or the other, never half of an update)."""
        for attempt in range(3):
            generation = self.metadata(name).get("generation", 0)  # a missing index: its error
            try:
                return EmbeddingIndex.load(self.path, name)
            except (IndexLoadError, FileNotFoundError):
                if attempt == 2 or self.metadata(name).get("generation", 0) == generation:
                    raise
        raise AssertionError("unreachable")

    def images(self) -> EmbeddingIndex:
        return self.load(IMAGES)

    def joint(self) -> EmbeddingIndex | None:
        return self.load(JOINT) if self.has_joint else None

    def indexes(self) -> tuple[EmbeddingIndex, EmbeddingIndex | None]:
        """(image index, joint index or None): what an update reads and then commits."""
        return self.images(), self.joint()

    def save(self, index: EmbeddingIndex, name: str = IMAGES, *, maps: Maps = None) -> Path:
        """Commit `index` as the folder's next generation of `name` (generations.py)."""
        return index.save(self.path, name, maps=maps)

    def commit(self, images: EmbeddingIndex, joint: EmbeddingIndex | None, maps: Maps = None) -> None:
        """Save an update of both indexes. Joint first: after an interrupted add, every image row
        is also a joint row, and a rerun (which works out what is missing per index) completes
        the other one. Then the images with their maps (a function writing the new maps file,
        or None when the folder keeps none)."""
        for index, name, index_maps in ((joint, JOINT, None), (images, IMAGES, maps)):
            if index is not None:
                self.save(index, name, maps=index_maps)

    # -- class weights --------------------------------------------------------------------
    def class_weights_file(self, metadata: dict[str, Any]) -> Path | None:
        """The class weights an image index's JSON names (older indexes: class_weights.npz); None
        for a collection with fewer than two classes, which has no class focus."""
        name = metadata.get("class_weights", CLASS_WEIGHTS_FILE)
        return None if name is None else self.path / name

    def read_class_weights(self, metadata: dict[str, Any]) -> ClassWeights:
        path = self.class_weights_file(metadata)
        if path is None:
            raise NoClassesError(
                f"{self.path} has no class focus: its photos have fewer than two labels "
                "(index a folder of class subfolders with --labels folders to focus on its classes)."
            )
        if not path.exists():
            raise IndexLoadError(f"{path} is missing; rebuild the index to search with focus.")
        with np.load(path) as data:
            intercept = data["intercept"] if "intercept" in data.files else None  # older files: 0
            return ClassWeights(
                data["weights"], tuple(str(c) for c in data["classes"]), str(data["source"]), intercept
            )

    def write_class_weights(self, weights: ClassWeights, generation: int) -> str:
        """Write generation `generation`'s class weights; returns the name the JSON records."""
        name = generational(CLASS_WEIGHTS_FILE, generation)
        with atomic_path(self.path / name) as tmp:
            with open(tmp, "wb") as f:
                np.savez(
                    f,
                    weights=weights.weights,
                    classes=np.asarray(weights.classes),
                    source=np.asarray(weights.source),
                    intercept=weights.intercepts,
                )
        return name

    # -- focus maps -----------------------------------------------------------------------
    def maps_file(self, images: EmbeddingIndex) -> Path:
        """The focus maps of an image index's generation (absent when it keeps none)."""
        return self.committed_maps(images.metadata)

    def read_maps(self, images: EmbeddingIndex, *, checked: bool = True) -> np.ndarray | None:
        """The images' convolution maps (memory-mapped), or None when the folder keeps none;
        `checked`: refuse maps out of step with the index (an update reads them unchecked)."""
        path = self.maps_file(images)
        if not path.exists():
            return None
        maps = np.load(path, mmap_mode="r")
        if checked and len(maps) != len(images):
            raise IndexLoadError(
                f"{path} has {len(maps)} maps for {len(images)} images: out of step with the index "
                "(an interrupted add or remove?). Rebuild with `python -m imagesearch index DATASET --out "
                f"{self.path} --force`, or delete {path.name} to focus by re-weighting."
            )
        return maps

    # -- models ---------------------------------------------------------------------------
    def image_model(self, metadata: dict[str, Any] | None = None) -> LazyImageModel:
        """The image model of the image index (LazyImageModel.recorded: its weights checked)."""
        return LazyImageModel.recorded(self.metadata(IMAGES) if metadata is None else metadata)

    def joint_model_dir(self, metadata: dict[str, Any]) -> Path:
        """The joint model a joint index's JSON names (older indexes: joint/)."""
        return self.path / metadata.get("model_dir", JOINT_MODEL_DIR)

    def load_joint_model(self, images: EmbeddingIndex, joint: EmbeddingIndex):
        """The joint model the joint index names, checked against the image index it maps."""
        expect = joint_settings(images, word_vectors_name(joint.metadata), joint.dim)
        return load_joint_model(self.joint_model_dir(joint.metadata), expect=expect)

    # -- the write lock -------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, wait: float = DEFAULT_WAIT) -> Iterator[IndexFolder]:
        """Hold the folder's write lock for the block (re-entrant within a process): a second
        writer waits up to `wait` seconds, saying so on stderr, then fails."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock = _lock(self.path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            print(
                f"waiting for another process writing to {self.path} (up to {wait:g} s; --wait sets it)...",
                file=sys.stderr,
                flush=True,
            )
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise IndexBusyError(
                    f"another process is still writing to {self.path} after {wait:g} s: nothing was "
                    "changed. Run the command again when it is done, or give a longer --wait SECONDS."
                ) from None
        try:
            yield self
        finally:
            lock.release()


_LOCKS: dict[Path, FileLock] = {}


def _lock(folder: Path) -> FileLock:
    """One lock object per folder and process, so that nested `writing()` blocks re-enter it."""
    key = folder.resolve()
    if key not in _LOCKS:
        _LOCKS[key] = FileLock(key / LOCK_FILE, thread_local=False)
    return _LOCKS[key]


def word_vectors_name(metadata: dict[str, Any]) -> str:
    """The word vectors a joint index (or joint model) was made with."""
    return metadata.get("word_vectors") or metadata["vectors"]


def joint_settings(images: EmbeddingIndex, vectors: str, vector_dim: int) -> dict[str, Any]:
    """What a joint model depends on; a saved model must match all of it to be used."""
    return {
        "image_model": images.metadata["model"],
        "feature_dim": images.dim,
        "vectors": vectors,
        "vector_dim": vector_dim,
        "dataset_hash": images.metadata.get("dataset_hash"),
    }
