"""An index folder written by the code at 28e5861 (tests/data/index-28e5861: 16 embedded clip-art
photos in 4 classes, `index --no-maps --trees 5` then `train`) still opens and answers queries
with what that code answered. The photos themselves are not shipped: every query here is by row."""

import shutil
from pathlib import Path

import pytest

OLD = Path(__file__).parent / "data" / "index-28e5861"


@pytest.fixture
def old_index(tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(OLD, folder)
    return folder


def test_old_index_answers_image_queries_as_before(old_index):
    from imagesearch.engine import SearchEngine

    engine = SearchEngine(old_index)
    results = engine.similar_images(0, 5)
    assert [r.row for r in results] == [3, 7, 15, 2, 11]
    assert results[0].score == pytest.approx(0.78334, abs=1e-4)
    assert engine.class_weights.classes == ("airplane", "bird", "car", "dog")
    assert engine.focus_maps is None  # built --no-maps: focus re-weights
    assert len(engine.similar_images(0, 3, focus="dog")) == 3


def test_old_index_answers_text_queries_as_before(old_index, glove50d):
    from imagesearch.engine import SearchEngine

    engine = SearchEngine(old_index)
    answer = engine.text_search("dog", 5)
    assert [r.row for r in answer.results] == [13, 15, 12, 6, 14]
    assert [t.word for t in engine.tags(0, 3)] == ["airplane", "plane", "car"]
    assert engine.vectors_name == "glove-6b-50d"
