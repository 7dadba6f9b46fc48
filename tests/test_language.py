"""Text search, tags and word search on the embedded data set with the real GloVe 50d vectors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from imagesearch.captions import caption_word_sets
from imagesearch.cli import main
from imagesearch.engine import SearchEngine
from imagesearch.experiments import default_caption_words, heldout_classes
from imagesearch.heads import load_joint_model
from imagesearch.index import IndexLoadError
from imagesearch.joint import JointModelMismatchError
from imagesearch.metrics import relevant_to_word
from imagesearch.text import NoContentWordError, UnknownWordError, fold_plural


def test_class_words_find_their_class(engine):
    labels = sorted({item["label"] for item in engine.images.records})
    hits = []
    for label in labels:
        results = engine.text_search(label, 5).results
        hits.append(np.mean([r.label == label for r in results]))
    assert np.mean(hits) >= 0.6, dict(zip(labels, hits))
    assert engine.text_search("telephone", 3).results[0].label == "telephone"


def test_words_that_are_not_labels_and_several_words(engine):
    for query in ("ocean", "street", "phone", "cat sofa"):
        answer = engine.text_search(query, 10)
        assert len(answer.results) == 10 and not answer.unknown
        assert all(-1 <= r.score <= 1 for r in answer.results)
    # synonyms of labels that the model never saw as labels
    assert sum(r.label == "telephone" for r in engine.text_search("phone", 5).results) >= 4
    assert sum(r.label == "tv monitor" for r in engine.text_search("television", 5).results) >= 4
    mixed = engine.text_search("cat sofa", 10).results
    assert any(r.label == "cat" for r in mixed[:3])


def test_unknown_words_are_named(engine):
    with pytest.raises(UnknownWordError, match="qqzzxq"):
        engine.text_search("qqzzxq", 5)
    answer = engine.text_search("Cat, qqzzxq!", 5)
    assert answer.known == ("cat",) and answer.unknown == ("qqzzxq",)


def test_tags_of_an_image(engine):
    row = next(i for i, item in enumerate(engine.images.records) if item["label"] == "telephone")
    tags = engine.tags(row, 5)
    assert [t.rank for t in tags] == [1, 2, 3, 4, 5]
    from imagesearch.text import STOP_WORDS

    assert not {t.word for t in tags} & STOP_WORDS
    assert "telephone" in {t.word for t in engine.tags(row, 20)} or "phone" in {
        t.word for t in engine.tags(row, 20)
    }


def test_joint_model_refuses_other_vectors(engine):
    with pytest.raises(JointModelMismatchError, match="vectors"):
        load_joint_model(engine.folder / "joint", expect={"vectors": "glove-6b-300d"})


def test_text_search_needs_a_trained_model(embedded_index, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(embedded_index, copy, ignore=shutil.ignore_patterns("joint*"))
    with pytest.raises(IndexLoadError, match="python -m imagesearch train"):
        SearchEngine(copy).text_search("cat", 3)


def test_cli_text_and_image_queries_mixed(engine, capsys):
    image = engine.images.records[0]["path"]
    assert (
        main(["search", str(engine.folder), "--image", image, "--text", "cat sofa", "-k", "3", "--json"]) == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == [image, "cat sofa"]
    assert all(len(line["results"]) == 3 for line in lines)


def test_cli_tag_words_and_evaluate(engine, capsys):
    image = engine.images.records[0]["path"]
    assert main(["tag", str(engine.folder), "--image", image, "-k", "4", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["query"] == image and [r["rank"] for r in record["results"]] == [1, 2, 3, 4]
    assert main(["words", "king", "-k", "5", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {"queen", "prince"} & {r["word"] for r in record["results"]}
    assert main(["words", "qqzzxq"]) == 1
    assert "qqzzxq" in capsys.readouterr().err


def test_text_query_and_tags_import_neither_gensim_nor_tensorflow(engine):
    image = engine.images.records[0]["path"]
    folder = str(engine.folder)
    code = (
        "import sys; from imagesearch.cli import main;"
        f"main(['search', {folder!r}, '--text', 'dog on a beach', '--json']);"
        f"main(['tag', {folder!r}, '--image', {image!r}]);"
        "print(sorted(m for m in ('gensim', 'tensorflow', 'keras') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_stop_words_do_not_change_a_search_and_alone_are_an_error(engine, capsys):
    with_stop_words = engine.text_search("A cat, on the sofa!", 10)
    assert with_stop_words.known == ("cat", "sofa")
    assert with_stop_words.results == engine.text_search("cat sofa", 10).results
    with pytest.raises(NoContentWordError, match="'the a of' has no content word"):
        engine.text_search("the a of", 5)
    assert main(["search", str(engine.folder), "--text", "the a of"]) == 1
    assert "'the a of' has no content word" in capsys.readouterr().err


def test_caption_relevance_and_word_choice():
    captions = [
        ["Two dogs on grass.", "A dog in the grass", "grass field"],
        ["A cat on a sofa", "cats sleeping", "a sleeping cat"],
        ["A bus on the street", "street scene", "buses"],
    ]
    sets, vocabulary = caption_word_sets(captions)
    assert fold_plural("dogs", vocabulary) == "dog" and fold_plural("grass", vocabulary) == "grass"
    assert relevant_to_word(sets, "grass").tolist() == [True, False, False]
    assert relevant_to_word(sets, "sleeping").tolist() == [False, True, False]
    words = default_caption_words(captions, ["dog", "cat", "bus"])
    assert "dog" not in words and "cat" not in words and "the" not in words
    assert set(words) == {"grass", "sleeping", "street"}
    assert heldout_classes(list("abcdefgh"), 3, seed=0) == heldout_classes(list("hgfedcba"), 3, seed=0)


def test_evaluate_json_has_every_key(engine, capsys):
    assert main(["evaluate", str(engine.folder), "--json", "--epochs", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in (
        "image_to_image_p10",
        "class_words_p10",
        "heldout_classes_p10",
        "caption_words_p10",
        "caption_words_chance",
        "tags_class_top5",
        "tags_caption_top5",
        "words",
        "heldout_classes_p10_all_test",
        "caption_words_class_prior",
        "tags_constant_baseline",
        "tags_caption_precision",
        "tags_caption_precision_constant",
        "tags_beyond_constant",
    ):
        assert key in report
    assert len(report["constant_tags"]) == 5 and report["joint_model"] == {
        "targets": "captions",
        "head": "ridge",
    }
    assert 0 < report["image_to_image_p10"] <= 1 and len(report["heldout_classes"]) == 5


def test_joint_variant_trains_another_model_on_a_copy_and_reuses_it(embedded_joint, glove50d, tmp_path):
    from imagesearch.indexing import JOINT, joint_variant

    before = (embedded_joint / f"{JOINT}.json").read_bytes()
    out = joint_variant(embedded_joint, tmp_path / "talk", head="ridge", targets="labels")
    variant = SearchEngine(out)
    assert variant.joint_index.metadata["targets"] == "labels"
    assert (embedded_joint / f"{JOINT}.json").read_bytes() == before  # the original is untouched
    np.testing.assert_array_equal(variant.images.vectors, SearchEngine(embedded_joint).images.vectors)
    stamp = (out / f"{JOINT}.json").stat().st_mtime_ns
    assert joint_variant(embedded_joint, out, head="ridge", targets="labels") == out
    assert (out / f"{JOINT}.json").stat().st_mtime_ns == stamp  # reused, not retrained
    joint_variant(embedded_joint, out, head="ridge", targets="captions")
    assert SearchEngine(out).joint_index.metadata["targets"] == "captions"
