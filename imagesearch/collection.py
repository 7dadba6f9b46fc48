"""A collection: photos with labels and captions, in one order on every machine.

Items are sorted by (label, file name), so that an item number means the same image everywhere,
and every cache and index built from a collection can be keyed by its content hash. The
collections the engine knows by name (Pascal Sentences, the clip art) are in datasets.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .storage import ImageSearchError, sha256_file

# .heic/.heif (phone photos) are read through the optional pillow-heif plugin (heif.py).
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".heic", ".heif"}
)

# Pascal VOC writes some class names as one word; a word-vector model needs real words.
CLASS_WORDS = {"diningtable": "dining table", "pottedplant": "potted plant", "tvmonitor": "tv monitor"}


class DatasetError(ImageSearchError):
    """A data set that cannot be found, fetched or read."""


@dataclass(frozen=True)
class Item:
    path: Path
    label: str
    captions: tuple[str, ...] = ()
    name: str | None = None  # its path relative to a photo folder (photos.py); None: class/file

    @property
    def key(self) -> str:
        """The item's name inside its data set, e.g. `cat/2008_000123.jpg` (`2023/summer/x.jpg`)."""
        return self.name or f"{self.path.parent.name}/{self.path.name}"


@dataclass(frozen=True)
class Dataset:
    name: str
    root: Path
    items: tuple[Item, ...]
    ignored: tuple[Path, ...] = field(default=(), compare=False)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Item:
        return self.items[index]

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    @property
    def paths(self) -> list[Path]:
        return [item.path for item in self.items]

    @property
    def labels(self) -> list[str]:
        return [item.label for item in self.items]

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))

    def subset(self, indices: Sequence[int], name: str | None = None) -> Dataset:
        return Dataset(
            name or f"{self.name}-subset{len(indices)}", self.root, tuple(self.items[i] for i in indices)
        )

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 over every item's key, label, captions and file bytes: the cache key."""
        digest = hashlib.sha256()
        for item in self.items:
            record = [item.key, item.label, list(item.captions), sha256_file(item.path)]
            digest.update(json.dumps(record).encode("utf-8"))
        return digest.hexdigest()

    def find(self, path: str | os.PathLike) -> int | None:
        """The item number of an image file of this data set, or None."""
        target = Path(path).resolve()
        for number, item in enumerate(self.items):
            if item.path.resolve() == target:
                return number
        return None


def class_to_label(name: str) -> str:
    """Folder name -> label words: `diningtable` -> `dining table`, `potted_plant` -> `potted plant`."""
    return CLASS_WORDS.get(name, name.replace("_", " ").strip())


def _sorted_items(items: list[Item]) -> tuple[Item, ...]:
    return tuple(sorted(items, key=lambda item: (item.label, item.path.name)))


def read_captions(root: Path) -> dict[str, list[str]]:
    """`captions.json` beside the photos: 'class/file' -> sentences ({} when there is none)."""
    captions: dict[str, list[str]] = {}
    captions_file = root / "captions.json"
    if captions_file.exists():
        try:
            captions = json.loads(captions_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DatasetError(f"{captions_file} is not valid JSON ({error}); fix or delete it.") from None
        if not (
            isinstance(captions, dict)
            and all(isinstance(v, list) and all(isinstance(c, str) for c in v) for v in captions.values())
        ):
            raise DatasetError(
                f"{captions_file} must map 'class/file' to a list of sentences; fix or delete it."
            )
    return captions


def load_folder(root: str | os.PathLike, name: str | None = None) -> Dataset:
    """A folder of class subfolders of images (the original project's format).

    Captions are optional: a `captions.json` beside the class folders maps `class/file` to a
    list of sentences. Files in class folders that are not images are listed in `ignored`.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(
            f"data set folder {root} does not exist. Give a folder with one subfolder of images per class."
        )
    captions = read_captions(root)
    items, ignored = [], []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(class_dir.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
                key = f"{class_dir.name}/{path.name}"
                items.append(Item(path, class_to_label(class_dir.name), tuple(captions.get(key, ()))))
            else:
                ignored.append(path)
    if not items:
        raise DatasetError(
            f"no images found in class subfolders of {root}. Expected "
            f"{root}/<class>/<image> with extensions {sorted(IMAGE_EXTENSIONS)}."
        )
    if ignored:
        warnings.warn(
            f"{len(ignored)} files in {root} are not images and were left out, e.g. {ignored[0]}",
            stacklevel=2,
        )
    return Dataset(name or root.name, root, _sorted_items(items), tuple(ignored))
