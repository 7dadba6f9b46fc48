"""`add`, `remove` and `index --update` on copies of the embedded index (Annoy and usearch, with
and without a joint index), an interrupted add, and the scale benchmark's data generator."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import imagesearch.generations
from bench import scale
from imagesearch.cli import main
from imagesearch.datasets import embedded_root
from imagesearch.index import EmbeddingIndex
from imagesearch.layout import IMAGES, JOINT


def new_photos(folder, count: int = 2):
    """Mirrored copies of embedded cat photos in a new class folder: images nobody indexed."""
    out = folder / "kitten"
    out.mkdir(parents=True)
    for source in sorted((embedded_root() / "cat").iterdir())[:count]:
        ImageOps.mirror(Image.open(source).convert("RGB")).save(out / f"{source.stem}-mirrored.png")
    return sorted(out.iterdir())


def assert_found(folder, name, path):
    index = EmbeddingIndex.load(folder, name)
    row = index.row_of_path(path)
    assert row is not None and index.records[row]["label"] == "kitten"
    assert index.search(index.vectors[row], 1)[0].row == row
    return index


def test_cli_add_and_remove_with_annoy_and_joint(embedded_joint, shared_home, tmp_path, capsys):
    folder = shutil.copytree(embedded_joint, tmp_path / "index")
    before = len(EmbeddingIndex.load(folder))
    photos = new_photos(tmp_path / "new")
    assert main(["add", str(folder), str(photos[0].parent)]) == 0
    out, err = capsys.readouterr()
    assert "added 2, removed 0" in out and "Annoy cannot add" in err and f"all {before + 2} vectors" in err
    for name in (IMAGES, JOINT):
        index = assert_found(folder, name, photos[1])
        assert len(index) == before + 2
    assert main(["search", str(folder), "--text", "kitten", "-k", "3"]) == 0  # the engine still opens it

    assert main(["remove", str(folder), str(photos[0])]) == 0
    for name in (IMAGES, JOINT):
        index = EmbeddingIndex.load(folder, name)
        assert len(index) == before + 1 and index.row_of_path(photos[0]) is None
        assert str(photos[0].resolve()) not in {r.path for r in index.search(index.vectors[-1], 20)}


@pytest.mark.parametrize("backend", ["usearch", "usearch-i8"])
def test_usearch_index_add_remove_and_update(backend, shared_home, tmp_path, capsys):
    folder = tmp_path / "index"
    assert main(["index", "embedded", "--out", str(folder), "--backend", backend]) == 0
    meta = json.loads((folder / "images.json").read_text())
    assert meta["backend"] == backend and (folder / "images.usearch").exists()
    before = meta["count"]
    photos = new_photos(tmp_path / "new", 3)
    assert main(["add", str(folder), *map(str, photos)]) == 0
    assert "Annoy" not in capsys.readouterr().err  # inserted, not rebuilt
    assert_found(folder, IMAGES, photos[2])
    assert main(["remove", str(folder), str(photos[1])]) == 0
    index = EmbeddingIndex.load(folder)
    assert len(index) == before + 2 and index.row_of_path(photos[1]) is None
    for vector in index.vectors[-3:]:
        assert str(photos[1].resolve()) not in {r.path for r in index.search(vector, len(index))}
    split = index.metadata["split"]
    assert max(max(split[p]) for p in ("train", "val", "test")) < len(index)


def test_index_update_follows_the_data_set_folder(shared_home, tmp_path, capsys):
    data = shutil.copytree(embedded_root(), tmp_path / "data", ignore=shutil.ignore_patterns("*.md", "*.tsv"))
    folder = tmp_path / "index"
    assert main(["index", str(data), "--out", str(folder), "--backend", "usearch"]) == 0
    before = len(EmbeddingIndex.load(folder))
    gone = sorted((data / "dog").iterdir())[0]
    gone.unlink()
    (added,) = new_photos(data, 1)
    assert main(["index", str(data), "--out", str(folder), "--update"]) == 0
    assert "added 1, removed 1" in capsys.readouterr().out
    index = assert_found(folder, IMAGES, added)
    assert len(index) == before and index.row_of_path(gone) is None


def test_an_interrupted_add_leaves_the_old_index_whole(embedded_index, shared_home, tmp_path, monkeypatch):
    folder = shutil.copytree(embedded_index, tmp_path / "index")
    old = EmbeddingIndex.load(folder)
    old_meta, old_vectors = dict(old.metadata), np.array(old.vectors)
    old_results = [r.row for r in old.search(old_vectors[0], 10)]
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the user pressed Ctrl-C just before the metadata was written

    monkeypatch.setattr(imagesearch.generations, "write_text_atomic", crash)
    photos = new_photos(tmp_path / "new", 1)
    assert main(["add", str(folder), str(photos[0])]) == 130
    monkeypatch.undo()
    for name, data in files.items():
        assert (folder / name).read_bytes() == data, f"{name} changed"
    again = EmbeddingIndex.load(folder)
    assert again.metadata == old_meta and np.array_equal(again.vectors, old_vectors)
    assert [r.row for r in again.search(old_vectors[0], 10)] == old_results
    assert main(["add", str(folder), str(photos[0])]) == 0  # and the next try completes
    assert len(EmbeddingIndex.load(folder)) == len(old) + 1


def test_scale_generator_is_deterministic_and_blockwise():
    a = np.concatenate(list(scale.data_blocks(2000, block=500)))
    b = np.concatenate(list(scale.data_blocks(2000, block=2000)))
    assert a.shape == (2000, scale.DIM) and a.dtype == np.float32
    assert np.array_equal(a, b)  # the stream does not depend on the block size
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    q = scale.queries(20)
    assert np.array_equal(q, scale.queries(20)) and not np.allclose(q, a[:20])
    rot = scale.rotation()
    assert np.allclose(rot @ rot.T, np.eye(scale.DIM), atol=1e-8)


def test_scale_ground_truth_is_the_exact_top_10(tmp_path):
    path = tmp_path / "base.npy"
    scale.write_data(2000, path)
    x, q = np.load(path), scale.queries(30)
    truth = scale.ground_truth(path, q)
    brute = np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :10]
    assert np.array_equal(np.sort(truth, 1), np.sort(brute, 1))


@pytest.mark.parametrize("spec", ["usearch-f16:M=8,efc=32,ef=32", "annoy:trees=5,search_k=500"])
def test_scale_backend_run_reports_recall_latency_and_memory(tmp_path, spec):
    path = tmp_path / "base.npy"
    scale.write_data(2000, path)
    q = scale.queries(20)
    result = scale.run_backend(spec, str(path), q, scale.ground_truth(path, q))
    (point,) = result["points"]
    assert 0.5 < point["recall_at_10"] <= 1 and point["p50_ms"] > 0 and result["peak_rss_mb"] > 10


def test_an_add_interrupted_between_the_two_indexes_completes_on_rerun(
    embedded_joint, shared_home, tmp_path, monkeypatch
):
    folder = shutil.copytree(embedded_joint, tmp_path / "index")
    before = len(EmbeddingIndex.load(folder))
    save = EmbeddingIndex.save

    def crash_on_images(self, where, name=IMAGES, **kwargs):
        if name == IMAGES:
            raise KeyboardInterrupt
        return save(self, where, name, **kwargs)

    monkeypatch.setattr(EmbeddingIndex, "save", crash_on_images)
    photos = new_photos(tmp_path / "new", 2)
    assert main(["add", str(folder), str(photos[0].parent)]) == 130
    monkeypatch.undo()
    assert len(EmbeddingIndex.load(folder, IMAGES)) == before  # images untouched, joint ahead
    assert len(EmbeddingIndex.load(folder, JOINT)) == before + 2
    assert main(["add", str(folder), str(photos[0].parent)]) == 0
    images, joint = EmbeddingIndex.load(folder, IMAGES), EmbeddingIndex.load(folder, JOINT)
    assert len(images) == len(joint) == before + 2  # nothing added twice
    assert [r["path"] for r in images.records] == [r["path"] for r in joint.records]


def test_focus_maps_follow_add_and_remove(embedded_joint, shared_home, tmp_path):
    from imagesearch.engine import SearchEngine
    from imagesearch.folder import IndexFolder
    from imagesearch.layout import MAPS_FILE

    folder = shutil.copytree(embedded_joint, tmp_path / "index")
    assert (folder / MAPS_FILE).exists()
    photos = new_photos(tmp_path / "new")
    assert main(["add", str(folder), str(photos[0].parent)]) == 0
    engine = SearchEngine(folder)
    row = engine.images.row_of_path(photos[0])
    maps = np.load(IndexFolder(folder).maps_file(engine.images))  # the new generation's
    assert len(maps) == len(engine.images)
    np.testing.assert_allclose(  # the new row's map is that photo's: its mean is its feature vector
        maps[row].astype(np.float32).mean(axis=(0, 1))
        / np.linalg.norm(maps[row].astype(np.float32).mean(axis=(0, 1))),
        engine.images.vectors[row],
        atol=2e-3,
    )
    assert engine.similar_images(row, 5, focus="cat")
    assert main(["remove", str(folder), str(photos[0])]) == 0
    engine = SearchEngine(folder)
    assert len(np.load(IndexFolder(folder).maps_file(engine.images))) == len(engine.images)
    assert not (folder / MAPS_FILE).exists()  # the first generation's, deleted
    assert engine.similar_images(0, 5, focus="cat")


def test_a_usearch_index_is_reused_as_it_is(shared_home, tmp_path, capsys):
    folder = tmp_path / "index"
    assert main(["index", "embedded", "--out", str(folder), "--backend", "usearch"]) == 0
    assert main(["index", "embedded", "--out", str(folder), "--backend", "usearch"]) == 0  # no --force needed
    assert "already up to date" in capsys.readouterr().out


def test_a_file_named_twice_is_added_once(embedded_index, shared_home, tmp_path):
    from imagesearch.updates import add_images

    folder = shutil.copytree(embedded_index, tmp_path / "index")
    photos = new_photos(tmp_path / "new", count=1)
    report = add_images(folder, [photos[0], photos[0].parent])
    assert len(report.added) == 1


def test_update_keeps_labels_and_captions_of_the_data_set(shared_home, tmp_path):
    from imagesearch.datasets import load_folder
    from imagesearch.indexing import build_index
    from imagesearch.updates import update_from_dataset

    root = tmp_path / "photos"
    shutil.copytree(embedded_root() / "cat", root / "cat")
    shutil.copytree(embedded_root() / "dog", root / "dog")
    (root / "captions.json").write_text("{}")
    build_index(load_folder(root), tmp_path / "index", progress=False)
    extra = root / "dog" / "extra.png"
    first_cat = sorted((root / "cat").iterdir())[0]
    ImageOps.mirror(Image.open(first_cat).convert("RGB")).save(extra)
    (root / "captions.json").write_text(json.dumps({"dog/extra.png": ["a mirrored cat, filed as a dog"]}))
    report = update_from_dataset(tmp_path / "index", load_folder(root))
    assert [Path(p).name for p in report.added] == ["extra.png"]
    index = EmbeddingIndex.load(tmp_path / "index")
    record = index.records[index.row_of_path(extra)]
    assert record["label"] == "dog" and record["captions"] == ["a mirrored cat, filed as a dog"]


def test_an_interrupted_add_leaves_the_old_maps_in_step(embedded_joint, shared_home, tmp_path, monkeypatch):
    from imagesearch.engine import SearchEngine
    from imagesearch.layout import MAPS_FILE

    folder = shutil.copytree(embedded_joint, tmp_path / "index")
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert MAPS_FILE in files

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C after the new maps were written, before a JSON was

    monkeypatch.setattr(imagesearch.generations, "write_text_atomic", crash)
    photos = new_photos(tmp_path / "new", 2)
    assert main(["add", str(folder), str(photos[0].parent)]) == 130
    monkeypatch.undo()
    for name, data in files.items():
        assert (folder / name).read_bytes() == data, f"{name} changed"
    engine = SearchEngine(folder)
    assert len(engine.focus_maps) == len(engine.images) and engine.similar_images(0, 5, focus="cat")
    assert main(["add", str(folder), str(photos[0].parent)]) == 0
    engine = SearchEngine(folder)
    assert len(engine.focus_maps) == len(engine.images)
    assert Path(engine.focus_maps.filename).name == "images.g1.maps.npy" and not (folder / MAPS_FILE).exists()
    assert sorted(p.name for p in folder.glob("images.*")) == [
        "images.g1.ann",
        "images.g1.items.arrow",
        "images.g1.maps.npy",
        "images.g1.npy",
        "images.json",
    ]  # the old generation gone, and no stray file of the interrupted try


def test_an_interrupted_rebuild_or_retraining_leaves_the_old_index_whole(
    embedded_joint, shared_home, words_home, tmp_path, monkeypatch
):
    from imagesearch.datasets import load_embedded
    from imagesearch.engine import SearchEngine
    from imagesearch.indexing import build_index, train_joint_index

    folder = shutil.copytree(embedded_joint, tmp_path / "index")
    files = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(imagesearch.generations, "write_text_atomic", crash)
    with pytest.raises(KeyboardInterrupt):  # weights, maps and vectors written; the JSON not
        build_index(load_embedded(), folder, backend="usearch", force=True, progress=False)
    monkeypatch.setenv("IMAGESEARCH_HOME", str(words_home))
    with pytest.raises(KeyboardInterrupt):  # the new joint model saved; its index's JSON not
        train_joint_index(folder, epochs=5)
    monkeypatch.undo()
    monkeypatch.setenv("IMAGESEARCH_HOME", str(words_home))
    for name, data in files.items():
        assert (folder / name).read_bytes() == data, f"{name} changed"
    engine = SearchEngine(folder)
    assert engine.similar_images(0, 5, focus="cat") and engine.text_search("cat", 3).results

    train_joint_index(folder, epochs=5)  # completed: the new model replaces the old one
    assert json.loads((folder / "joint.json").read_text())["model_dir"] == "joint.g1"
    assert not (folder / "joint").exists() and SearchEngine(folder).text_search("cat", 3).results
    monkeypatch.setenv("IMAGESEARCH_HOME", str(shared_home))
    build_index(load_embedded(), folder, backend="usearch", force=True, progress=False)
    meta = json.loads((folder / "images.json").read_text())
    assert meta["generation"] == 1 and meta["class_weights"] == "class_weights.g1.npz"
    assert not (folder / "class_weights.npz").exists() and not (folder / "images.ann").exists()
    assert SearchEngine(folder).similar_images(0, 5, focus="cat")


def test_add_refuses_an_index_built_with_other_weights(embedded_index, shared_home, tmp_path, capsys):
    """A photo embedded with other weights than the collection's would be compared with the
    wrong vectors: `add` says so in one line and leaves the index as it was."""
    folder = shutil.copytree(embedded_index, tmp_path / "index")
    meta_file = folder / "images.json"
    meta = json.loads(meta_file.read_text())
    meta["weights"] = "sha256:" + "0" * 64
    meta_file.write_text(json.dumps(meta))
    before = meta_file.read_bytes()
    photos = new_photos(tmp_path / "new", 1)
    assert main(["add", str(folder), str(photos[0])]) != 0
    err = capsys.readouterr().err
    assert "built with vgg16-conv weights sha256:0000" in err and "rebuild it" in err
    assert "Traceback" not in err
    assert meta_file.read_bytes() == before
