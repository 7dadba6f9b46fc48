"""Focus in the notebooks: finding two-object photos, collages, and measuring focus gain."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesearch.datasets import Dataset, Item, load_embedded
from imagesearch.engine import SearchEngine
from imagesearch.experiments import TwoObjectQuery, focus_gain, pick_two_object_examples, two_object_queries
from imagesearch.focus import ClassWeights
from imagesearch.images import side_by_side
from imagesearch.index import Result
from imagesearch.splits import Split


class FakeIndex:
    def __init__(self, records):
        self.records = records


class FakeEngine:
    """Just what the focus helpers use: records, class weights, split, similar_images."""

    def __init__(self, items, classes, test=(), results=None):
        self.images = FakeIndex(items)
        self.class_weights = ClassWeights(np.ones((4, len(classes)), np.float32), tuple(classes), "test")
        self.split = Split(np.array([], int), np.array([], int), np.asarray(test, int))
        self.results = results or {}
        self.calls = []

    def similar_images(self, query, k=10, *, focus=None, exact=False):
        self.calls.append((query, k, focus, exact))
        labels = self.results[(query, focus)][:k]
        return [Result(i + 1, i, f"/x/{i}.jpg", label, 1.0 - i / 100) for i, label in enumerate(labels)]


def caption_dataset(tmp_path):
    records = [
        ("bottle", "d.jpg", ["a green bottle", "a bottle on a table"]),
        ("cat", "a.jpg", ["a cat next to a bottle", "a bottle and a white cat", "a cat"]),
        ("cat", "b.jpg", ["a cat", "a cat near a bottle"]),  # one caption only: not enough
        ("horse", "c.jpg", ["a man riding a horse", "two women with horses"]),
        ("person", "e.jpg", ["a man", "a person smiling"]),
    ]
    items = tuple(Item(tmp_path / label / name, label, tuple(caps)) for label, name, caps in records)
    dataset = Dataset("fake", tmp_path, items)
    index_items = [{"key": item.key, "label": item.label, "path": str(item.path)} for item in items]
    return dataset, index_items


def test_two_object_queries_from_captions_keep_only_focusable_pairs(tmp_path):
    dataset, items = caption_dataset(tmp_path)
    engine = FakeEngine(items, ["bottle", "cat", "horse"], test=[1])
    queries = two_object_queries(engine, dataset)
    # the horse photo shows people, but this classifier cannot focus on "person"
    assert queries == [TwoObjectQuery(1, "cat/a.jpg", items[1]["path"], ("cat", "bottle"), "captions", True)]

    engine = FakeEngine(items, ["bottle", "cat", "horse", "person"])
    queries = two_object_queries(engine, dataset)
    assert [(q.key, q.objects, q.test) for q in queries] == [
        ("cat/a.jpg", ("cat", "bottle"), False),
        ("horse/c.jpg", ("horse", "person"), False),
    ]
    assert [q.key for q in two_object_queries(engine, dataset, min_captions=1)] == [
        "cat/a.jpg",
        "cat/b.jpg",
        "horse/c.jpg",
    ]


def test_two_object_queries_map_items_to_index_rows_by_key(tmp_path):
    dataset, items = caption_dataset(tmp_path)
    engine = FakeEngine([items[i] for i in (1, 0, 3)], ["bottle", "cat", "horse"])  # b.jpg skipped
    queries = two_object_queries(engine, dataset, min_captions=1)
    assert [(q.query, q.key) for q in queries] == [(0, "cat/a.jpg")]


def test_no_two_object_photos_and_no_collage_folder_gives_nothing(tmp_path):
    dataset, items = caption_dataset(tmp_path)
    engine = FakeEngine(items, ["bottle", "cat", "horse"])
    plain = Dataset("plain", tmp_path, tuple(Item(i.path, i.label) for i in dataset))
    assert two_object_queries(engine, plain) == []


def test_focus_gain_measures_the_share_of_the_focus_class_before_and_after():
    results = {
        (3, None): ["cat", "cat", "dog", "dog"],
        (3, "dog"): ["dog", "dog", "dog", "cat"],
        (3, "cat"): ["cat", "cat", "cat", "cat"],
        ("/tmp/collage.png", None): ["car", "cat", "car", "car"],
        ("/tmp/collage.png", "cat"): ["cat", "car", "car", "car"],
    }
    items = [{"key": f"x/{i}.jpg", "label": "x", "path": f"/x/{i}.jpg"} for i in range(5)]
    engine = FakeEngine(items, ["car", "cat", "dog"], results=results)
    gain = focus_gain(engine, [(3, "dog"), (3, "cat"), ("/tmp/collage.png", "cat")], k=4)
    assert [(r["query"], r["focus"], r["before"], r["after"]) for r in gain["queries"]] == [
        ("x/3.jpg", "dog", 0.5, 0.75),
        ("x/3.jpg", "cat", 0.5, 1.0),
        ("collage.png", "cat", 0.25, 0.25),
    ]
    assert gain["count"] == 3 and gain["k"] == 4
    assert gain["before"] == pytest.approx(1.25 / 3) and gain["after"] == pytest.approx(2.0 / 3)
    assert gain["gain"] == pytest.approx(0.75 / 3)
    assert all(exact for _, _, focus, exact in engine.calls if focus is None), "plain searches must be exact"
    empty = focus_gain(engine, [], k=4)
    assert empty["count"] == 0 and np.isnan(empty["gain"])


def test_pick_two_object_examples_prefers_the_talks_pairs_in_either_order():
    q = lambda key, a, b: TwoObjectQuery(0, key, key, (a, b), "captions", False)  # noqa: E731
    queries = [
        q("1", "bicycle", "person"),
        q("2", "bicycle", "person"),
        q("3", "bottle", "cat"),
        q("4", "horse", "person"),
        q("5", "dog", "sofa"),
    ]
    picked = pick_two_object_examples(queries, prefer=[("cat", "bottle"), ("person", "horse")])
    assert [p.key for p in picked] == ["3", "4"]
    # missing preferences are filled with the first others, one per pair of classes
    picked = pick_two_object_examples(queries, prefer=[("cat", "clock")], count=3)
    assert [p.key for p in picked] == ["1", "3", "4"]
    assert pick_two_object_examples([], prefer=[("cat", "bottle")]) == []


def test_side_by_side_pastes_images_left_to_right(tmp_path):
    Image.new("RGB", (50, 30), (255, 0, 0)).save(tmp_path / "red.png")
    Image.new("L", (20, 40), 0).save(tmp_path / "black.jpg")
    out = side_by_side([tmp_path / "red.png", tmp_path / "black.jpg"], tmp_path / "sub" / "pair.png", size=32)
    assert out == tmp_path / "sub" / "pair.png"
    image = np.asarray(Image.open(out))
    assert image.shape == (32, 64, 3)
    assert (image[:, :32] == [255, 0, 0]).all() and (image[:, 32:] == 0).all()
    assert [p.name for p in out.parent.iterdir()] == ["pair.png"], "no temporary files left behind"


def test_collages_stand_in_on_the_embedded_set_and_focus_helps(embedded_index, shared_home, tmp_path):
    engine = SearchEngine(embedded_index)
    queries = two_object_queries(engine, load_embedded(), collage_dir=tmp_path / "collages")
    assert queries and all(q.source == "collage" and q.test for q in queries)
    classes = sorted({item["label"] for item in engine.images.records})
    assert sorted({q.objects for q in queries}) == list(zip(classes[0::2], classes[1::2]))
    first = queries[0]
    assert Path(first.path).exists() and Image.open(first.path).size == (448, 224)
    left, right = first.key.split(" + ")
    assert left.split("/")[0] == first.objects[0] and right.split("/")[0] == first.objects[1].replace(
        " ", "_"
    )
    again = two_object_queries(engine, load_embedded(), collage_dir=tmp_path / "collages")
    assert again == queries, "the same collages on every run"

    sample = queries[::2]
    pairs = [(q.query, c) for q in sample for c in q.objects]
    gain = focus_gain(engine, pairs, k=10)
    assert gain["count"] == len(pairs) and gain["after"] > gain["before"]
    assert all(r["query"].endswith(".png") for r in gain["queries"])
