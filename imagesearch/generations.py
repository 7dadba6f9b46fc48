"""Saving an index folder's next generation, and clearing out the ones before it.

An index's JSON names its generation (layout.py); a save writes every file of a generation
the JSON does not name yet, then the JSON, then deletes the files of any other generation.
Saving over the committed generation (a loaded index saved back unchanged) therefore starts a
new one rather than rewriting files that readers may have open, and carries the focus maps
over when none are given: the index still has them. A file that cannot be deleted yet (on
Windows, one this process still memory-maps) is left for a later save, which removes every
stale generation it finds.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .backends import REGISTRY
from .layout import DEFAULT_BACKEND, GenerationFiles, index_file
from .storage import ImageSearchError, write_npy, write_text_atomic

INDEX_FORMAT = 2  # 1: the items in the JSON; 2: in NAME.items.arrow


class IndexLoadError(ImageSearchError):
    """An index folder that is missing, incomplete or built for something else."""


class IndexQueryError(IndexLoadError):
    """A query an open index cannot answer: an item out of range, a vector of another length.
    (A subclass of IndexLoadError, which code written before it catches.)"""


def committed_files(folder: Path, name: str, metadata: dict[str, Any]) -> GenerationFiles:
    """The files of the generation a folder's index JSON (`metadata`) names."""
    return index_file(
        folder, name, metadata.get("backend", DEFAULT_BACKEND), int(metadata.get("generation", 0))
    )


def save_generation(own: int, committed: dict[str, Any] | None) -> int:
    """The generation a save writes: its own, unless that is (or precedes) the committed one."""
    if committed is None:
        return own
    return max(own, int(committed.get("generation", 0)) + 1)


def generation_files(folder: Path, name: str) -> list[Path]:
    """Every file of any generation of index `name` in `folder` (temporary files excluded)."""
    suffixes = {backend.suffix for backend, _ in REGISTRY.values()} | {".npy", ".items.arrow", ".maps.npy"}
    pattern = re.compile(rf"{re.escape(name)}(\.g\d+)?({'|'.join(map(re.escape, sorted(suffixes)))})")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def remove_stale(folder: Path, name: str, keep: GenerationFiles) -> list[Path]:
    """Delete the files of every generation but `keep`'s; return those that could not be (still
    memory-mapped on Windows: a later save retries)."""
    left = []
    for path in generation_files(folder, name):
        if path in keep:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError:
            left.append(path)
    return left


def save_index(index, folder: Path, name: str, maps) -> Path:
    """`EmbeddingIndex.save`: the new generation's files, the JSON, then the clean-up."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta_file = folder / f"{name}.json"
    old = read_metadata(meta_file) if meta_file.exists() else None
    own, generation = index.generation, save_generation(index.generation, old)
    if own != generation:
        index.metadata["generation"] = generation
    carried = None  # the committed maps, when this is that very generation, unchanged
    if old is not None and maps is None and (folder, name) == index.home:
        if own == int(old.get("generation", 0)):
            carried = committed_files(folder, name, old).maps
    # what the folder's Qdrant collections are named by (qdrant_collections.py): made once, then kept
    index.metadata.setdefault("collection_id", (old or {}).get("collection_id") or uuid.uuid4().hex)
    files = index.files(folder, name)
    index.write_files(files)
    if callable(maps):
        maps(files.maps)
    elif maps is not None:
        write_npy(files.maps, [maps])
    elif carried is not None and carried.exists():
        write_npy(files.maps, [np.load(carried, mmap_mode="r")])
    index.metadata.pop("items", None)
    index.metadata["format"] = INDEX_FORMAT
    write_text_atomic(meta_file, json.dumps(index.metadata, indent=1))
    index.committed(folder, name, files)  # let go of the old generation's files
    remove_stale(folder, name, keep=files)
    return folder


def read_metadata(path: Path) -> dict[str, Any]:
    """An index JSON; a corrupt one is an IndexLoadError saying to rebuild."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise IndexLoadError(f"{path} is corrupt ({error}); rebuild the index.") from None
