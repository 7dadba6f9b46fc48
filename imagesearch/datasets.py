"""The data sets the engine knows by name: Pascal Sentences (fetched and checked file by file),
the clip art it ships, or any folder of class subfolders (collection.py holds what they load as).
What the labels and captions say (class balance, caption words, ambiguous photos) is in captions.py.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from tqdm.auto import tqdm

from .collection import (  # noqa: F401 (re-exported: a collection is what a data set loads as)
    CLASS_WORDS,
    IMAGE_EXTENSIONS,
    Dataset,
    DatasetError,
    Item,
    _sorted_items,
    class_to_label,
    load_folder,
    read_captions,
)
from .storage import atomic_path, cache_dir, data_dir, sha256_file

PASCAL_URL = "http://vision.cs.uiuc.edu/pascal-sentences/"
PASCAL_SOURCE_ENV = "IMAGESEARCH_PASCAL_SOURCE"


def embedded_root() -> Path:
    return data_dir() / "embedded"


def load_embedded() -> Dataset:
    """The small public-domain clip-art set shipped in imagesearch/data/: runs offline anywhere."""
    return load_folder(embedded_root(), name="embedded")


# --- Pascal Sentences --------------------------------------------------------------------


def pascal_manifest() -> dict[str, str]:
    """relative path -> SHA-256 of index.html and the 1000 photos (the shipped pascal-sentences.sha256)."""
    manifest = {}
    for line in (data_dir() / "pascal-sentences.sha256").read_text().splitlines():
        digest, relpath = line.split(maxsplit=1)
        manifest[relpath.strip()] = digest
    return manifest


_ROW = re.compile(r'<img\s+src="([^"]+)"\s*>\s*</td>\s*<td>\s*<table>(.*?)</table>', re.S | re.I)
_CAPTION = re.compile(r"<tr>\s*<td>(.*?)</td>\s*</tr>", re.S | re.I)


def parse_pascal_index(page: str) -> dict[str, tuple[str, ...]]:
    """index.html -> {"CLASS/ID.jpg": captions}, in page order."""
    rows = {}
    for src, table in _ROW.findall(page):
        rows[src.strip()] = tuple(" ".join(html.unescape(c).split()) for c in _CAPTION.findall(table))
    return rows


def pascal_root() -> Path:
    return cache_dir("datasets", "pascal-sentences")


def _local_source(source: str) -> Path | None:
    if source.startswith("file://"):
        return Path(url2pathname(urlparse(source).path))
    if "://" not in source:
        return Path(source)
    return None


def _fetch_one(relpath: str, digest: str, source: str, dest: Path) -> str | None:
    """Bring one file into `dest` unless a valid copy is there; return an error text or None."""
    target = dest / relpath
    if target.exists() and sha256_file(target) == digest:
        return None
    local = _local_source(source)
    try:
        if local is not None:
            origin = local / relpath
            if not origin.is_file():
                return f"{relpath}: missing in {local}"
            with atomic_path(target) as tmp:
                shutil.copyfile(origin, tmp)
                if sha256_file(tmp) != digest:  # raise, so that atomic_path discards the copy
                    raise ValueError(f"corrupt copy in {local}")
        else:
            import pooch  # a dependency only for downloads

            url = source.rstrip("/") + "/" + relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            pooch.retrieve(
                url, known_hash=f"sha256:{digest}", fname=target.name, path=target.parent, progressbar=False
            )
    except ValueError as error:  # pooch's hash mismatch
        return f"{relpath}: SHA-256 does not match the manifest ({str(error).splitlines()[0]})"
    except Exception as error:  # network and HTTP errors, named per file
        return f"{relpath}: {type(error).__name__}: {error}"
    return None


def fetch_pascal_sentences(
    source: str | None = None,
    dest: str | os.PathLike | None = None,
    *,
    progress: bool = True,
    workers: int = 8,
    manifest: dict[str, str] | None = None,
) -> Path:
    """Download (or copy) the Pascal Sentences site into the cache, checking every file.

    `source` is a base URL or a local folder laid out like the site; by default the environment
    variable IMAGESEARCH_PASCAL_SOURCE, else the official UIUC address. Files already present
    and valid are skipped, so a rerun after an interrupt continues where it stopped.
    `manifest` ({relative path: SHA-256}) defaults to the shipped imagesearch/data/pascal-sentences.sha256.
    """
    source = source or os.environ.get(PASCAL_SOURCE_ENV) or PASCAL_URL
    dest = Path(dest) if dest is not None else pascal_root()
    manifest = manifest if manifest is not None else pascal_manifest()
    logging.getLogger("pooch").setLevel(logging.WARNING)
    relpaths = sorted(manifest)
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda rel: _fetch_one(rel, manifest[rel], source, dest), relpaths)
        for error in tqdm(
            results, total=len(relpaths), desc="Pascal Sentences", unit="file", disable=not progress
        ):
            if error:
                errors.append(error)
    if errors:
        shown = "\n  ".join(errors[:10]) + (
            f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        )
        raise DatasetError(
            f"{len(errors)} of {len(relpaths)} Pascal Sentences files could not be "
            f"fetched from {source}:\n  {shown}\nValid files were kept in {dest}; "
            f"rerun to retry, or give another source with --from or {PASCAL_SOURCE_ENV}."
        )
    return dest


def load_pascal_sentences(
    root: str | os.PathLike | None = None,
    *,
    fetch: bool = True,
    source: str | None = None,
    progress: bool = True,
) -> Dataset:
    """The 1000 Pascal Sentences photos with their captions, fetched first if needed."""
    root = Path(root) if root is not None else pascal_root()
    manifest = pascal_manifest()
    if fetch and not all((root / rel).exists() for rel in manifest):
        fetch_pascal_sentences(source, root, progress=progress)
    index = root / "index.html"
    if not index.exists():
        raise DatasetError(f"{index} is missing. Run `python -m imagesearch fetch pascal-sentences`.")
    rows = parse_pascal_index(index.read_text(encoding="utf-8", errors="replace"))
    missing = [rel for rel in rows if not (root / rel).exists()]
    if missing:
        raise DatasetError(
            f"{len(missing)} Pascal images are missing in {root}, e.g. {missing[0]}. "
            "Run `python -m imagesearch fetch pascal-sentences`."
        )
    items = [Item(root / rel, class_to_label(rel.split("/")[0]), captions) for rel, captions in rows.items()]
    return Dataset("pascal-sentences", root, _sorted_items(items))


def load_dataset(name: str, **kwargs) -> Dataset:
    """`pascal-sentences`, `embedded`, or the path of a folder of class subfolders."""
    if name == "pascal-sentences":
        return load_pascal_sentences(**kwargs)
    if name == "embedded":
        return load_embedded()
    path = Path(name).expanduser()
    if path.is_dir():
        return load_folder(path)
    raise DatasetError(
        f"unknown data set {name!r}: use pascal-sentences, embedded, "
        "or the path of a folder with one subfolder of images per class."
    )
