"""imagesearch.showcase: the notebooks' demos of quality come from the test split."""

from __future__ import annotations

from types import SimpleNamespace

from imagesearch import showcase
from imagesearch.experiments.focus import TwoObjectQuery
from imagesearch.index import Result


def fake_engine(records, train, val, test):
    return SimpleNamespace(
        images=SimpleNamespace(records=records), split=SimpleNamespace(train=train, val=val, test=test)
    )


CAT_ONLY = ["A white cat in a sink.", "A cat sits in a sink.", "Grey cat in a sink."]
BOTH = ["A man rides a horse.", "A girl on a brown horse.", "A person riding a horse."]


def test_names_both_needs_the_label_in_a_caption_and_the_other_class_in_two():
    assert showcase.names_both("horse", "person", BOTH)  # "man", "girl": synonyms of person
    assert not showcase.names_both("bottle", "cat", CAT_ONLY)  # no caption names the bottle
    assert not showcase.names_both("horse", "person", ["A horse.", "A man on a horse.", "Horses."])


def test_the_showcase_takes_test_photos_whose_captions_name_both_objects():
    records = [
        {"label": "bottle", "captions": CAT_ONLY},  # training photo, and no visible bottle
        {"label": "horse", "captions": BOTH},  # training photo
        {"label": "bottle", "captions": CAT_ONLY},  # test photo, but no bottle named
        {"label": "horse", "captions": BOTH},  # test photo: the one to show
    ]
    engine = fake_engine(records, train=[0, 1], val=[], test=[2, 3])
    queries = [
        TwoObjectQuery(
            row,
            f"k{row}",
            f"p{row}",
            (r["label"], "cat" if r["label"] == "bottle" else "person"),
            "captions",
            row >= 2,
        )
        for row, r in enumerate(records)
    ]
    chosen = showcase.two_object_showcase(engine, queries, prefer=[("cat", "bottle")])
    assert [q.query for q in chosen] == [3]


def test_split_marks_and_hits_of_results():
    records = [
        {"label": "dog", "captions": ["A dog."]},
        {"label": "cat", "captions": ["A cat and a dog."]},
        {"label": "cat"},
    ]
    engine = fake_engine(records, train=[0], val=[2], test=[1])
    results = [Result(i + 1, row, f"p{row}", records[row]["label"], 0.5) for i, row in enumerate([1, 0, 2])]
    assert showcase.split_marks(engine, results) == ["test", "train", "val"]
    assert showcase.result_hits(engine, results, words=["dog"]) == [True, True, False]
    assert showcase.result_hits(engine, results, labels=["cat"]) == [True, False, True]


def test_split_text_search_ranks_the_test_split_alone(engine):
    results, words = showcase.split_text_search(engine, "dog", 5)
    test = {int(r) for r in engine.split.test}
    assert words == ("dog",) or list(words) == ["dog"]
    assert results and {r.row for r in results} <= test
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    whole = engine.text_search("dog", len(engine.images)).results
    best_test = next(r for r in whole if r.row in test)  # the same scores as the whole ranking
    assert results[0].row == best_test.row and abs(results[0].score - best_test.score) < 1e-5
