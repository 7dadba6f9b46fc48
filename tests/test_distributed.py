"""Feature extraction on a local Dask cluster: the single-process features, chunk by chunk."""

import numpy as np
import pytest

from imagesearch.datasets import load_embedded
from imagesearch.distributed import extract_features_distributed
from imagesearch.features import (
    CHUNK_SIZE,
    chunk_path,
    extract_features,
    feature_cache_folder,
    save_chunk_file,
)
from imagesearch.models import LazyImageModel

pytestmark = pytest.mark.slow


@pytest.fixture
def single(embedded_index, shared_home):
    """The single-process features of the embedded set (cached by the session's index)."""
    return extract_features(load_embedded(), LazyImageModel(), progress=False)


def test_two_workers_give_the_single_process_features(single, tmp_path):
    run = extract_features_distributed(load_embedded(), engine="dask", workers=2, cache=tmp_path)
    assert run.chunks_computed == 2 and run.chunks_reused == 0
    np.testing.assert_array_equal(run.features.item_numbers, single.item_numbers)
    np.testing.assert_allclose(run.features.features, single.features, rtol=1e-5, atol=1e-5)
    # Finished: one cache file, found by the single-process path without any CNN run.
    assert run.features.cache_file.name == "features.npz" and not list(tmp_path.rglob("chunk-*"))
    again = extract_features(load_embedded(), LazyImageModel(), cache=tmp_path, progress=False)
    assert again.from_cache


def test_an_interrupted_run_keeps_its_finished_shards(single, tmp_path):
    """A shard already on disk is read, not recomputed: a marked one comes back as written."""
    dataset = load_embedded().subset(range(CHUNK_SIZE + 3))
    folder = feature_cache_folder(dataset, LazyImageModel(), cache=tmp_path)
    marked = single.features[:CHUNK_SIZE] * 2
    maps = np.zeros((CHUNK_SIZE, 7, 7, 512), np.float16)  # the focus maps travel with the features
    save_chunk_file(chunk_path(folder, 0), marked, np.arange(CHUNK_SIZE), [], maps)
    run = extract_features_distributed(dataset, engine="dask", workers=1, cache=tmp_path)
    assert (run.chunks_reused, run.chunks_computed, run.photos_computed) == (1, 1, 3)
    np.testing.assert_array_equal(run.features.features[:CHUNK_SIZE], marked)
    np.testing.assert_allclose(
        run.features.features[CHUNK_SIZE:], single.features[CHUNK_SIZE : CHUNK_SIZE + 3], atol=1e-5
    )
    np.testing.assert_array_equal(run.features.item_numbers, np.arange(CHUNK_SIZE + 3))
    assert run.features.maps.shape == (CHUNK_SIZE + 3, 7, 7, 512) and not run.features.maps[:CHUNK_SIZE].any()


def test_ray_data_gives_the_same_features(single, tmp_path):
    dataset = load_embedded().subset(range(3))
    run = extract_features_distributed(dataset, engine="ray", workers=1, cache=tmp_path)
    assert (run.engine, run.chunks_computed) == ("ray", 1)
    np.testing.assert_allclose(run.features.features, single.features[:3], rtol=1e-5, atol=1e-5)


def test_the_benchmark_grows_an_index_with_add_and_finds_the_added_images(monkeypatch, tmp_path):
    from PIL import Image

    from bench import distributed
    from imagesearch.datasets import embedded_root

    clipart = tmp_path / "png"  # openclipart's layout: PNGs in folders, here 10 embedded photos
    for source in [
        p for label in ("cat", "dog") for p in sorted((embedded_root() / label).glob("*.jpg"))[:5]
    ]:
        (clipart / source.parent.name).mkdir(parents=True, exist_ok=True)
        Image.open(source).convert("RGB").save(clipart / source.parent.name / f"{source.stem}.png")
    monkeypatch.setattr(distributed, "CLIPART", clipart)
    monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path / "home"))
    figures = distributed.grow(8, 2, tmp_path)
    assert figures["count_after_add"] == 10 and figures["added_found_at_rank_1"] == "2/2"
    assert figures["add_s"] > 0 and figures["rebuild_s"] > 0 and figures["add_photos_per_s"] > 0
