"""Helpers of the word-vector and joint-model notebooks: word maps, example rows, the
evaluation table and the joint-space map."""

from types import SimpleNamespace

import numpy as np
import pytest

from imagesearch import maps
from imagesearch.experiments import split_examples
from imagesearch.report import EVALUATION_METRICS, evaluation_table
from imagesearch.splits import Split
from imagesearch.text import UnknownWordError, label_vector, query_vector
from imagesearch.words import similar_words, word_neighbourhoods


def test_word_neighbourhoods_lists_seeds_then_their_neighbours(glove50d):
    texts, groups, vectors = word_neighbourhoods(glove50d, ["cat", "dog", "tv monitor", "cat"], k=4)
    assert texts[:3] == ["cat", "dog", "tv monitor"] and groups[:3] == texts[:3]
    assert len(texts) == len(set(texts)) == len(groups) == len(vectors)
    # "dog" is among cat's nearest words, yet stays a seed with its own group
    assert "dog" in [w for w, _ in similar_words(glove50d, "cat", 4)] and groups.count("dog") >= 1
    cat_words = [t for t, g in zip(texts[3:], groups[3:]) if g == "cat"]
    assert cat_words == [w for w, _ in similar_words(glove50d, "cat", 4) if w != "dog"]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors[2], label_vector(glove50d, "tv monitor"), atol=1e-6)
    assert vectors.dtype == np.float32
    with pytest.raises(UnknownWordError):
        word_neighbourhoods(glove50d, ["cat", "qwxzvbnm"], k=2)


class FakeEngine:
    def __init__(self, labels, test):
        self.images = type(
            "Index",
            (),
            {"records": [{"label": label, "key": f"{label}/{i}.jpg"} for i, label in enumerate(labels)]},
        )()
        self.split = Split(np.array([], int), np.array([], int), np.asarray(test))


def test_split_examples_takes_the_first_test_image_of_spread_classes():
    labels = ["a", "a", "b", "b", "c", "c", "d", "d"]
    engine = FakeEngine(labels, test=[7, 1, 3, 5, 0])
    assert split_examples(engine, count=4) == [0, 3, 5, 7]
    assert split_examples(engine, count=2) == [0, 5]  # classes a and c
    assert split_examples(engine, count=10) == [0, 3, 5, 7]


def test_evaluation_table_rounds_and_explains_every_metric():
    result = {
        "image_to_image_p10": 0.48912,
        "class_words_p10": 0.58,
        "heldout_classes": ["bus", "car"],
        "heldout_classes_p10": 0.5,
        "heldout_classes_p10_all_test": 0.18,
        "caption_words_p10": 0.12,
        "caption_words_chance": 0.06249,
        "tags_class_top5": 0.63,
        "tags_caption_top5": None,
        "caption_words_class_prior": 0.20666,
        "per_class_p10": {c: 0.5 for c in "abcdefghij"},
    }
    table = evaluation_table(result)
    assert list(table.index) == list(EVALUATION_METRICS)
    assert list(table.columns) == ["value", "chance", "baseline", "measures"]
    assert table.loc["caption_words_p10", "baseline"] == 0.207
    assert np.isnan(table.loc["class_words_p10", "baseline"])
    assert table.loc["image_to_image_p10", "value"] == 0.489
    assert table.loc["class_words_p10", "chance"] == 0.1  # 10 classes
    assert table.loc["heldout_classes_p10", "chance"] == 0.5  # 2 held out
    assert table.loc["caption_words_p10", "chance"] == 0.062
    assert np.isnan(table.loc["tags_caption_top5", "value"]) and np.isnan(
        table.loc["tags_class_top5", "chance"]
    )


def test_joint_space_map_puts_images_class_names_and_words_in_one_map(glove50d, monkeypatch):
    from imagesearch.index import EmbeddingIndex
    from imagesearch.indexing import label_targets

    labels = ["cat"] * 5 + ["dog"] * 5
    rng = np.random.default_rng(0)
    vectors = label_targets(glove50d, labels) + 0.05 * rng.normal(size=(10, 50)).astype(np.float32)
    items = [
        {"label": label, "path": "/missing.jpg", "key": f"{label}/{i}.jpg"} for i, label in enumerate(labels)
    ]
    engine = type(
        "Engine",
        (),
        {
            "joint_index": EmbeddingIndex.build(vectors, items, model="test", n_trees=2),
            "word_vectors": glove50d,
            "text_encoder": SimpleNamespace(query=lambda text: query_vector(glove50d, text)),
        },
    )()
    seen = {}

    def first_two_dims(points, **kwargs):  # UMAP itself is not under test here: only what goes in
        seen["points"], seen["kwargs"] = points, kwargs
        return np.asarray(points)[:, :2]

    monkeypatch.setattr(maps, "umap_2d", first_two_dims)
    fig = maps.joint_space_map(engine, ["kitten", "cat"], title="a map")
    points = seen["points"]
    assert points.shape == (10 + 3, 50)  # images, then cat, dog, kitten (cat once)
    assert np.allclose(points[10], label_vector(glove50d, "cat"), atol=1e-6)
    ax = fig.axes[0]
    assert ax.get_title() == "a map" and ax.get_xlabel() == "UMAP 1" and ax.get_ylabel() == "UMAP 2"
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["cat", "dog", "kitten"]
    styles = {t.get_text(): (t.get_weight(), t.get_style()) for t in ax.texts}
    assert styles["cat"] == ("bold", "normal") and styles["kitten"] == ("normal", "italic")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_comparison_table_puts_models_side_by_side_with_chance_and_baselines_once():
    from imagesearch.report import comparison_table

    base = {
        "class_words_p10": 0.5,
        "heldout_classes": ["bus", "car"],
        "caption_words_p10": 0.1,
        "caption_words_chance": 0.06,
        "caption_words_class_prior": 0.26,
        "per_class_p10": {c: 0.5 for c in "abcd"},
    }
    table = comparison_table({"talk": base, "default": {**base, "caption_words_p10": 0.3}})
    assert list(table.columns) == ["talk", "default", "chance", "baseline", "measures"]
    assert list(table.index) == list(EVALUATION_METRICS)
    assert table.loc["caption_words_p10", "talk"] == 0.1 and table.loc["caption_words_p10", "default"] == 0.3
    assert (
        table.loc["caption_words_p10", "baseline"] == 0.26 and table.loc["class_words_p10", "chance"] == 0.25
    )
    with pytest.raises(ValueError):
        comparison_table({})
