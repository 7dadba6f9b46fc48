"""Where things live on disk, and how they get there safely.

Every file the package writes (downloads, feature caches, indexes, models) goes through
:func:`atomic_path`, so that an interrupt never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path


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
