import json

import numpy as np
import pytest

from imagesearch.backends import cosine_from_angular
from imagesearch.index import EmbeddingIndex, IndexLoadError, exact_search


def clustered(n_clusters=10, per_cluster=100, dim=64, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    vectors = np.repeat(centres, per_cluster, axis=0) + 0.6 * rng.normal(size=(n_clusters * per_cluster, dim))
    labels = [f"c{i}" for i in range(n_clusters) for _ in range(per_cluster)]
    return vectors.astype(np.float32), labels


def items_for(labels):
    return [
        {"path": f"/data/{label}/{i}.jpg", "label": label, "key": f"{label}/{i}.jpg"}
        for i, label in enumerate(labels)
    ]


@pytest.fixture
def built():
    vectors, labels = clustered()
    return EmbeddingIndex.build(vectors, items_for(labels), model="test-model", n_trees=50), vectors


def test_scores_are_cosine_similarities(built):
    index, vectors = built
    query = vectors[3]
    results = index.search(query, 5)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for r in results:
        assert r.score == pytest.approx(float(unit[r.row] @ unit[3]), abs=1e-4)
    assert results[0].row == 3 and results[0].score == pytest.approx(1.0, abs=1e-5)
    assert [r.rank for r in results] == [1, 2, 3, 4, 5]
    assert cosine_from_angular(np.sqrt(2.0)) == pytest.approx(0.0)


def test_annoy_recall_against_exact_search(built):
    index, _ = built
    recalls = []
    for row in range(0, len(index), 10):
        approx = {r.row for r in index.search_item(row, 10)}
        exact = {r.row for r in index.search_item(row, 10, exact=True)}
        recalls.append(len(approx & exact) / 10)
    assert np.mean(recalls) >= 0.99


def test_search_item_leaves_the_item_out(built):
    index, _ = built
    for exact in (False, True):
        results = index.search_item(7, 10, exact=exact)
        assert 7 not in [r.row for r in results] and len(results) == 10
        assert all(r.label == "c0" for r in results)
    with pytest.raises(IndexLoadError, match="out of range"):
        index.search_item(len(index), 3)


def test_exact_search_orders_ties_by_row():
    vectors = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], np.float32)
    rows, scores = exact_search(vectors, np.array([1.0, 0.0]), 3)
    assert rows.tolist() == [0, 1, 3]
    rows, _ = exact_search(vectors, np.array([1.0, 0.0]), 3, exclude=[0])
    assert rows.tolist() == [1, 3, 2]


def test_save_and_load_round_trip(built, tmp_path):
    index, vectors = built
    index.save(tmp_path / "idx")
    files = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert files == ["images.ann", "images.items.arrow", "images.json", "images.npy"]  # no temp files
    meta = json.loads((tmp_path / "idx" / "images.json").read_text())
    assert meta["model"] == "test-model" and meta["dim"] == 64 and meta["n_trees"] == 50
    assert "items" not in meta and meta["count"] == 1000 and meta["format"] == 2  # rows: by column
    loaded = EmbeddingIndex.load(tmp_path / "idx", model="test-model", dim=64)
    assert [r.row for r in loaded.search(vectors[5], 10)] == [r.row for r in index.search(vectors[5], 10)]
    assert loaded.records[7] == {"path": "/data/c0/7.jpg", "label": "c0", "key": "c0/7.jpg"}
    assert list(loaded.records) == items_for(clustered()[1])


def test_an_index_with_its_items_in_the_json_still_opens_and_moves_them_out(built, tmp_path):
    index, vectors = built
    index.save(tmp_path)
    meta = json.loads((tmp_path / "images.json").read_text())
    (tmp_path / "images.items.arrow").unlink()
    meta.update(format=1, items=items_for(clustered()[1]))  # as indexes were written before format 2
    (tmp_path / "images.json").write_text(json.dumps(meta))
    old = EmbeddingIndex.load(tmp_path)
    assert len(old) == 1000 and old.records[5]["path"] == "/data/c0/5.jpg" and "items" not in old.metadata
    assert old.row_of_path("/data/c1/150.jpg") == 150
    old.add(vectors[:1], [{"path": "/new.jpg", "label": "c0", "key": "new"}])
    old.save(tmp_path)
    meta = json.loads((tmp_path / "images.json").read_text())
    assert "items" not in meta and meta["format"] == 2 and meta["count"] == 1001
    assert EmbeddingIndex.load(tmp_path).records[1000]["path"] == "/new.jpg"


def test_a_missing_items_file_is_a_clear_error(built, tmp_path):
    built[0].save(tmp_path)
    (tmp_path / "images.items.arrow").unlink()
    with pytest.raises(IndexLoadError, match="images.items.arrow is missing.*--force"):
        EmbeddingIndex.load(tmp_path)


def test_build_is_deterministic(tmp_path):
    vectors, labels = clustered(seed=1)
    a = EmbeddingIndex.build(vectors, items_for(labels), model="m", n_trees=5)
    b = EmbeddingIndex.build(vectors, items_for(labels), model="m", n_trees=5)
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    assert (tmp_path / "a/images.ann").read_bytes() == (tmp_path / "b/images.ann").read_bytes()


def test_loading_for_another_model_or_dimension_is_refused(built, tmp_path):
    index, _ = built
    index.save(tmp_path / "idx")
    with pytest.raises(IndexLoadError, match="built with model 'test-model', not 'vgg16'"):
        EmbeddingIndex.load(tmp_path / "idx", model="vgg16")
    with pytest.raises(IndexLoadError, match="64-d vectors"):
        EmbeddingIndex.load(tmp_path / "idx", dim=512)
    loaded = EmbeddingIndex.load(tmp_path / "idx")
    with pytest.raises(IndexLoadError, match="query has 3 dimensions"):
        loaded.search(np.ones(3), 5)


def test_missing_or_corrupt_index_gives_clear_errors(tmp_path):
    with pytest.raises(IndexLoadError, match="python -m imagesearch index"):
        EmbeddingIndex.load(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/images.json").write_text("{not json")
    with pytest.raises(IndexLoadError, match="corrupt"):
        EmbeddingIndex.load(tmp_path / "bad")


def test_row_of_path_finds_indexed_files(built, tmp_path):
    index, _ = built
    assert index.row_of_path("/data/c0/5.jpg") == 5
    assert index.row_of_path(tmp_path / "not-indexed.jpg") is None


def test_saving_a_loaded_index_back_starts_a_generation_and_keeps_its_maps(built, tmp_path):
    index, vectors = built
    maps = np.arange(len(vectors) * 4, dtype=np.float16).reshape(len(vectors), 2, 2)
    index.save(tmp_path, maps=maps)
    committed = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "images.json"}
    loaded = EmbeddingIndex.load(tmp_path)
    loaded.save(tmp_path)  # back into its own folder, no maps given
    again = EmbeddingIndex.load(tmp_path)
    assert again.generation == 1 and len(again) == len(index)
    np.testing.assert_array_equal(np.load(again.files(tmp_path).maps), maps)
    np.testing.assert_array_equal(again.vectors, index.vectors)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {
        "images.json",
        "images.g1.ann",
        "images.g1.npy",
        "images.g1.items.arrow",
        "images.g1.maps.npy",
    }
    assert set(committed).isdisjoint(names)  # the committed files were never rewritten, then removed
    assert [r.row for r in again.search(vectors[3], 5)] == [r.row for r in index.search(vectors[3], 5)]


def test_old_generations_that_cannot_be_deleted_yet_are_removed_by_a_later_save(built, tmp_path, monkeypatch):
    from pathlib import Path

    index, _ = built
    index.save(tmp_path)
    loaded = EmbeddingIndex.load(tmp_path)
    real_unlink = Path.unlink

    def mapped(path, missing_ok=False):  # as Windows answers for a file still memory-mapped
        if not path.name.startswith("."):  # (temporary files go)
            raise PermissionError(13, "in use", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", mapped)
    loaded.save(tmp_path)  # no error: the old files stay
    assert (tmp_path / "images.npy").exists() and (tmp_path / "images.g1.npy").exists()
    monkeypatch.setattr(Path, "unlink", real_unlink)
    EmbeddingIndex.load(tmp_path).save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "images.g2.ann",
        "images.g2.items.arrow",
        "images.g2.npy",
        "images.json",
    ]
