"""Any folder of photos: scanning (imagesearch/photos.py), labels, HEIC (heif.py), focus with
fewer than two classes, resumable embedding of new photos (embedding.py), and the `index` command
on flat, nested, one-class and empty folders, run as a user runs it."""

import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import TinyModel, make_colour_dataset, run_cli
from PIL import Image

from imagesearch.datasets import DatasetError, load_folder
from imagesearch.focus import NoClassesError, fit_class_weights, focus_classes
from imagesearch.heif import HEIF_INSTALL, heif_available
from imagesearch.images import ImageLoadError, load_array
from imagesearch.photos import is_class_layout, load_collection, load_photos, photo_labels, scan_photos

ROOT = Path(__file__).resolve().parents[1]


def photo(path: Path, colour=(200, 40, 40), size=(48, 36)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    pixels = np.clip(np.array(colour) + rng.integers(-20, 20, (size[1], size[0], 3)), 0, 255)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


@pytest.fixture
def nested(tmp_path):
    root = tmp_path / "nested"
    photo(root / "2023" / "summer" / "b.jpg")
    photo(root / "2023" / "summer" / "a.png", (30, 200, 40))
    photo(root / "2024" / "c.jpg", (30, 40, 220))
    photo(root / "top.jpg")
    (root / "2024" / "notes.txt").write_text("not a photo")
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "2024" / "loop").symlink_to(root, target_is_directory=True)
    return root


# -- scanning and labels ----------------------------------------------------------------------


def test_scan_is_sorted_any_depth_and_names_every_file_left_out(nested):
    scan = scan_photos(nested)
    assert scan.photos == ("2023/summer/a.png", "2023/summer/b.jpg", "2024/c.jpg", "top.jpg")
    reasons = dict(scan.skipped)
    assert set(reasons) == {".DS_Store", "2024/loop/", "2024/notes.txt"}
    assert "link loop" in reasons["2024/loop/"]
    assert "not an image" in reasons["2024/notes.txt"] and ".txt" in reasons["2024/notes.txt"]


def test_scan_leaves_out_the_index_folder_inside_the_photos(nested):
    photo(nested / "idx" / "thumb.png")
    scan = scan_photos(nested, exclude=[nested / "idx"])
    assert "idx/thumb.png" not in scan.photos and dict(scan.skipped)["idx/"] == "the index folder"


def test_a_second_link_to_one_folder_is_scanned_once(tmp_path):
    photo(tmp_path / "real" / "x.jpg")
    root = tmp_path / "photos"
    root.mkdir()
    (root / "a").symlink_to(tmp_path / "real", target_is_directory=True)
    (root / "b").symlink_to(tmp_path / "real", target_is_directory=True)
    scan = scan_photos(root)
    assert scan.photos == ("a/x.jpg",) and [p for p, _ in scan.skipped] == ["b/"]


def test_labels_auto_only_for_a_class_folder_layout():
    classes = ["cat/1.jpg", "cat/2.jpg", "dog/1.jpg"]
    assert is_class_layout(classes) and photo_labels(classes) == ["cat", "cat", "dog"]
    for layout in (["1.jpg", "2.jpg"], ["2023/summer/1.jpg", "2024/2.jpg"], ["cat/1.jpg", "cat/2.jpg"]):
        assert not is_class_layout(layout) and photo_labels(layout) == [""] * len(layout)
    assert photo_labels(["2023/summer/1.jpg", "2024/2.jpg", "3.jpg"], "folders") == ["summer", "2024", ""]
    assert photo_labels(classes, "none") == ["", "", ""]
    with pytest.raises(DatasetError, match="--labels"):
        photo_labels(classes, "years")


def test_nested_keys_are_paths_under_the_folder(nested):
    data, _ = load_photos(nested)
    assert [item.key for item in data] == ["2023/summer/a.png", "2023/summer/b.jpg", "2024/c.jpg", "top.jpg"]
    assert set(data.labels) == {""}


def test_a_class_folder_data_set_is_the_same_data_set_as_before(tmp_path):
    """Same items, order, keys and content hash as load_folder: its feature cache still applies."""
    root = make_colour_dataset(tmp_path / "colours", per_class=3)
    (root / "captions.json").write_text(json.dumps({"red/red_00.png": ["a red square"]}))
    before, (after, _) = load_folder(root), load_photos(root)
    assert [(i.path, i.label, i.captions, i.key) for i in after] == [
        (i.path, i.label, i.captions, i.key) for i in before
    ]
    assert after.content_hash == before.content_hash


def test_an_empty_folder_says_what_it_looked_for(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"(?s)no photos found .*readme.txt: not an image"):
        load_photos(tmp_path)
    with pytest.raises(DatasetError, match="unknown data set 'pascal'"):
        load_collection("pascal")


# -- HEIC ---------------------------------------------------------------------------------------


@pytest.mark.skipif(heif_available(), reason="pillow-heif is installed: the absent-plugin path")
def test_heic_without_the_plugin_names_the_file_and_the_install(tmp_path):
    fake = tmp_path / "IMG_0001.HEIC"
    fake.write_bytes(b"\0\0\0\x18ftypheic")
    with pytest.raises(ImageLoadError) as error:
        load_array(fake, (32, 32))
    assert str(fake) in str(error.value) and HEIF_INSTALL in str(error.value)
    scan = scan_photos(tmp_path)
    assert scan.photos == () and "pillow-heif" in dict(scan.skipped)["IMG_0001.HEIC"]


def test_heic_photo_is_read_with_the_plugin(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :30] = (250, 10, 10)
    pixels[:, 30:] = (10, 10, 250)
    path = tmp_path / "phone" / "IMG_0002.heic"
    path.parent.mkdir()
    pillow_heif.from_pillow(Image.fromarray(pixels)).save(path, quality=95)
    assert scan_photos(path.parent).photos == ("IMG_0002.heic",)
    array = load_array(path, (60, 40))
    assert array.shape == (40, 60, 3)
    assert array[:, :25, 0].mean() > 200 and array[:, 35:, 2].mean() > 200  # red left, blue right


# -- focus with fewer than two classes ----------------------------------------------------------


def test_fewer_than_two_classes_have_no_focus():
    features = np.random.default_rng(0).normal(size=(6, 4))
    assert focus_classes(["", "", "", "", "", ""], range(6)) == []
    assert focus_classes(["cat"] * 6, range(6)) == []
    assert focus_classes(["cat", "dog", "", "cat", "dog", "cat"], range(6)) == [0, 1, 3, 4, 5]
    with pytest.raises(NoClassesError, match="at least 2 classes"):
        fit_class_weights(features, ["2024"] * 6, range(6))


# -- resumable embedding of new photos ----------------------------------------------------------


def test_new_photos_embed_in_chunks_and_a_killed_run_resumes(tmp_path):
    from imagesearch.embedding import embed_files
    from imagesearch.features import CHUNK_SIZE

    paths = [photo(tmp_path / f"p{i:03d}.png", (i, 255 - i, 90), (32, 32)) for i in range(CHUNK_SIZE + 10)]
    with pytest.raises(KeyboardInterrupt):
        embed_files(TinyModel(fail_after=2), paths, progress=False, batch_size=32)  # one chunk done
    again = TinyModel()
    embedded = embed_files(again, paths, progress=False, batch_size=32)
    assert again.batch_sizes == [10], "only the unfinished chunk is embedded again"
    fresh = embed_files(TinyModel(), paths, progress=False, cache=False).features
    np.testing.assert_allclose(embedded.features, fresh, atol=1e-6)
    embedded.discard()
    assert not embedded.cache.exists()


# -- the index command, as a user runs it -------------------------------------------------------


@pytest.mark.slow
def test_index_any_folder_without_a_traceback(tmp_path, nested):
    flat, one_class, empty = tmp_path / "flat", tmp_path / "one", tmp_path / "empty"
    for i in range(4):
        photo(flat / f"IMG_{i:04d}.jpg", (60 * i, 90, 200 - 40 * i))
        photo(one_class / "cat" / f"{i}.jpg", (40 * i, 200, 90))
    empty.mkdir()
    (empty / "list.txt").write_text("x")
    home = tmp_path / "home"
    for folder, count in ((flat, 4), (nested, 4), (one_class, 4)):
        done = run_cli("index", folder, "--out", tmp_path / f"idx-{folder.name}", home=home)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0 and f"indexed {count} images" in done.stdout, done.stderr
        assert "come from the shipped model" in done.stdout
    nested_run = run_cli("index", nested, "--out", tmp_path / "idx-nested", home=home)  # reused
    assert "left out 2024/loop/: a folder already scanned" in nested_run.stderr
    assert "left out 2024/notes.txt: not an image" in nested_run.stderr
    assert "already up to date" in nested_run.stdout
    done = run_cli("index", empty, "--out", tmp_path / "idx-empty", home=home)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no photos found" in done.stderr and "list.txt" in done.stderr
    focus = run_cli(
        "search", tmp_path / "idx-flat", "--image", flat / "IMG_0000.jpg", "--focus", "cat", home=home
    )
    # no labels of its own: focus on Pascal's classes through the shipped class weights
    assert focus.returncode == 0 and "Traceback" not in focus.stderr, focus.stderr
    # --update picks up what is new, and only that
    photo(flat / "new" / "IMG_0100.jpg", (10, 10, 10))
    done = run_cli("index", flat, "--out", tmp_path / "idx-flat", "--update", home=home)
    assert done.returncode == 0 and "added 1, removed 0" in done.stdout, done.stderr
    keys = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from imagesearch.index import EmbeddingIndex; print(EmbeddingIndex.load({str(tmp_path / 'idx-flat')!r}, 'images').records.column('key'))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    assert "new/IMG_0100.jpg" in keys and "IMG_0003.jpg" in keys


@pytest.mark.slow
def test_folders_labels_give_focus_to_a_nested_collection(tmp_path):
    root = tmp_path / "trips"
    for i in range(4):
        photo(root / "2023" / "beach" / f"{i}.jpg", (240, 220, 120))
        photo(root / "2024" / "forest" / f"{i}.jpg", (30, 140, 40))
    done = run_cli("index", root, "--out", tmp_path / "idx", "--labels", "folders", home=tmp_path / "home")
    assert done.returncode == 0 and "no class focus" not in done.stdout, done.stderr
    meta = json.loads((tmp_path / "idx" / "images.json").read_text())
    assert meta["class_weights"]


def test_the_sample_is_the_embedded_set_flat(tmp_path):
    from imagesearch.datasets import embedded_root
    from imagesearch.photos import sample_photos

    folder = sample_photos(tmp_path / "sample")
    names = scan_photos(folder).photos
    embedded = scan_photos(embedded_root()).photos
    assert len(names) == len(embedded) == 120 and all("/" not in n for n in names)
    assert sorted(names) == sorted(p.split("/")[-1] for p in embedded)
    assert load_photos(folder)[0].labels == [""] * 120  # flat: no labels
    (folder / "cat_face.jpg").write_bytes(b"mine")
    sample_photos(folder)  # files already there are kept
    assert (folder / "cat_face.jpg").read_bytes() == b"mine"
