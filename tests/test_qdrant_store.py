"""The Qdrant store (local mode) answers like the exact search over the index folder."""

import json

import pytest

from imagesearch.cli import main
from imagesearch.engine import SearchEngine, UnknownItemError
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


def test_steering_ranks_alike_through_the_store_and_the_folder(embedded_joint, glove50d):
    """Likes, dislikes and words steer a store's query with the folder's own functions (steer.py)
    over the vectors read back from Qdrant: the same rows, the same scores, the same kinds."""
    client = open_store(":memory:")
    export_index(embedded_joint, client)
    store, engine = QdrantSearch(embedded_joint, client), SearchEngine(embedded_joint)
    records = engine.images.records
    image, like, unlike = records[3]["path"], records[10]["path"], records[70]["key"]
    asked = [
        ("similar_images", image, {"like": [like], "unlike": [unlike]}),
        ("similar_images", image, {"like": [like], "with_words": "on grass"}),
        ("similar_images", image, {"with_words": "on grass"}),
        ("similar_images", image, {"unlike": [unlike]}),
        ("text_search", "dog on grass", {"like": [like], "unlike": [unlike]}),
    ]
    for method, query, steer in asked:
        found = getattr(store, method)(query, 10, **steer)
        expected = getattr(engine, method)(query, 10, **steer)
        found, expected = getattr(found, "results", found), getattr(expected, "results", expected)
        assert rows(found) == rows(expected), (method, steer)
        assert [r.score_kind for r in found] == [r.score_kind for r in expected]
        assert [r.score for r in found] == pytest.approx([r.score for r in expected], abs=1e-3)
    assert rows(found) != rows(store.text_search("dog on grass", 10).results)  # steering moved it
    with pytest.raises(UnknownItemError, match="'no/such.jpg' is not in the index"):
        store.similar_images(image, like=["no/such.jpg"])


def test_cli_search_with_a_store_takes_like_unlike_and_with(embedded_joint, tmp_path, capsys, glove50d):
    store = f"local:{tmp_path / 'qdrant'}"
    assert main(["export", str(embedded_joint), "--store", store]) == 0
    records = SearchEngine(embedded_joint).images.records
    image, like, unlike = records[3]["path"], records[0]["path"], records[60]["path"]
    steer = ["--image", image, "--text", "dog", "--like", like, "--unlike", unlike, "--json"]
    for query in (steer, ["--image", image, "--with", "on grass", "--json"]):
        capsys.readouterr()
        assert main(["search", str(embedded_joint), *query]) == 0
        plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert main(["search", str(embedded_joint), "--store", store, *query]) == 0
        stored = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [[r["path"] for r in line["results"]] for line in stored] == [
            [r["path"] for r in line["results"]] for line in plain
        ]
        assert [{k: v for k, v in line.items() if k != "results"} for line in stored] == [
            {k: v for k, v in line.items() if k != "results"} for line in plain
        ]
    assert plain[0]["with"] == "on grass" and stored[0]["results"][0]["score_kind"] == "cosine"
    for route in ([], ["--store", store]):  # likes steer a query, on both routes
        with pytest.raises(SystemExit, match="give a query"):
            main(["search", str(embedded_joint), *route, "--like", like])


def small_index(folder, seed: int, n: int = 30):
    import numpy as np

    from imagesearch.index import EmbeddingIndex

    vectors = np.random.default_rng(seed).standard_normal((n, 8)).astype(np.float32)
    items = [{"path": f"/{seed}/{i}.jpg", "label": "x", "key": f"{seed}/{i}"} for i in range(n)]
    EmbeddingIndex.build(vectors, items, model="m", n_trees=2).save(folder)
    return vectors


def test_folders_of_the_same_name_get_their_own_collections(tmp_path):
    client = open_store(":memory:")
    first, second = tmp_path / "a" / "photos", tmp_path / "b" / "photos"
    small_index(first, 1), small_index(second, 2)
    assert export_index(first, client).keys().isdisjoint(export_index(second, client))
    for folder, seed in ((first, 1), (second, 2)):
        store = QdrantSearch(folder, client)
        assert store.images.startswith("photos-") and store.query(store.images, [1] * 8, 3)[
            0
        ].path.startswith(f"/{seed}/")


def test_a_re_export_swaps_in_a_complete_copy_and_an_interrupted_one_changes_nothing(tmp_path, monkeypatch):
    client = open_store(f"local:{tmp_path / 'qdrant'}")
    folder = tmp_path / "photos"
    vectors = small_index(folder, 1)
    export_index(folder, client)
    store = QdrantSearch(folder, client)
    assert store.query(store.images, vectors[4], 1)[0].path == "/1/4.jpg"
    vectors = small_index(folder, 3, n=40)  # the folder's index is rebuilt

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    upsert = client.upsert
    calls = []
    monkeypatch.setattr(client, "upsert", lambda *a, **k: calls.append(1) or crash())
    with pytest.raises(KeyboardInterrupt):
        export_index(folder, client)
    assert calls and store.query(store.images, [0] * 7 + [1], 40)[0].path.startswith("/1/")  # the old copy
    assert client.count(store.images).count == 30
    monkeypatch.setattr(client, "upsert", upsert)
    assert export_index(folder, client) == {store.images: 40}
    assert (
        client.count(store.images).count == 40
        and store.query(store.images, vectors[4], 1)[0].path == "/3/4.jpg"
    )
    assert len(client.get_collections().collections) == 1  # the old copy and the interrupted one dropped


def test_the_alias_comes_from_the_index_not_the_path_on_this_machine(embedded_index, store, tmp_path):
    import shutil

    from imagesearch.qdrant_store import collection_name

    moved = tmp_path / "another-host" / embedded_index.name
    shutil.copytree(embedded_index, moved)  # the folder as another machine (or a move) sees it
    elsewhere = QdrantSearch(moved, store.client)  # finds what was exported from the original
    assert elsewhere.images == store.images
    assert rows(elsewhere.query(elsewhere.images, SearchEngine(moved).images.vectors[3], 5))[0] == 3
    other = tmp_path / "same-name" / embedded_index.name  # another index in a folder of the same name
    shutil.copytree(embedded_index, other)
    meta = json.loads((other / "images.json").read_text())
    assert len(meta["collection_id"]) == 32  # written at build time
    meta["collection_id"] = "0" * 32
    (other / "images.json").write_text(json.dumps(meta))
    assert collection_name(other, "images") != store.images
