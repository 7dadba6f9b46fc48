"""Growing and shrinking an index folder without re-indexing the collection.

New photos are embedded with the index's own CNN and, when the folder has a joint model, with
that model too; both indexes then take the new rows (usearch inserts them; Annoy, which cannot
add, rebuilds its forest, and the report says what that cost). Removal compacts the rows.
Each index saves a new generation, JSON last (index.py), so an interrupted update leaves the
previous index loadable and unchanged. The focus maps, when the folder has them, are files of
the image index's generation (`images.gG.maps.npy`), written before the JSON that commits it:
an interrupted update leaves the previous index whole, maps included. Vectors and maps are
copied a block at a time into the new generation: no update reads them all into memory.
`relocate_photos` points a copied index at its photos' new folder, by the same commit.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import IMAGE_EXTENSIONS, Dataset, class_to_label
from .embedding import embed_files
from .features import DEFAULT_RESAMPLE
from .folder import DEFAULT_WAIT, IndexFolder
from .generations import read_metadata
from .index import EmbeddingIndex, IndexLoadError
from .layout import IMAGES, JOINT
from .models import LazyImageModel
from .records import item_records
from .storage import ImageSearchError, write_npy, write_text_atomic


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rebuilt: str | None = None  # a note when a backend had to rebuild (Annoy)
    seconds: float = 0.0


def image_files(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The image files among `paths`, folders searched recursively, in sorted order."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        elif path.is_file():
            out.append(path)
        else:
            raise ImageSearchError(f"{path} does not exist: give image files or folders of images.")
    return list(dict.fromkeys(p.resolve() for p in out))  # a file named twice (or via its folder) once


def _rows_under(index: EmbeddingIndex, targets: list[Path]) -> list[int]:
    return [
        row
        for row, path in enumerate(index.records.column("path"))
        if any((p := Path(path).resolve()) == t or t in p.parents for t in targets)
    ]


#: What an update of a backend that cannot add or remove in place (Annoy) cost.
REBUILT = (
    "Annoy cannot add or remove items: rebuilt its forest over all {count} vectors "
    "({seconds:.1f} s, growing with the collection); build with --backend usearch to update in place."
)


def add_images(
    folder: str | os.PathLike,
    paths: Sequence[str | os.PathLike],
    known: dict[str, dict] | None = None,
    *,
    wait: float = DEFAULT_WAIT,
    progress: bool = True,
) -> UpdateReport:
    """Embed the image files in `paths` not yet indexed and add them to the folder's indexes.
    `known` maps a resolved path to its record (label, key, captions) when a data set has one;
    other files are labelled by their folder's name, with no captions. Holds the folder's
    write lock from reading the index to committing it (`wait`: for another writer; the lock
    is re-entrant, so `update_from_dataset` calls this while it holds it)."""
    folder = IndexFolder(folder)
    with folder.writing(wait):
        images, joint = folder.indexes()
        new = [p for p in image_files(paths) if images.row_of_path(p) is None]
        report = UpdateReport(added=[str(p) for p in new])
        if not new:
            return report
        # the joint index takes them all, but after an interrupted add some are in it already
        missing = [] if joint is None else [i for i, p in enumerate(new) if joint.row_of_path(p) is None]
        model = LazyImageModel.recorded(images.metadata)
        old_maps = folder.read_maps(images, checked=False)
        want_maps = old_maps is not None and model.has_maps
        resample = images.metadata.get("resample", DEFAULT_RESAMPLE)
        embedded = embed_files(model, new, resample=resample, maps=want_maps, progress=progress)  # resumable
        maps = (lambda path: write_npy(path, [old_maps, embedded.maps])) if want_maps else None  # noqa: E731
        records = new_records(new, known or {})
        start = time.perf_counter()
        images.add(embedded.features, records)
        if joint is not None:
            joint_model = folder.load_joint_model(images, joint)
            joint.add(joint_model.embed(images.vectors[-len(new) :][missing]), [records[i] for i in missing])
        report.seconds = time.perf_counter() - start
        report.rebuilt = (
            None if images.updatable else REBUILT.format(count=len(images), seconds=report.seconds)
        )
        folder.commit(images, joint, maps)
        embedded.discard()
    return report


def new_records(new: list[Path], known: dict[str, dict]) -> list[dict]:
    """The records of new photo files: a data set's (`known`, by resolved path), else labelled by
    their folder's name, with no captions."""
    return [
        known.get(str(p.resolve()))
        or {
            "path": str(p.resolve()),
            "label": class_to_label(p.parent.name),
            "key": f"{p.parent.name}/{p.name}",
            "captions": [],
        }
        for p in new
    ]


def remove_images(
    folder: str | os.PathLike, paths: Sequence[str | os.PathLike], *, wait: float = DEFAULT_WAIT
) -> UpdateReport:
    """Take the indexed images at `paths` (files, or folders: everything indexed under them)
    out, holding the folder's write lock."""
    folder = IndexFolder(folder)
    with folder.writing(wait):
        return _remove_images(folder, paths)


def _remove_images(folder: IndexFolder, paths) -> UpdateReport:
    images, joint = folder.indexes()
    targets = [Path(p).resolve() for p in paths]
    rows = _rows_under(images, targets)
    report = UpdateReport(removed=[images.records[row]["path"] for row in rows])
    if not rows:
        return report
    old_maps = folder.read_maps(images, checked=False)  # before the remove: its generation names them
    start = time.perf_counter()
    images.remove(rows)
    if joint is not None:  # its own rows: after an interrupted remove it may be compacted already
        joint.remove(_rows_under(joint, targets))
    report.seconds = time.perf_counter() - start
    report.rebuilt = None if images.updatable else REBUILT.format(count=len(images), seconds=report.seconds)
    keep = None if old_maps is None else np.setdiff1d(np.arange(len(old_maps)), rows)
    maps = None if old_maps is None else (lambda path: write_npy(path, [old_maps], keep))
    folder.commit(images, joint, maps)
    return report


def update_from_dataset(
    folder: str | os.PathLike, dataset: Dataset, *, wait: float = DEFAULT_WAIT
) -> UpdateReport:
    """Add what is new in `dataset` and remove what is indexed but no longer in it, holding the
    folder's write lock throughout."""
    folder = IndexFolder(folder)
    with folder.writing(wait):
        images = folder.images()
        present = {str(item.path.resolve()) for item in dataset}
        gone = [p for p in images.records.column("path") if str(Path(p).resolve()) not in present]
        report = _remove_images(folder, gone) if gone else UpdateReport()
        rows = [i for i, item in enumerate(dataset) if images.row_of_path(item.path) is None]
        records = item_records(dataset, rows)
        known = {str(Path(record["path"]).resolve()): record for record in records}
        added = (
            add_images(folder.path, [r["path"] for r in records], known, wait=wait)
            if rows
            else UpdateReport()
        )
    notes = [n for n in (report.rebuilt, added.rebuilt) if n]
    return UpdateReport(added.added, report.removed, "; ".join(notes) or None, report.seconds + added.seconds)


def relocate_photos(folder: str | os.PathLike, photos: str | os.PathLike) -> list[Path]:
    """Point every row of the folder's indexes (images, joint) at `photos`/its key, after the
    index and its photos were copied to another machine (the workshop kit): no re-embedding.
    An index moves to a new generation (EmbeddingIndex.save: the JSON last, the maps carried
    over), so an interrupted move leaves the old index whole; one already pointing there is left
    as it is. Returns the index JSON files rewritten ([] on a rerun)."""
    folder, photos = Path(folder), Path(photos).resolve()
    names = [name for name in (IMAGES, JOINT) if (folder / f"{name}.json").exists()]
    if not names:
        raise IndexLoadError(f"no index in {folder} ({IMAGES}.json is missing): nothing to relocate.")
    return [folder / f"{name}.json" for name in names if _relocate(folder, name, photos)]


def _relocate(folder: Path, name: str, photos: Path) -> bool:
    meta_file = folder / f"{name}.json"
    metadata = read_metadata(meta_file)
    rows = metadata.get("items")  # an index written before format 2 keeps its rows in the JSON
    if rows is not None:  # format 1: the JSON alone changes
        keys = [row.get("key") for row in rows]
        paths = _photo_paths(keys, photos, meta_file)
        if paths == [row.get("path") for row in rows]:
            return False
        _check_photos(keys, photos, meta_file)
        for row, path in zip(rows, paths):
            row["path"] = path
        write_text_atomic(meta_file, json.dumps(metadata, indent=1))
        return True
    index = EmbeddingIndex.load(folder, name)
    keys = index.records.column("key")
    paths = _photo_paths(keys, photos, meta_file)
    if paths == index.records.column("path"):
        return False
    _check_photos(keys, photos, meta_file)
    index.records = index.records.with_column("path", paths)
    index.save(folder, name)  # a new generation, the JSON last, its maps carried over
    return True


def _photo_paths(keys: list[str | None], photos: Path, meta_file: Path) -> list[str]:
    """photos/key for every row; a row without a key cannot be found in another folder."""
    if None in keys:
        raise IndexLoadError(
            f"row {keys.index(None)} of {meta_file} has no item key, so its photo cannot be found "
            "in another folder: rebuild the index where the photos are."
        )
    return [str(photos / key) for key in keys]


def _check_photos(keys: list[str], photos: Path, meta_file: Path) -> None:
    missing = [key for key in keys if not (photos / key).is_file()]
    if missing:
        raise ImageSearchError(
            f"{len(missing)} photos of {meta_file} are not in {photos} (e.g. {missing[0]}): copy the "
            "data set's photos there, keeping their folders, or give the folder that holds them."
        )
