"""The caption targets and the ridge joint model: what they learn from, and what they never read."""

import numpy as np
import pytest
from test_joint import SETTINGS, synthetic

from imagesearch.heads import load_joint_model
from imagesearch.indexing import fit_joint_model
from imagesearch.ridge import RidgeJointModel, train_ridge_model
from imagesearch.splits import stratified_split
from imagesearch.targets import caption_targets, caption_word_counts, label_targets
from imagesearch.text import class_words


class Untouchable:
    """Captions that fail the test when anything reads them."""

    def __iter__(self):
        raise AssertionError("a test image's captions were read")

    def __len__(self):
        raise AssertionError("a test image's captions were read")


def records_with(labels, captions):
    return [
        {"label": label, "path": f"{label}/{i}.jpg", "key": f"{label}/{i}", "captions": caps}
        for i, (label, caps) in enumerate(zip(labels, captions))
    ]


def test_ridge_maps_each_class_near_its_word(tmp_path):
    features, targets, labels, words = synthetic()
    split = stratified_split(labels, seed=0)
    model = train_ridge_model(features, targets, split, settings=SETTINGS)
    emb = model.embed(features[split.test])
    assert np.mean(np.argmax(emb @ words.T, axis=1) == labels[split.test]) > 0.9
    assert model.settings["lambda"] in model.settings["lambdas"] and model.train_time_s >= 0
    again = load_joint_model(model.save(tmp_path / "joint"), expect={"feature_dim": features.shape[1]})
    assert isinstance(again, RidgeJointModel)
    np.testing.assert_array_equal(again.embed(features), model.embed(features))


def test_ridge_never_reads_test_rows():
    features, targets, labels, _ = synthetic()
    split = stratified_split(labels, seed=0)
    poisoned_x, poisoned_y = features.copy(), targets.copy()
    poisoned_x[split.test] = np.nan
    poisoned_y[split.test] = np.nan
    clean = train_ridge_model(features, targets, split)
    blind = train_ridge_model(poisoned_x, poisoned_y, split)
    np.testing.assert_array_equal(clean.weights, blind.weights)


def test_caption_targets_mix_the_label_and_the_captions_words(glove50d):
    labels = ["dog", "dog"]
    captions = [["A dog runs on the beach.", "Two dogs on the beach"], ["A dog on a sofa"]]
    targets = caption_targets(glove50d, labels, captions, [0, 1])
    only_label = label_targets(glove50d, labels)
    np.testing.assert_allclose(np.linalg.norm(targets, axis=1), 1.0, atol=1e-5)
    beach = glove50d["beach"] / np.linalg.norm(glove50d["beach"])
    assert targets[0] @ beach > only_label[0] @ beach  # the beach photo moves toward "beach"
    assert targets[0] @ beach > targets[1] @ beach
    assert caption_word_counts(captions[0], glove50d, {"dog", "dogs", "beach"}) == {
        "beach": 2,
        "dog": 2,
        "runs": 1,
    }
    np.testing.assert_allclose(
        caption_targets(glove50d, labels, captions, [0, 1], label_weight=1.0), only_label, atol=1e-6
    )
    excluded = caption_targets(glove50d, labels, captions, [0], exclude={"beach"})
    assert excluded[0] @ beach < targets[0] @ beach


def test_training_never_reads_a_test_images_captions(glove50d):
    labels = np.repeat(["cat", "dog", "horse"], 10)
    split = stratified_split(labels, seed=0)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(len(labels), 16)).astype(np.float32) + (labels == "dog")[:, None]
    captions = [[f"a {label} on the grass", f"the {label} sits"] for label in labels]
    for row in split.test:
        captions[row] = Untouchable()
    records = records_with(labels, captions)
    for head in ("ridge", "mlp"):
        model = fit_joint_model(features, records, split, glove50d, head=head, epochs=2)
        assert model.embed(features).shape == (len(labels), 50)


def test_label_targets_remain_the_talks_option(glove50d):
    labels = np.repeat(["cat", "dog"], 6)
    split = stratified_split(labels, seed=0)
    features = np.random.default_rng(1).normal(size=(len(labels), 8)).astype(np.float32)
    records = records_with(labels, [["a cat on a mat"]] * len(labels))
    model = fit_joint_model(features, records, split, glove50d, targets="labels")
    assert model.settings["targets"] == "labels" and model.settings["head"] == "ridge"
    with pytest.raises(Exception, match="targets must be one of"):
        fit_joint_model(features, records, split, glove50d, targets="tags")


def test_one_rule_names_a_class():
    assert {"couch", "sofa"} <= class_words("sofa") and "plane" in class_words("aeroplane")


def test_explain_target_shows_what_a_training_images_target_is_made_of(glove50d):
    from imagesearch.splits import Split
    from imagesearch.storage import ImageSearchError
    from imagesearch.targets import explain_target

    records = records_with(
        ["dog", "dog", "cat"],
        [["A dog runs on the beach.", "Two dogs on the sand"], ["A dog"], ["A cat on a sofa"]],
    )
    split = Split(np.array([0, 1]), np.array([], int), np.array([2]))
    explained = explain_target(glove50d, records, split, 0, k=5)
    assert explained["label"] == "dog" and explained["key"] == "dog/0"
    words = explained["caption_words"]
    assert (words["dog"], words["beach"], words["sand"]) == (2, 1, 1)  # "dogs" folds to "dog"
    assert len(explained["nearest_words"]) == 5
    target = caption_targets(glove50d, ["dog", "dog"], [r["captions"] for r in records[:2]], [0])[0]
    nearest = glove50d.most_similar(positive=[target], topn=1, restrict_vocab=100_000)[0][0]
    assert explained["nearest_words"][0][0] == nearest
    with pytest.raises(ImageSearchError, match="test image"):
        explain_target(glove50d, records, split, 2)
