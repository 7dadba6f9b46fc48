"""Where things live on disk, and how they get there safely.

Every file the package writes (downloads, feature caches, indexes, models) goes through
:func:`atomic_path`, so that an interrupt never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

BLOCK_BYTES = 64 << 20  # rows copied between files this many bytes at a time


class ImageSearchError(Exception):
    """An error a user can act on: the message names the file or word and what to do."""


def data_dir() -> Path:
    """The data shipped inside the package (imagesearch/data: the embedded set, manifests, class
    names), found with importlib.resources so that wheel and editable installs both have it;
    IMAGESEARCH_DATA points to another folder laid out the same way."""
    if os.environ.get("IMAGESEARCH_DATA"):
        return Path(os.environ["IMAGESEARCH_DATA"])
    packaged = resources.files(__package__) / "data"
    if not isinstance(packaged, Path) or not packaged.is_dir():
        raise ImageSearchError(
            f"the package data folder {packaged} is missing or not a folder on disk "
            "(zipped install?): reinstall imagesearch unpacked (pip install .), or "
            "set IMAGESEARCH_DATA to a copy of imagesearch/data"
        )
    return packaged


def cache_dir(*parts: str) -> Path:
    """The cache for downloads, features and models; IMAGESEARCH_HOME overrides ~/.cache/imagesearch."""
    root = Path(os.environ.get("IMAGESEARCH_HOME") or Path.home() / ".cache" / "imagesearch")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_npy(path: Path, parts: Sequence[np.ndarray], keep: np.ndarray | None = None, dtype=None) -> None:
    """Write the rows of `parts` one after the other (only rows `keep` of them, when given) to an
    .npy file, atomically, a block at a time: memory-mapped parts are never read whole."""
    import numpy as np

    dtype = np.dtype(dtype or parts[0].dtype)
    first = parts[0]
    if keep is None and len(parts) == 1 and isinstance(first, np.memmap) and first.filename:
        whole = np.load(first.filename, mmap_mode="r")
        if whole.shape == first.shape and whole.dtype == dtype and first.flags.c_contiguous:
            with atomic_path(path) as tmp:  # a whole .npy file: copied as it is
                shutil.copyfile(first.filename, tmp)
            return
    total = sum(len(p) for p in parts)
    rows = np.arange(total) if keep is None else np.asarray(keep, np.int64)
    shape = (len(rows), *parts[0].shape[1:])
    block = max(1, BLOCK_BYTES // max(1, dtype.itemsize * int(np.prod(shape[1:]))))
    starts = np.cumsum([0] + [len(p) for p in parts])
    with atomic_path(path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        for begin in range(0, len(rows), block):
            wanted = rows[begin : begin + block]
            which = np.searchsorted(starts, wanted, side="right") - 1
            for part in np.unique(which):
                local = wanted[which == part] - starts[part]
                chunk = parts[part][local[0] : local[-1] + 1][local - local[0]]
                out[begin + np.flatnonzero(which == part)] = chunk
        out.flush()
        del out
