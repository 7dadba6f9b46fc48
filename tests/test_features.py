import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import TinyModel, make_colour_dataset

from imagesearch import features as features_module
from imagesearch.datasets import load_folder
from imagesearch.features import extract_features, l2_normalize
from imagesearch.images import ImageLoadError
from imagesearch.storage import ImageSearchError


@pytest.fixture
def dataset(tmp_path):
    return load_folder(make_colour_dataset(tmp_path / "colours", per_class=6))


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(features_module, "CHUNK_SIZE", 4)


def test_features_are_computed_then_reused_from_cache(dataset, tmp_path):
    model = TinyModel()
    first = extract_features(dataset, model, cache=tmp_path / "cache", progress=False, batch_size=2)
    assert first.features.shape == (18, 3) and not first.from_cache
    assert first.item_numbers.tolist() == list(range(18))
    # mean colour of a "red" image is mostly red
    assert first.features[0].argmax() == 2 and first.features[-1].argmax() == 0  # sorted: blue, green, red
    assert max(model.batch_sizes) <= 2, "images must stream in batches, never all at once"
    again = TinyModel()
    second = extract_features(dataset, again, cache=tmp_path / "cache", progress=False)
    assert second.from_cache and again.calls == 0
    np.testing.assert_array_equal(first.features, second.features)
    assert list((tmp_path / "cache").glob("*/chunk-*")) == []  # chunks merged away


def test_cache_key_follows_content_model_and_resampling(dataset, tmp_path):
    model = TinyModel()
    key = features_module.cache_key(dataset, model)
    assert key != features_module.cache_key(dataset, model, "nearest")
    other = TinyModel()
    other.weights_id = "tiny-v2"
    assert key != features_module.cache_key(dataset, other)
    image = dataset[0].path
    image.write_bytes(image.read_bytes() + b"\0")  # one more byte: new content
    changed = load_folder(dataset.root)
    assert key != features_module.cache_key(changed, model)


def test_interrupt_keeps_finished_chunks_and_rerun_continues(dataset, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        extract_features(dataset, TinyModel(fail_after=2), cache=cache, progress=False, batch_size=4)
    folder = next(cache.iterdir())
    assert sorted(p.name for p in folder.glob("chunk-*.npz")) == [
        "chunk-4-0000000.npz",
        "chunk-4-0000004.npz",
    ]
    assert not (folder / "features.npz").exists()
    assert not list(folder.glob(".*tmp")), "no half-written temp files left"
    resumed = TinyModel()
    result = extract_features(dataset, resumed, cache=cache, progress=False, batch_size=4)
    assert resumed.calls == 3  # 18 images in chunks of 4: 5 chunks, 2 were done
    fresh = extract_features(dataset, TinyModel(), cache=False, progress=False)
    np.testing.assert_allclose(result.features, fresh.features, rtol=1e-6)


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from imagesearch import features
from imagesearch.datasets import load_folder
from helpers import TinyModel
features.CHUNK_SIZE = 4
class Slow(TinyModel):
    def embed_batch(self, images):
        time.sleep(0.4)
        return super().embed_batch(images)
features.extract_features(load_folder({root!r}), Slow(), cache={cache!r}, progress=False)
"""


@pytest.mark.slow
def test_kill_in_the_middle_leaves_a_usable_cache(dataset, tmp_path):
    cache = tmp_path / "cache"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), root=str(dataset.root), cache=str(cache))
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cache.glob("*/chunk-*.npz"))) < 2:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(list(cache.glob("*/chunk-*.npz"))) >= 2, "the child should have finished two chunks"
    model = TinyModel()
    result = extract_features(dataset, model, cache=cache, progress=False)
    assert result.features.shape == (18, 3)
    assert model.calls < 5  # 5 chunks of 4; the chunks written before the kill were reused
    fresh = extract_features(dataset, TinyModel(), cache=False, progress=False)
    np.testing.assert_allclose(result.features, fresh.features, rtol=1e-6)


def test_bad_image_raises_by_name_or_is_skipped_and_reported(dataset, tmp_path):
    broken = dataset.root / "green" / "green_99.png"
    broken.write_bytes(b"not a png at all")
    data = load_folder(dataset.root)
    with pytest.raises(ImageLoadError, match="green_99.png"):
        extract_features(data, TinyModel(), cache=tmp_path / "c1", progress=False)
    result = extract_features(data, TinyModel(), cache=tmp_path / "c2", on_error="skip", progress=False)
    assert len(result.features) == len(data) - 1
    assert [key for key, _ in result.skipped] == ["green/green_99.png"]
    bad_row = data.find(broken)
    assert bad_row not in result.item_numbers.tolist()
    # the cached result remembers the skip, and a strict caller is told about it
    again = extract_features(data, TinyModel(), cache=tmp_path / "c2", on_error="skip", progress=False)
    assert again.from_cache and again.skipped == result.skipped
    with pytest.raises(ImageSearchError, match="green/green_99.png"):
        extract_features(data, TinyModel(), cache=tmp_path / "c2", on_error="raise", progress=False)


def test_l2_normalize_handles_zero_rows():
    out = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
