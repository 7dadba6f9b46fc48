"""The ANN backends behind EmbeddingIndex: recall against exact search, add, remove, save/load,
the usearch-i8 preset's exact re-rank, and that opening an Annoy index never imports the
large-collection libraries."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imagesearch.backends import AnnoyBackend, BackendError, build_options, make_backend
from imagesearch.index import EmbeddingIndex, IndexLoadError, exact_search

BACKENDS = ["annoy", "usearch", "usearch-i8"]  # the preset: int8 storage + exact re-rank


def unit(rows: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def records(n: int, start: int = 0) -> list[dict]:
    return [
        {"path": f"/photos/{i}.jpg", "label": f"class {i % 5}", "key": f"k/{i}", "captions": []}
        for i in range(start, start + n)
    ]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def build(backend: str, n: int = 500) -> EmbeddingIndex:
    return EmbeddingIndex.build(unit(n), records(n), model="test", backend=backend)


def recall(index: EmbeddingIndex, queries: np.ndarray) -> float:
    hits = 0
    for q in queries:
        truth = set(exact_search(index.vectors, q, 10)[0].tolist())
        hits += len(truth & {r.row for r in index.search(q, 10)})
    return hits / (10 * len(queries))


def test_each_backend_finds_the_exact_top_10(backend):
    index = build(backend)
    assert recall(index, unit(50, seed=1)) >= 0.9
    top = index.search(index.vectors[3], 5)
    assert top[0].row == 3 and top[0].score == pytest.approx(1.0, abs=1e-2)
    assert [r.rank for r in top] == [1, 2, 3, 4, 5]
    assert 3 not in {r.row for r in index.search(index.vectors[3], 5, exclude=[3])}


def test_add_then_search_finds_the_new_item(backend):
    index = build(backend)
    new = unit(3, seed=7)
    rows = index.add(new, records(3, start=500))
    assert rows.tolist() == [500, 501, 502] and len(index) == 503
    for row, vector in zip(rows, new):
        assert index.search(vector, 1)[0].row == row
    assert index.search(new[1], 1)[0].path == "/photos/501.jpg"
    assert index.row_of_path("/photos/502.jpg") == 502  # the path lookup sees new rows


def test_removed_items_are_never_returned(backend):
    index = build(backend)
    gone = index.records[10]["path"], index.records[11]["path"]
    vectors = index.vectors[[10, 11]].copy()
    index.remove([10, 11])
    assert len(index) == len(index.vectors) == 498
    for q in np.concatenate([vectors, unit(30, seed=3)]):
        paths = {r.path for r in index.search(q, 20)}
        assert not paths & set(gone)
        assert all(0 <= r.row < len(index) for r in index.search(q, 20))
    # rows stay consistent: the item now at row 10 is found at row 10 with its own vector
    assert index.search(index.vectors[10], 1)[0].row == 10
    assert index.records[10]["path"] == "/photos/12.jpg"
    assert recall(index, unit(30, seed=1)) >= 0.9


def test_save_load_round_trip_and_update_generations(backend, tmp_path):
    index = build(backend)
    index.save(tmp_path)
    loaded = EmbeddingIndex.load(tmp_path)
    assert loaded.backend == backend and loaded.metadata == index.metadata
    q = unit(5, seed=2)
    assert [[r.row for r in loaded.search(v, 10)] for v in q] == [
        [r.row for r in index.search(v, 10)] for v in q
    ]
    loaded.add(unit(2, seed=9), records(2, start=900))
    loaded.remove([0])
    loaded.save(tmp_path)
    again = EmbeddingIndex.load(tmp_path)
    assert len(again) == 501 and again.generation == 2
    assert again.search(unit(2, seed=9)[1], 1)[0].path == "/photos/901.jpg"
    files = {p.name for p in tmp_path.iterdir()}
    suffix = ".ann" if backend == "annoy" else ".usearch"
    assert files == {"images.g2.npy", f"images.g2{suffix}", "images.g2.items.arrow", "images.json"}


def test_updates_of_a_loaded_index_copy_its_vectors_file_to_file(backend, tmp_path):
    build(backend).save(tmp_path)
    loaded = EmbeddingIndex.load(tmp_path)
    before = np.array(loaded.vectors)
    loaded.add(unit(3, seed=4), records(3, start=700))
    assert isinstance(loaded.vectors, np.memmap)  # the new generation's file, mapped, not in memory
    assert Path(loaded.vectors.filename).name == "images.g1.npy"
    np.testing.assert_array_equal(loaded.vectors[:500], before)
    loaded.remove([1, 499, 501])
    assert Path(loaded.vectors.filename).name == "images.g2.npy" and len(loaded.vectors) == 500
    assert not (tmp_path / "images.g1.npy").exists()  # the first update's file, never committed
    np.testing.assert_array_equal(loaded.vectors[:498], np.delete(before, [1, 499], axis=0))
    loaded.save(tmp_path)
    again = EmbeddingIndex.load(tmp_path)
    assert again.records.column("path")[-2:] == ["/photos/700.jpg", "/photos/702.jpg"]
    assert again.search(again.vectors[-1], 1)[0].row == 499


def test_usearch_remove_renumbers_every_key_to_its_row():
    index = build("usearch", 300)
    gone = [0, 7, 8, 150, 299]
    expected = np.delete(np.array(index.vectors), gone, axis=0)
    index.remove(gone)
    graph = index._ann._index
    assert sorted(np.asarray(graph.keys).tolist()) == list(range(295))
    stored = np.asarray(graph.get(np.arange(295)), np.float32).reshape(295, -1)
    np.testing.assert_allclose(stored, expected, atol=2e-3)


def test_old_metadata_without_backend_is_annoy(tmp_path):
    EmbeddingIndex.build(unit(50), records(50), model="test").save(tmp_path)
    meta = json.loads((tmp_path / "images.json").read_text())
    assert "backend" not in meta and "generation" not in meta  # Annoy indexes are written as before
    assert EmbeddingIndex.load(tmp_path).backend == "annoy"


def test_unknown_backend_and_bad_file_are_clear_errors(tmp_path):
    with pytest.raises(BackendError, match="unknown index backend 'faiss'"):
        make_backend("faiss", 8)
    build("usearch", 50).save(tmp_path)
    (tmp_path / "images.usearch").write_bytes(b"not an index")
    with pytest.raises(IndexLoadError, match="images.usearch"):
        EmbeddingIndex.load(tmp_path)


def test_opening_an_annoy_index_imports_no_large_collection_library(tmp_path):
    build("annoy", 50).save(tmp_path)
    code = (
        "import sys; from imagesearch.index import EmbeddingIndex; "
        f"i = EmbeddingIndex.load({str(tmp_path)!r}); i.search(i.vectors[0], 3); "
        "print([m for m in ('usearch', 'faiss', 'hnswlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_usearch_builds_and_adds_repeat_exactly_on_one_thread_up_to_100k_vectors():
    from imagesearch.backends import insert_threads

    assert insert_threads(100_000) == 1 and insert_threads(100_001) == 0  # all cores above
    first, second = build("usearch", 2000), build("usearch", 2000)
    assert first.metadata["threads"] == 1  # recorded, like the other settings
    queries = unit(20, seed=5)
    assert [[(r.row, r.score) for r in first.search(q, 10)] for q in queries] == [
        [(r.row, r.score) for r in second.search(q, 10)] for q in queries
    ]
    first.add(unit(10, seed=6), records(10, start=5000))
    assert first.metadata["threads"] == 1 and first._ann.threads == 1


def test_usearch_i8_reranks_its_candidates_with_the_exact_cosines(tmp_path):
    vectors, queries = unit(3000, dim=64), unit(40, dim=64, seed=11)
    index = EmbeddingIndex.build(vectors, records(3000), model="test", backend="usearch-i8")
    assert index.metadata["dtype"] == "i8" and index.metadata["rerank"] == 100
    plain = make_backend("usearch-i8", 64, {"rerank": 0})  # the same graph settings, no re-rank
    plain.build(index.vectors)
    without = EmbeddingIndex(index.vectors, dict(index.metadata), plain, index.records)
    assert plain.rerank == 0 and "rerank" not in plain.settings()
    exact_hits = 0
    for q in queries:
        truth = exact_search(index.vectors, q, 10)[0].tolist()
        found = index.search(q, 10)
        rows, scores = [r.row for r in found], np.array([r.score for r in found])
        exact_hits += rows == truth
        np.testing.assert_allclose(scores, index.vectors[rows] @ q, atol=1e-5)  # exact, not int8
        assert list(scores) == sorted(scores, reverse=True)
    assert exact_hits >= 0.9 * len(queries)
    assert recall(index, queries) >= max(recall(without, queries), 0.95)
    assert 5 not in {r.row for r in index.search(index.vectors[5], 10, exclude=[5])}
    index.save(tmp_path)
    loaded = EmbeddingIndex.load(tmp_path)
    assert loaded.backend == "usearch-i8" and (loaded._ann.dtype, loaded._ann.rerank) == ("i8", 100)
    assert [r.row for r in loaded.search(queries[0], 10)] == [r.row for r in index.search(queries[0], 10)]
    assert make_backend("usearch", 8, {"rerank": 7}).rerank == 7  # recorded settings win


def test_without_annoy_an_exact_search_stands_in_with_a_warning(tmp_path, monkeypatch):
    """Where annoy-mm has no wheel (Intel Macs), the default backend still builds, saves, opens
    and answers, exactly; an index built there opens where Annoy is installed, and the reverse
    says what to install."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    annoy_file = tmp_path / "annoy.ann"
    real = AnnoyBackend(16, n_trees=5)
    real.build(vectors)
    real.save(annoy_file)

    monkeypatch.setitem(sys.modules, "annoy", None)  # `import annoy` now raises ImportError
    backend = AnnoyBackend(16, n_trees=5)
    with pytest.warns(UserWarning, match="Annoy is not installed.*annoy-mm"):
        backend.build(vectors)
    rows, scores = backend.search(vectors[3], 5, exclude=[3])
    expected = np.argsort(-(vectors @ vectors[3]), kind="stable")[1:6]
    assert rows.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, (vectors @ vectors[3])[expected], atol=1e-5)
    backend.save(tmp_path / "exact.ann")
    reopened = AnnoyBackend(16)
    reopened.load(tmp_path / "exact.ann")
    assert reopened.search(vectors[3], 5, exclude=[3])[0].tolist() == expected.tolist()
    with pytest.raises(BackendError, match="pip install annoy-mm"):
        AnnoyBackend(16).load(annoy_file)

    monkeypatch.delitem(sys.modules, "annoy")  # Annoy back: the exact file still opens
    again = AnnoyBackend(16)
    again.load(tmp_path / "exact.ann")
    assert again.search(vectors[3], 5, exclude=[3])[0].tolist() == expected.tolist()


def test_build_options_reach_the_backend_that_takes_them_and_no_other(tmp_path, capsys):
    assert build_options("annoy") == {"n_trees": 50} and build_options("annoy", {"n_trees": 7}) == {
        "n_trees": 7
    }
    assert build_options("usearch") == {} == build_options("usearch-i8")
    with pytest.raises(BackendError, match="usearch backend takes no n_trees= option"):
        build_options("usearch", {"n_trees": 7})
    index = EmbeddingIndex.build(unit(40), records(40), model="m", backend_options={"n_trees": 3})
    assert index.metadata["n_trees"] == 3 and index._ann.n_trees == 3
    assert EmbeddingIndex.build(unit(40), records(40), model="m", n_trees=3).metadata == index.metadata
    from imagesearch.cli import main

    out = tmp_path / "index"
    assert main(["index", "embedded", "--out", str(out), "--backend", "usearch", "--trees", "5"]) == 1
    assert "usearch backend takes no --trees option" in capsys.readouterr().err and not out.exists()
