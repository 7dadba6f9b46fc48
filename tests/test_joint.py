import json

import numpy as np
import pytest

from imagesearch.heads import load_joint_model
from imagesearch.joint import (
    JointModelError,
    JointModelMismatchError,
    train_joint_model,
)
from imagesearch.splits import stratified_split
from imagesearch.storage import ImageSearchError

N_CLASSES, PER_CLASS, FEATURE_DIM, VECTOR_DIM = 6, 40, 32, 12
SMALL = {"hidden": 64, "batch_size": 32}  # the talk's 2000 units are not needed to test behaviour
SETTINGS = {
    "image_model": "synthetic",
    "feature_dim": FEATURE_DIM,
    "vectors": "random-12d",
    "vector_dim": VECTOR_DIM,
}


def synthetic(seed=0, noise=0.8):
    """Class c's features are noisy copies of a prototype; its target is a random unit vector."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(N_CLASSES), PER_CLASS)
    prototypes = rng.normal(size=(N_CLASSES, FEATURE_DIM))
    words = rng.normal(size=(N_CLASSES, VECTOR_DIM))
    words /= np.linalg.norm(words, axis=1, keepdims=True)
    features = (prototypes[labels] + noise * rng.normal(size=(labels.size, FEATURE_DIM))).astype(np.float32)
    return features, words[labels].astype(np.float32), labels, words.astype(np.float32)


@pytest.fixture(scope="module")
def data():
    features, targets, labels, words = synthetic()
    return features, targets, labels, words, stratified_split(labels, seed=0)


@pytest.fixture(scope="module")
def trained(data):
    features, targets, _, _, split = data
    return train_joint_model(features, targets, split, epochs=40, patience=10, settings=SETTINGS, **SMALL)


def test_embeddings_land_near_their_class_word(data, trained):
    features, _, labels, words, split = data
    emb = trained.embed(features[split.test])
    assert emb.shape == (split.test.size, VECTOR_DIM) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    nearest = np.argmax(emb @ words.T, axis=1)
    assert np.mean(nearest == labels[split.test]) > 0.9


def test_result_records_history_settings_and_time(data, trained):
    _, _, _, _, split = data
    h = trained.history
    assert set(h) == {"loss", "val_loss"} and len(h["loss"]) == len(h["val_loss"]) >= 1
    assert all(np.isfinite(h["loss"])) and min(h["val_loss"]) < -0.8  # cosine near 1
    s = trained.settings
    for key, value in SETTINGS.items():
        assert s[key] == value
    for key in ("epochs", "seed", "batch_size", "hidden", "dropout", "lr", "patience", "best_epoch"):
        assert key in s
    assert s["hidden"] == 64 and s["lr"] == 1e-3
    assert trained.split == split
    assert trained.train_time_s > 0
    assert trained.embed(np.zeros((0, FEATURE_DIM))).shape == (0, VECTOR_DIM)


def test_same_seed_same_model_other_seed_differs(data):
    features, targets, _, _, split = data
    runs = [train_joint_model(features, targets, split, epochs=3, seed=s, **SMALL) for s in (7, 7, 8)]
    a, b, c = (r.embed(features) for r in runs)
    assert np.array_equal(a, b)
    for wa, wb in zip(runs[0].model.get_weights(), runs[1].model.get_weights()):
        assert np.array_equal(wa, wb)
    assert runs[0].history == runs[1].history
    assert not np.array_equal(a, c)


def test_early_stopping_restores_best_weights_when_val_loss_plateaus():
    # Targets unrelated to features: validation loss cannot keep improving.
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 30)
    features = rng.normal(size=(labels.size, FEATURE_DIM)).astype(np.float32)
    targets = rng.normal(size=(labels.size, VECTOR_DIM)).astype(np.float32)
    split = stratified_split(labels)
    jm = train_joint_model(features, targets, split, epochs=200, patience=3, **SMALL)
    val = jm.history["val_loss"]
    assert len(val) < 200 and jm.settings["epochs_run"] == len(val)
    # The model returned is the best epoch's, not the last one's.
    emb = jm.embed(features[split.val])
    unit_targets = targets[split.val] / np.linalg.norm(targets[split.val], axis=1, keepdims=True)
    restored = -float(np.mean(np.sum(emb * unit_targets, axis=1)))
    assert restored == pytest.approx(val[jm.settings["best_epoch"] - 1], abs=1e-4)
    assert restored <= min(val) + 2e-4


def test_training_never_reads_test_rows(data):
    features, targets, _, _, split = data
    features, targets = features.copy(), targets.copy()
    features[split.test] = np.nan
    targets[split.test] = np.nan
    jm = train_joint_model(features, targets, split, epochs=3, **SMALL)
    assert all(np.isfinite(jm.history["loss"])) and all(np.isfinite(jm.history["val_loss"]))
    assert np.all(np.isfinite(jm.embed(features[split.train])))
    # whereas a poisoned validation row is caught before training
    targets[split.val[0]] = np.nan
    with pytest.raises(ImageSearchError, match="targets of val"):
        train_joint_model(features, targets, split, epochs=1, **SMALL)


def test_save_load_round_trip(data, trained, tmp_path):
    features, *_ = data
    folder = trained.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["joint.json", "joint.keras"]  # no temp files left
    loaded = load_joint_model(
        folder, expect={"image_model": "synthetic", "feature_dim": np.int64(FEATURE_DIM)}
    )
    assert np.array_equal(loaded.embed(features), trained.embed(features))
    assert loaded.settings == json.loads(json.dumps(trained.settings))
    assert loaded.history == trained.history and loaded.split == trained.split
    assert loaded.train_time_s == pytest.approx(trained.train_time_s)
    trained.save(folder)  # saving again over an existing model works
    assert np.array_equal(load_joint_model(folder).embed(features[:5]), trained.embed(features[:5]))


def test_load_with_mismatching_expectation_names_the_key(trained, tmp_path):
    folder = trained.save(tmp_path / "model")
    with pytest.raises(JointModelMismatchError) as info:
        load_joint_model(folder, expect={"image_model": "synthetic", "vectors": "glove-6b-300d"})
    message = str(info.value)
    assert "vectors" in message and "random-12d" in message and "glove-6b-300d" in message
    assert "python -m imagesearch train" in message
    assert info.value.key == "vectors" and isinstance(info.value, ImageSearchError)
    with pytest.raises(JointModelMismatchError, match="dataset_hash"):
        load_joint_model(folder, expect={"dataset_hash": "abc"})  # a key that was never recorded


def test_incomplete_or_broken_folders_raise_clear_errors(trained, tmp_path):
    with pytest.raises(JointModelError, match="does not exist"):
        load_joint_model(tmp_path / "nowhere")
    folder = trained.save(tmp_path / "model")
    (folder / "joint.json").rename(tmp_path / "saved.json")
    with pytest.raises(JointModelError, match="joint.json is missing") as info:
        load_joint_model(folder)
    assert str(folder) in str(info.value)
    (folder / "joint.json").write_text("{not json")
    with pytest.raises(JointModelError, match="corrupt"):
        load_joint_model(folder)
    (tmp_path / "saved.json").rename(folder / "joint.json")
    (folder / "joint.keras").write_bytes(b"garbage")
    with pytest.raises(JointModelError, match="joint.keras"):
        load_joint_model(folder)


def test_bad_inputs_are_refused(data, trained):
    features, targets, _, _, split = data
    with pytest.raises(ImageSearchError, match="feature_dim"):
        train_joint_model(features, targets, split, settings={"feature_dim": 512}, epochs=1, **SMALL)
    with pytest.raises(ImageSearchError, match="number of images"):
        train_joint_model(features[:-1], targets, split, epochs=1, **SMALL)
    with pytest.raises(ImageSearchError, match="synthetic"):
        trained.embed(np.zeros((2, FEATURE_DIM + 1), dtype=np.float32))
