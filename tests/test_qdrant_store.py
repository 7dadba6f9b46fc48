"""The Qdrant store (local mode) answers like the exact search over the index folder."""

import json

import pytest

from imagesearch.cli import main
from imagesearch.engine import SearchEngine
from imagesearch.qdrant_store import QdrantSearch, StoreError, export_index, open_store


@pytest.fixture(scope="module")
def store(embedded_index):
    client = open_store(":memory:")
    counts = export_index(embedded_index, client)
    assert set(counts.values()) == {120}  # the images (and the joint index once a test trained it)
    return QdrantSearch(embedded_index, client)


def rows(results):
    return [r.row for r in results]


@pytest.mark.parametrize("row", [0, 17, 42, 77, 119])
def test_top_10_agree_with_the_exact_search(embedded_index, store, row):
    engine = SearchEngine(embedded_index)
    vector = engine.images.vectors[row]
    exact = engine.images.search(vector, 10, exact=True)
    found = store.query(store.images, vector, 10)
    assert rows(found) == rows(exact)
    assert [r.score for r in found] == pytest.approx([r.score for r in exact], abs=1e-4)


def test_an_indexed_image_is_looked_up_and_left_out(embedded_index, store):
    engine = SearchEngine(embedded_index)
    path = engine.images.records[5]["path"]
    found = store.similar_images(path, 10)
    assert 5 not in rows(found)
    assert rows(found) == rows(engine.similar_images(path, 10, exact=True))


def test_recommend_follows_likes_and_avoids_dislikes(embedded_index, store):
    engine = SearchEngine(embedded_index)
    like, unlike = engine.images.records[0]["path"], engine.images.records[60]["path"]
    liked = store.recommend([like], [], 10)
    assert rows(liked) == rows(engine.similar_images(like, 10, exact=True))
    steered = store.recommend([like], [unlike], 10)
    assert 0 not in rows(steered) and 60 not in rows(steered) and rows(steered) != rows(liked)
    with pytest.raises(StoreError, match="not in the store"):
        store.recommend(["/no/such.jpg"])


def test_cli_export_then_search_prints_the_same_json_lines(embedded_joint, tmp_path, capsys, glove50d):
    store = f"local:{tmp_path / 'qdrant'}"
    assert main(["export", str(embedded_joint), "--store", store]) == 0
    assert "-joint" in capsys.readouterr().out
    image = SearchEngine(embedded_joint).images.records[3]["path"]
    query = ["--image", image, "--text", "dog on grass", "--json", "-k", "5"]
    assert main(["search", str(embedded_joint), *query]) == 0
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["search", str(embedded_joint), "--store", store, *query]) == 0
    stored = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    def paths(lines):
        return [(line["query"], line.get("ignored"), [r["path"] for r in line["results"]]) for line in lines]

    assert paths(stored) == paths(plain) and len(stored) == 2


def test_unknown_store_and_missing_collection_say_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="qdrant://HOST:PORT"):
        open_store("http://example.org")
    with pytest.raises(StoreError, match="imagesearch export"):
        QdrantSearch(tmp_path, open_store(":memory:"))


def test_cli_like_and_unlike_ask_the_stores_recommend_query(embedded_index, tmp_path, capsys):
    store = f"local:{tmp_path / 'qdrant'}"
    assert main(["export", str(embedded_index), "--store", store]) == 0
    records = SearchEngine(embedded_index).images.records
    like, unlike = records[0]["path"], records[60]["path"]
    capsys.readouterr()
    argv = ["search", str(embedded_index), "--store", store, "--like", like, "--unlike", unlike, "--json"]
    assert main(argv) == 0
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["like"] == [like] and line["unlike"] == [unlike] and len(line["results"]) == 10
    assert {like, unlike}.isdisjoint(r["path"] for r in line["results"])
    with pytest.raises(SystemExit, match="give a query"):  # likes steer a query of the index folder
        main(["search", str(embedded_index), "--like", like])
