"""`relocate_photos`: a copied index pointed at its photos' new folder (the workshop kit's
unpack), as a new generation committed by its JSON, idempotent, refusing photos that are not there."""

import json
import shutil

import numpy as np
import pytest

from imagesearch.datasets import embedded_root
from imagesearch.engine import SearchEngine
from imagesearch.index import EmbeddingIndex
from imagesearch.layout import IMAGES, JOINT
from imagesearch.storage import ImageSearchError
from imagesearch.updates import relocate_photos


@pytest.fixture
def moved(embedded_index, tmp_path):
    """A copy of the embedded index with a second (joint-named) index over the same rows, and a
    copy of its photos in another folder: what a learner's laptop holds after copying a kit."""
    folder = shutil.copytree(embedded_index, tmp_path / "index")
    EmbeddingIndex.load(folder, IMAGES).save(folder, JOINT)
    photos = shutil.copytree(embedded_root(), tmp_path / "photos")
    return folder, photos


def test_relocating_points_every_row_at_the_new_folder_in_a_new_generation(moved):
    folder, photos = moved
    before = EmbeddingIndex.load(folder, IMAGES)
    vectors, keys = np.array(before.vectors), before.records.column("key")
    had_maps = before.files(folder, IMAGES).maps.exists()
    old_files = set(before.files(folder, IMAGES)) | set(
        EmbeddingIndex.load(folder, JOINT).files(folder, JOINT)
    )
    generations = {name: EmbeddingIndex.load(folder, name).generation for name in (IMAGES, JOINT)}

    assert relocate_photos(folder, photos) == [folder / "images.json", folder / "joint.json"]

    for name in (IMAGES, JOINT):
        index = EmbeddingIndex.load(folder, name)
        assert index.generation == generations[name] + 1
        assert index.records.column("key") == keys
        assert index.records.column("path") == [str(photos.resolve() / key) for key in keys]
        np.testing.assert_array_equal(index.vectors, vectors)  # rows in the same order
        assert index.search(index.vectors[3], 1)[0].row == 3  # its ANN index opens and answers
    assert not any(path.exists() for path in old_files)  # the old generation's files are gone
    assert (folder / f"images.g{generations[IMAGES] + 1}.maps.npy").exists() == had_maps

    engine = SearchEngine(folder)
    query = photos / keys[5]
    results = engine.similar_images(query, k=4)
    assert engine.image_vector(query)[1] == 5  # found by its new path: no CNN run
    assert len(results) == 4 and all(photos.resolve() in type(photos)(r.path).parents for r in results)

    metadata = (folder / "images.json").read_text()
    assert relocate_photos(folder, photos) == []  # a rerun changes nothing
    assert (folder / "images.json").read_text() == metadata


def test_a_photo_missing_at_the_new_place_is_named_and_nothing_changes(moved):
    folder, photos = moved
    index = EmbeddingIndex.load(folder, IMAGES)
    key, generation = index.records[7]["key"], index.generation
    (photos / key).unlink()
    metadata = (folder / "images.json").read_text()
    with pytest.raises(ImageSearchError, match=rf"1 photos of .*images.json are not in {photos}.*{key}"):
        relocate_photos(folder, photos)
    assert (folder / "images.json").read_text() == metadata
    assert EmbeddingIndex.load(folder, IMAGES).generation == generation


def test_an_index_with_its_rows_in_the_json_is_relocated_in_its_json(moved):
    folder, photos = moved
    index = EmbeddingIndex.load(folder, IMAGES)
    rows = list(index.records)
    meta = {**index.metadata, "format": 1, "items": rows}
    (folder / "images.json").write_text(json.dumps(meta, indent=1))
    index.files(folder, IMAGES).items.unlink()

    assert relocate_photos(folder, photos) == [folder / "images.json", folder / "joint.json"]

    data = json.loads((folder / "images.json").read_text())
    assert data["format"] == 1 and data.get("generation", 0) == 0
    assert [row["path"] for row in data["items"]] == [str(photos.resolve() / row["key"]) for row in rows]
    assert EmbeddingIndex.load(folder, IMAGES).row_of_path(photos / rows[0]["key"]) == 0
    assert relocate_photos(folder, photos) == []


def test_a_folder_without_an_index_is_refused(tmp_path):
    with pytest.raises(ImageSearchError, match="no index"):
        relocate_photos(tmp_path, tmp_path)


def test_a_usearch_index_is_relocated_with_its_extra_columns(tmp_path):
    pytest.importorskip("usearch")
    photos = tmp_path / "photos"
    records = []
    for i in range(5):
        (photos / "cat").mkdir(parents=True, exist_ok=True)
        (photos / "cat" / f"{i}.jpg").write_bytes(b"jpeg")
        key = f"cat/{i}.jpg"
        records.append({"path": f"/build/{key}", "label": "cat", "key": key, "captions": [], "source": "web"})
    vectors = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    EmbeddingIndex.build(vectors, records, model="m", backend="usearch").save(tmp_path / "index")

    assert relocate_photos(tmp_path / "index", photos) == [tmp_path / "index" / "images.json"]

    index = EmbeddingIndex.load(tmp_path / "index")
    assert (tmp_path / "index" / "images.g1.usearch").exists() and not (
        tmp_path / "index" / "images.usearch"
    ).exists()
    assert index.records[2] == {**records[2], "path": str(photos.resolve() / "cat/2.jpg")}
    assert index.search(index.vectors[2], 1)[0].row == 2
