"""Focus with convolution maps: the pure pooling, the maps kept in the index, and the fallback."""

import shutil

import numpy as np
import pytest

from imagesearch.engine import SearchEngine
from imagesearch.features import l2_normalize
from imagesearch.focus import UnknownClassError, focused_query, focused_search, position_weights
from imagesearch.layout import CLASS_WEIGHTS_FILE, MAPS_FILE


def two_object_map():
    """A 7 x 7 x 4 map: a cat (feature 0) on the left three columns, a bottle (feature 1) on
    the right four; feature 2 is background everywhere, as in a real photo."""
    m = np.zeros((7, 7, 4), np.float32)
    m[:, :3, 0] = 3.0
    m[:, 3:, 1] = 2.0
    m[:, :, 2] = 1.0
    return m


# classes: cat, bottle, dog; a linear classifier over the 4 features
WEIGHTS = np.array([[4.0, -2.0, 1.0], [-2.0, 4.0, -1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 3.0]], np.float32)
INTERCEPT = np.array([0.0, 0.0, -1.0], np.float32)
COLLECTION = l2_normalize(
    np.array(
        [
            [1.0, 0.0, 0.5, 0.0],  # cat
            [0.9, 0.1, 0.5, 0.0],  # cat
            [0.0, 1.0, 0.5, 0.0],  # bottle
            [0.1, 0.9, 0.5, 0.0],  # bottle
            [0.5, 0.6, 0.5, 0.0],  # a photo of both
        ]
    )
)


def test_position_weights_pick_the_focused_objects_positions():
    a = position_weights(two_object_map()[None], WEIGHTS, INTERCEPT, [1])[0].reshape(7, 7)
    assert np.isclose(a.sum(), 1.0)
    assert a[:, 3:].sum() > 0.99  # the bottle's positions carry the weight
    both = position_weights(two_object_map()[None], WEIGHTS, INTERCEPT, [0, 1])[0]
    assert np.allclose(both, 1 / 49, atol=1e-3)  # cat or bottle: every position


@pytest.mark.parametrize("cls, rows", [(0, {0, 1}), (1, {2, 3})])
def test_a_focused_query_moves_toward_the_object(cls, rows):
    m = two_object_map()
    plain = l2_normalize(m.mean(axis=(0, 1)))
    query = focused_query(m, WEIGHTS, INTERCEPT, [cls])
    assert np.isclose(np.linalg.norm(query), 1.0)
    other = sorted({0, 1, 2, 3} - rows)

    def margin(q):  # how much nearer the object's images are than the other object's
        scores = COLLECTION @ q
        return scores[sorted(rows)].mean() - scores[other].mean()

    assert margin(query) > margin(plain) + 0.2
    assert np.argmax(COLLECTION @ plain) == 4  # unfocused: the photo of both comes first
    assert set(np.argsort(-(COLLECTION @ query))[:2].tolist()) == rows


def test_the_intercept_counts():
    m = two_object_map()
    shifted = np.array([0.0, 0.0, 50.0], np.float32)  # every position now "dog"
    a = position_weights(m[None], WEIGHTS, shifted, [1])[0].reshape(7, 7)
    b = position_weights(m[None], WEIGHTS, INTERCEPT, [1])[0].reshape(7, 7)
    assert not np.allclose(a, b)


def test_the_index_keeps_maps_whose_spatial_mean_is_the_features(embedded_index, shared_home):
    from imagesearch.datasets import load_embedded
    from imagesearch.features import extract_features
    from imagesearch.models import LazyImageModel

    maps = np.load(embedded_index / MAPS_FILE, mmap_mode="r")
    engine = SearchEngine(embedded_index)
    assert maps.dtype == np.float16 and maps.shape == (len(engine.images), 7, 7, 512)
    raw = extract_features(load_embedded(), LazyImageModel(), progress=False)  # from the cache
    assert raw.from_cache and raw.maps is None
    pooled = maps.astype(np.float32).mean(axis=(1, 2))
    assert np.abs(pooled - raw.features).max() < 0.01 * raw.features.max()
    assert np.allclose(l2_normalize(pooled), engine.images.vectors, atol=1e-3)
    with np.load(embedded_index / CLASS_WEIGHTS_FILE) as data:
        assert data["intercept"].shape == (len(data["classes"]),)


def test_focus_of_an_indexed_image_reads_its_map_without_the_cnn(embedded_index):
    engine = SearchEngine(embedded_index)
    label = engine.images.records[0]["label"]
    results = engine.similar_images(0, 5, focus=label)
    assert len(results) == 5 and all(r.row != 0 for r in results)
    assert "image_model" not in engine.__dict__, "an indexed image must not load the CNN"
    with pytest.raises(UnknownClassError, match="no class 'zebra'.*known classes"):
        engine.similar_images(0, 5, focus="zebra")


def test_an_old_index_without_maps_focuses_by_reweighting(embedded_index, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(embedded_index, old)
    (old / MAPS_FILE).unlink()
    with np.load(old / CLASS_WEIGHTS_FILE) as data:  # written before the intercept was stored
        kept = {k: data[k] for k in ("weights", "classes", "source")}
    np.savez(old / CLASS_WEIGHTS_FILE, **kept)
    engine = SearchEngine(old)
    assert engine.focus_maps is None
    assert np.array_equal(engine.class_weights.intercepts, np.zeros(len(engine.class_weights.classes)))
    label = engine.images.records[0]["label"]
    results = engine.similar_images(0, 5, focus=label)
    rows, _ = focused_search(
        engine.images.vectors, engine.images.vectors[0], engine.class_weights.vector(label), 5, [0]
    )
    assert [r.row for r in results] == rows.tolist()


def test_class_weights_do_not_depend_on_the_thread_count():
    """The focus figures must repeat on any machine: the classifier's weights may not depend on
    how many threads sum its loss (in float32 they did, in the fifth decimal)."""
    from threadpoolctl import threadpool_limits

    from imagesearch.focus import fit_class_weights

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, 128))
    labels = [f"class{i % 8}" for i in range(800)]
    features = (centres[np.arange(800) % 8] + 2.0 * rng.standard_normal((800, 128))).astype(np.float32)
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            fits.append(fit_class_weights(features, labels, range(800)))
    assert np.array_equal(fits[0].weights, fits[1].weights)
    assert np.array_equal(fits[0].intercept, fits[1].intercept)
