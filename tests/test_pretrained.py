"""The shipped joint model and class weights (pretrained.py, scripts/build_pretrained.py)."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imagesearch.jointfiles import JointModelError
from imagesearch.pretrained import (
    PRETRAINED_DIR,
    RECIPE_FILE,
    SHIPPED_FILES,
    shipped_class_weights,
    shipped_model,
)

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_model_maps_vgg16_conv_features_to_unit_word_vectors():
    model = shipped_model()
    x = np.random.default_rng(0).random((7, 512)).astype(np.float32)
    out = model.embed(x)
    assert out.shape == (7, 50)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(out, model.ridge.embed(x))  # the caption transfer moves them
    with pytest.raises(JointModelError, match="512"):
        model.embed(np.zeros((1, 4096), np.float32))


def test_shipped_files_are_small_and_checked(tmp_path):
    assert sum((PRETRAINED_DIR / n).stat().st_size for n in SHIPPED_FILES) < 3_000_000
    copy = tmp_path / "pretrained"
    shutil.copytree(PRETRAINED_DIR, copy)
    data = bytearray((copy / "ridge.npz").read_bytes())
    data[-100] ^= 0xFF
    (copy / "ridge.npz").write_bytes(bytes(data))
    with pytest.raises(JointModelError, match="ridge.npz"):
        shipped_model(copy)


def test_shipped_class_weights_are_pascals_20_classes():
    weights = shipped_class_weights()
    assert len(weights.classes) == 20 and "dog" in weights.classes
    assert weights.weights.shape == (512, 20)


def test_an_unlabelled_collection_gets_the_shipped_model(shared_home, tmp_path):
    """One label, no captions (a folder of personal photos): word search, tags and focus on
    Pascal's classes work with no training step."""
    from imagesearch.datasets import Dataset, Item, load_embedded
    from imagesearch.engine import SearchEngine
    from imagesearch.indexing import build_index

    embedded = load_embedded()
    items = tuple(Item(item.path, "photos") for item in list(embedded)[:12])
    build_index(Dataset("my-photos", embedded.root, items), tmp_path / "idx", progress=False)
    engine = SearchEngine(tmp_path / "idx")
    assert engine.joint_index.metadata["head"] == "pretrained"
    assert len(engine.text_search("dog on the grass", k=5).results) == 5
    assert engine.class_weights.classes == shipped_class_weights().classes
    assert len(engine.similar_images(0, k=3, focus="dog")) == 3


@pytest.mark.pascal
def test_the_build_script_rebuilds_the_shipped_files(tmp_path, pascal_dataset, pascal_home, monkeypatch):
    monkeypatch.setenv("IMAGESEARCH_HOME", str(pascal_home))
    from conftest import pascal_source

    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_pretrained.py"),
            "--source",
            pascal_source(),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    for name in (*SHIPPED_FILES, RECIPE_FILE):
        assert (tmp_path / name).read_bytes() == (PRETRAINED_DIR / name).read_bytes(), name
