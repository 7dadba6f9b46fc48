"""Near duplicates (imagesearch/duplicates.py): pairs, groups, "n similar" counts, the threshold
choice, and `python -m imagesearch duplicates` on an index folder and on a photo folder."""

from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli
from PIL import Image

from imagesearch import duplicates
from imagesearch.duplicates import (
    choose_threshold,
    duplicate_groups,
    pair_scores,
    precision_recall,
    similar_count,
    similar_pairs,
)

ROOT = Path(__file__).resolve().parents[1]


def clusters(seed=0):
    """Rows 0-2: one shot and two copies; 3-4: another shot and its copy; 5-7: distinct photos."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=64), rng.normal(size=64)
    near = lambda v: v + 0.05 * rng.normal(size=64)  # noqa: E731
    rows = [a, near(a), near(a), b, near(b)] + [rng.normal(size=64) for _ in range(3)]
    return np.stack(rows).astype(np.float32)


def test_groups_join_copies_and_leave_distinct_photos_alone():
    assert duplicate_groups(clusters(), 0.9) == [[0, 1, 2], [3, 4]]
    assert duplicate_groups(clusters(), 0.9999) == []


def test_groups_are_transitive():
    x = np.array([[1, 0], [np.cos(0.3), np.sin(0.3)], [np.cos(0.6), np.sin(0.6)]], np.float32)
    assert duplicate_groups(x, np.cos(0.35)) == [[0, 1, 2]], "0~1 and 1~2: one group"
    i, j, s = similar_pairs(x, np.cos(0.35))
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (1, 2)]
    np.testing.assert_allclose(s, np.cos(0.3), atol=1e-6)


def test_pairs_in_blocks_equal_pairs_at_once(monkeypatch):
    x = np.random.default_rng(3).normal(size=(50, 8)).astype(np.float32)
    whole = similar_pairs(x, 0.5)
    monkeypatch.setattr(duplicates, "BLOCK_ROWS", 7)
    blocked = similar_pairs(x, 0.5)
    assert len(whole[0]) > 5
    np.testing.assert_array_equal(whole[0], blocked[0])
    np.testing.assert_array_equal(whole[1], blocked[1])
    np.testing.assert_allclose(whole[2], blocked[2], atol=1e-6)


def test_n_similar_counts_the_others():
    assert similar_count(clusters(), [0, 3, 5, 7], 0.9).tolist() == [2, 1, 0, 0]
    assert similar_count(clusters(), [], 0.9).tolist() == []


def test_precision_recall_and_the_threshold_choice():
    scores = np.array([0.99, 0.95, 0.93, 0.91, 0.80, 0.92, 0.70])
    truth = np.array([1, 1, 1, 1, 1, 0, 0], bool)
    assert precision_recall(scores, truth, 0.93) == (1.0, 0.6)
    assert precision_recall(scores, truth, 0.91) == (0.8, 0.8)
    assert precision_recall(scores, truth, 1.5) == (1.0, 0.0)
    assert choose_threshold(scores, truth) == 0.95, "the next multiple of 0.05 above every non-duplicate"
    assert choose_threshold(scores, truth, step=0.01) == 0.93
    assert choose_threshold(-np.array([3, 5, 12, 20]), np.array([1, 1, 0, 0], bool), step=1) == -11
    np.testing.assert_allclose(pair_scores(clusters(), [[0, 0]]), [1.0], atol=1e-6)


def test_duplicates_of_an_index_folder_read_its_vectors(tmp_path):
    from imagesearch.index import EmbeddingIndex

    records = [{"path": f"/photos/{i}.jpg", "label": "", "key": f"{i}.jpg", "captions": []} for i in range(8)]
    EmbeddingIndex.build(clusters(), records, model="vgg16-conv").save(tmp_path / "idx", "images")
    done = run_cli("duplicates", tmp_path / "idx", "--threshold", "0.9", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "group 1 (3 photos):\n  /photos/0.jpg" in done.stdout and "group 2 (2 photos)" in done.stdout
    assert "2 groups of near duplicates, 5 of 8 photos" in done.stdout
    bad = run_cli("duplicates", tmp_path / "idx", "--threshold", "3", home=tmp_path / "home")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "--threshold" in bad.stderr


@pytest.mark.slow
def test_duplicates_of_a_photo_folder_find_the_altered_copies(tmp_path):
    """A real photo, its half-size copy and a JPEG-30 copy are one group; other photos are not."""
    embedded = ROOT / "imagesearch" / "data" / "embedded"
    photos = tmp_path / "photos"
    photos.mkdir()
    original = Image.open(embedded / "cat" / "black_cat.jpg").convert("RGB")
    original.save(photos / "a.jpg", quality=95)
    original.resize((original.width // 2, original.height // 2)).save(photos / "a-small.jpg")
    original.save(photos / "a-q30.jpg", quality=30)
    for name in ("dog", "car", "apple"):
        first = sorted((embedded / name).glob("*.jpg"))[0]
        Image.open(first).convert("RGB").save(photos / f"{name}.jpg")
    (photos / "notes.txt").write_text("x")
    done = run_cli("duplicates", photos, home=tmp_path / "home")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "group 1 (3 photos)" in done.stdout and "group 2" not in done.stdout, done.stdout
    assert all(name in done.stdout for name in ("a.jpg", "a-small.jpg", "a-q30.jpg"))
    assert "left out notes.txt: not an image" in done.stderr


def test_altered_copies_are_jpegs_of_the_alteration(tmp_path):
    from imagesearch.duplicates import VARIANTS, altered_copy

    source = ROOT / "imagesearch" / "data" / "embedded" / "cat" / "black_cat.jpg"
    width, height = Image.open(source).size
    sizes = {v: Image.open(altered_copy(source, tmp_path / f"{v}.jpg", v)).size for v in VARIANTS}
    assert sizes["resize"] == (width // 2, height // 2) and sizes["crop10"] == (
        round(width * 0.9),
        round(height * 0.9),
    )
    assert sizes["jpeg30"] == sizes["rotate5"] == (width, height)
    assert (tmp_path / "jpeg30.jpg").stat().st_size < (tmp_path / "rotate5.jpg").stat().st_size  # quality 30
    with pytest.raises(ValueError, match="unknown alteration 'blur'"):
        altered_copy(source, tmp_path / "x.jpg", "blur")
