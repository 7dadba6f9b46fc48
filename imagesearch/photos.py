"""Any folder of photos as a data set: flat, or nested to any depth.

A personal photo folder is rarely laid out as one subfolder per class: it is flat, or sorted by
date (`2023/summer/*.jpg`). `scan_photos` walks it in sorted order, follows symbolic links to
folders but never into a loop, and names every file it leaves out with the reason. Subfolders
are optional labels (`photo_labels`):

- `folders`: a photo's label is its folder's name (`cat/x.jpg` -> "cat"; photos at the top: none);
- `none`: no labels (no class focus; text search needs a model trained elsewhere);
- `auto` (the default): `folders` when the folder looks like a labelled data set (every photo
  one level down, in two or more subfolders), else `none`. A date-sorted or flat folder gets no
  labels named "2023" or "summer"; a class-folder data set indexes exactly as before.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .collection import (
    IMAGE_EXTENSIONS,
    Dataset,
    DatasetError,
    Item,
    _sorted_items,
    class_to_label,
    read_captions,
)
from .datasets import embedded_root, load_dataset
from .heif import heif_missing_reason

LABEL_MODES = ("auto", "folders", "none")
DEFAULT_LABELS = "auto"
CAPTIONS_FILE = "captions.json"


@dataclass(frozen=True)
class PhotoScan:
    """The photos under a folder (POSIX paths relative to it, sorted) and what was left out."""

    root: Path
    photos: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (relative path, reason)


def _skip_reason(path: Path) -> str | None:
    """Why a file under a photo folder is not a photo we can read, or None."""
    if path.name.startswith("."):
        return "hidden file"
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        return f"not an image (extension {suffix or 'none'})"
    if not path.is_file():
        return "a broken link or not a regular file"
    return heif_missing_reason(path)


def scan_photos(root: str | os.PathLike, *, exclude: Sequence[str | os.PathLike] = ()) -> PhotoScan:
    """Every image file under `root`, at any depth, in sorted order, with the files left out.

    Linked folders are followed once: a folder reached again (a link loop, or two links to one
    folder) is skipped and named. Folders in `exclude` (e.g. an index folder written inside the
    photo folder) are left out and named too. A root `captions.json` is the captions, not a
    photo (load_folder's format), and is not listed.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"photo folder {root} does not exist or is not a folder: give a folder of photos.")
    excluded = {Path(p).resolve() for p in exclude}
    photos: list[str] = []
    skipped: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path, rel: PurePosixPath) -> None:
        stat = folder.stat()
        if (stat.st_dev, stat.st_ino) in seen:
            skipped.append((f"{rel}/", "a folder already scanned (a link loop or a second link to it)"))
            return
        seen.add((stat.st_dev, stat.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            skipped.append((f"{rel}/", f"cannot be listed ({error.strerror or error})"))
            return
        for entry in entries:
            path, relpath = Path(entry.path), rel / entry.name
            if relpath == PurePosixPath(CAPTIONS_FILE):
                continue
            if path.is_dir():  # follows links to folders
                if path.resolve() in excluded:
                    skipped.append((f"{relpath}/", "the index folder"))
                elif entry.name.startswith("."):
                    skipped.append((f"{relpath}/", "hidden folder"))
                else:
                    walk(path, relpath)
                continue
            reason = _skip_reason(path)
            if reason:
                skipped.append((str(relpath), reason))
            else:
                photos.append(str(relpath))

    walk(root, PurePosixPath("."))
    clean = lambda rel: rel[2:] if rel.startswith("./") else rel  # noqa: E731
    return PhotoScan(root, tuple(clean(p) for p in photos), tuple((clean(p), r) for p, r in skipped))


def is_class_layout(photos: Sequence[str]) -> bool:
    """Every photo exactly one folder down, in at least two folders: a labelled data set."""
    parts = [PurePosixPath(p).parts for p in photos]
    return bool(parts) and all(len(p) == 2 for p in parts) and len({p[0] for p in parts}) >= 2


def photo_labels(photos: Sequence[str], mode: str = DEFAULT_LABELS) -> list[str]:
    """The label of each photo (relative POSIX paths) under `mode` ("" = no label)."""
    if mode not in LABEL_MODES:
        raise DatasetError(f"--labels must be one of {', '.join(LABEL_MODES)}, not {mode!r}")
    if mode == "none" or (mode == "auto" and not is_class_layout(photos)):
        return [""] * len(photos)
    return [class_to_label(PurePosixPath(p).parent.name) if "/" in p else "" for p in photos]


def photo_dataset(scan: PhotoScan, labels: str = DEFAULT_LABELS, name: str | None = None) -> Dataset:
    """The data set of a scan. Labelled photos are ordered (label, file name) and keyed
    `folder/file`, as `load_folder` does, so a class-folder data set keeps its feature cache;
    unlabelled ones are ordered and keyed by their path under the folder."""
    if not scan.photos:
        shown = "".join(f"\n  {p}: {r}" for p, r in scan.skipped[:10])
        more = f"\n  ... and {len(scan.skipped) - 10} more" if len(scan.skipped) > 10 else ""
        raise DatasetError(
            f"no photos found in {scan.root} or its subfolders (image extensions: "
            f"{', '.join(sorted(IMAGE_EXTENSIONS))}); {len(scan.skipped)} files left out{shown}{more}"
        )
    names = photo_labels(scan.photos, labels)
    captions = read_captions(scan.root)
    items = [
        Item(scan.root / rel, label, tuple(captions.get(rel, ())), name=rel)
        for rel, label in zip(scan.photos, names)
    ]
    ordered = _sorted_items(items) if any(names) else tuple(items)
    ignored = tuple(scan.root / rel for rel, _ in scan.skipped)
    return Dataset(name or scan.root.resolve().name, scan.root, ordered, ignored)


def load_photos(
    root: str | os.PathLike,
    labels: str = DEFAULT_LABELS,
    *,
    exclude: Sequence[str | os.PathLike] = (),
    name: str | None = None,
) -> tuple[Dataset, PhotoScan]:
    """(data set, scan) of a photo folder: `scan.skipped` names each file left out, and why."""
    scan = scan_photos(root, exclude=exclude)
    return photo_dataset(scan, labels, name), scan


def load_collection(
    name: str,
    labels: str = DEFAULT_LABELS,
    *,
    exclude: Sequence[str | os.PathLike] = (),
    **kwargs,
) -> tuple[Dataset, PhotoScan | None]:
    """What `index` takes: `pascal-sentences`, `embedded` (datasets.load_dataset), or a folder
    of photos (load_photos; its scan names what was left out)."""
    if name in ("pascal-sentences", "embedded"):
        return load_dataset(name, **kwargs), None
    path = Path(name).expanduser()
    if not path.is_dir():
        raise DatasetError(
            f"unknown data set {name!r}: use pascal-sentences, embedded, or the path of a folder of photos."
        )
    return load_photos(path, labels, exclude=exclude)


def sample_photos(dest: str | os.PathLike) -> Path:
    """The series' stand-in for a personal folder: the embedded clip-art set copied into one flat
    folder `dest` (no class folders, no captions), in sorted order. Files already there are kept."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for photo in sorted(scan_photos(embedded_root()).photos):
        target = dest / PurePosixPath(photo).name
        if not target.exists():
            shutil.copyfile(embedded_root() / photo, target)
    return dest
