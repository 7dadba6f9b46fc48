"""The search engine and its CLI on the embedded data set, with the real pretrained model."""

import json
import subprocess
import sys

import pytest
from PIL import Image, ImageOps

from imagesearch.cli import main
from imagesearch.datasets import load_embedded
from imagesearch.engine import SearchEngine
from imagesearch.focus import UnknownClassError
from imagesearch.images import side_by_side
from imagesearch.indexing import build_index
from imagesearch.metrics import leave_one_out_precision
from imagesearch.storage import ImageSearchError


@pytest.fixture(scope="module")
def engine(embedded_index):
    return SearchEngine(embedded_index)


def test_pretrained_features_find_the_same_class_far_above_chance(engine):
    labels = [item["label"] for item in engine.images.records]
    chance = 1 / len(set(labels))
    assert leave_one_out_precision(engine.images.vectors, labels, k=5) > 4 * chance


def test_search_an_indexed_image_by_path_without_running_the_cnn(engine):
    item = engine.images.records[0]
    results = engine.similar_images(item["path"], 5)
    assert len(results) == 5 and all(r.path != item["path"] for r in results)
    assert "image_model" not in engine.__dict__, "an indexed image must not load the CNN"
    assert results == engine.similar_images(0, 5)
    assert all(-1.0 <= r.score <= 1.0 for r in results)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_search_with_a_new_image_file(engine, tmp_path):
    item = engine.images.records[30]
    query = tmp_path / "mirrored.png"
    ImageOps.mirror(Image.open(item["path"]).convert("RGB")).save(query)
    results = engine.similar_images(query, 3)
    assert results[0].path == item["path"] and results[0].score > 0.9
    with pytest.raises(ImageSearchError, match="broken.jpg"):
        (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
        engine.similar_images(tmp_path / "broken.jpg", 3)


def test_focus_moves_results_toward_the_class(engine, tmp_path):
    items = engine.images.records
    by_label = {}
    for item in items:
        by_label.setdefault(item["label"], []).append(item["path"])
    pairs = [("cat", "clock"), ("dog", "car"), ("airplane", "apple")]
    gains = []
    for first, second in pairs:
        # a photo with two objects: the two images side by side
        query = side_by_side([by_label[first][0], by_label[second][0]], tmp_path / f"{first}-{second}.png")
        plain = engine.similar_images(query, 10)
        for target in (first, second):
            focused = engine.similar_images(query, 10, focus=target)
            before = sum(r.label == target for r in plain)
            after = sum(r.label == target for r in focused)
            gains.append(after - before)
    assert sum(gains) >= len(gains), gains  # on average at least one more result of the class
    with pytest.raises(UnknownClassError, match="no class 'zebra'.*known classes"):
        engine.similar_images(0, 5, focus="zebra")


def test_build_index_reuses_and_refuses_to_overwrite(embedded_index, shared_home, tmp_path):
    report = build_index(load_embedded(), embedded_index, progress=False)
    assert report.reused
    other = tmp_path / "other"
    subset = load_embedded().subset(range(24), name="small")
    build_index(subset, other, progress=False)
    before = (other / "images.json").read_bytes()
    with pytest.raises(ImageSearchError, match="--force"):
        build_index(load_embedded(), other, progress=False)
    assert (other / "images.json").read_bytes() == before


def test_cli_search_json_lines(embedded_index, capsys):
    items = SearchEngine(embedded_index).images.records
    queries = [items[0]["path"], items[50]["path"]]
    assert (
        main(
            ["search", str(embedded_index), "--image", queries[0], "--image", queries[1], "-k", "3", "--json"]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert [r["query"] for r in records] == queries
    first = records[0]["results"]
    assert [r["rank"] for r in first] == [1, 2, 3]
    assert set(first[0]) == {"rank", "path", "label", "score", "score_kind"}


def test_cli_queries_file_and_table(embedded_index, tmp_path, capsys):
    items = SearchEngine(embedded_index).images.records
    queries = tmp_path / "queries.txt"
    queries.write_text(f"{items[5]['path']}\n\n{items[70]['path']}\n")
    assert main(["search", str(embedded_index), "--queries", str(queries), "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("rank") == 2 and items[5]["path"] in out


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["search", str(tmp_path / "missing"), "--image", "x.jpg"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "python -m imagesearch index" in err[0]


def test_cli_bad_focus_and_bad_image(embedded_index, tmp_path, capsys):
    item = SearchEngine(embedded_index).images.records[0]
    assert main(["search", str(embedded_index), "--image", item["path"], "--focus", "zebra"]) == 1
    assert "zebra" in capsys.readouterr().err
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert main(["search", str(embedded_index), "--image", str(empty)]) == 1
    assert "empty.jpg" in capsys.readouterr().err


def test_cli_as_a_process(embedded_index):
    item = SearchEngine(embedded_index).images.records[3]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "imagesearch",
            "search",
            str(embedded_index),
            "--image",
            item["path"],
            "-k",
            "4",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert len(record["results"]) == 4
    bad = subprocess.run(
        [sys.executable, "-m", "imagesearch", "search", str(embedded_index)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode != 0 and "give a query" in bad.stderr


def test_demo_writes_a_contact_sheet(shared_home, tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    sheet = tmp_path / "demo" / "contact_sheet.png"
    assert sheet.exists() and str(sheet.resolve()) in out
    assert Image.open(sheet).size[0] > 600
    assert "results of the same class" in out


def test_queries_file_lines_are_images_by_suffix_or_prefix(embedded_index, tmp_path, capsys):
    from imagesearch.commands import query_line

    assert query_line("photos/cat.JPG") == ("image", "photos/cat.JPG")
    assert query_line("text: dog.jpg") == ("text", "dog.jpg")
    assert query_line("image: my photo") == ("image", "my photo")
    assert query_line("dog on a beach") == ("text", "dog on a beach")
    queries = tmp_path / "queries.txt"
    queries.write_text("# comment\nmissing/cat.jpg\n")
    with pytest.raises(SystemExit, match=r"queries.txt, line 2: image file missing/cat.jpg does not exist"):
        main(["search", str(embedded_index), "--queries", str(queries)])


def test_a_joint_index_out_of_step_with_the_images_is_a_clear_error(embedded_index, tmp_path):
    import shutil

    import numpy as np

    from imagesearch.index import EmbeddingIndex, IndexLoadError

    folder = tmp_path / "index"
    shutil.copytree(embedded_index, folder)
    joint = EmbeddingIndex.load(folder)  # stands in for the joint index, one row ahead
    joint.add(np.ones((1, joint.dim), np.float32), [{"path": "/new.jpg", "label": "x", "key": "x/new.jpg"}])
    joint.save(folder, "joint")
    with pytest.raises(IndexLoadError, match=r"joint index .* has 121 rows but the image index has 120.*add"):
        _ = SearchEngine(folder).joint_index
