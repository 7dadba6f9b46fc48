"""On the real Pascal Sentences photos (marker `pascal`; .ci/run runs these with the mirror)."""

import json

import pytest

from imagesearch.cli import main
from imagesearch.engine import SearchEngine
from imagesearch.experiments import annoy_recall
from imagesearch.metrics import leave_one_out_precision

pytestmark = pytest.mark.pascal


@pytest.fixture(scope="module")
def engine(pascal_index):
    return SearchEngine(pascal_index)


def test_pretrained_weights_find_the_same_class(engine):
    """Chance is 49/999 = 0.05; a prototype with random weights scored 0.10, pretrained 0.43."""
    labels = [item["label"] for item in engine.images.records]
    assert len(labels) == 1000
    assert leave_one_out_precision(engine.images.vectors, labels, 10) >= 0.42


def test_annoy_recall_with_default_settings(engine):
    assert annoy_recall(engine.images, 10) >= 0.99


def test_cli_search_on_pascal(pascal_index, capsys):
    engine = SearchEngine(pascal_index)
    cat = next(item for item in engine.images.records if item["label"] == "cat")
    assert main(["search", str(pascal_index), "--image", cat["path"], "-k", "10", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert sum(r["label"] == "cat" for r in record["results"]) >= 3


@pytest.fixture(scope="module")
def pascal_joint(pascal_index, pascal_home):
    from conftest import using_home

    from imagesearch.indexing import train_joint_index

    with using_home(pascal_home):
        train_joint_index(pascal_index)
    return pascal_index


def test_language_figures_on_the_test_split(pascal_joint, pascal_home, monkeypatch):
    """The default joint model (ridge, caption targets) against the floors of issue 8 that it
    reaches (bench/language.py has every figure), each beside its baseline."""
    from imagesearch.experiments import evaluate_engine

    monkeypatch.setenv("IMAGESEARCH_HOME", str(pascal_home))
    engine = SearchEngine(pascal_joint)
    report = evaluate_engine(engine)
    assert report["test_images"] == 200
    assert report["class_words_p10"] >= 0.6
    assert report["heldout_classes_p10"] >= 0.6
    assert report["caption_words_p10"] >= 2 * report["caption_words_chance"]
    assert report["tags_class_top5"] >= 0.7
    assert report["tags_caption_top5"] >= report["tags_constant_baseline"] + 0.1
    assert report["tags_caption_precision"] > report["tags_caption_precision_constant"]
    for word, label in (("dog", "dog"), ("cat", "cat"), ("horse", "horse")):
        results = engine.text_search(word, 10).results
        assert sum(r.label == label for r in results) >= 5, word
    assert engine.text_search("ocean", 10).results and engine.text_search("cat sofa", 10).results
