"""imagesearch.datasets: folder data sets, the Pascal Sentences index, and fetching over real HTTP.

IMAGESEARCH_HOME is already a private tmp folder for every test (autouse `isolated_cache` in
conftest.py), so nothing here touches the user's cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers import LoopbackServer
from PIL import Image

from imagesearch import datasets
from imagesearch.datasets import (
    DatasetError,
    class_to_label,
    fetch_pascal_sentences,
    load_folder,
    load_pascal_sentences,
    parse_pascal_index,
)
from imagesearch.storage import ImageSearchError


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_image(path: Path, colour=(120, 60, 30), size=(16, 12), fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format=fmt)
    return path


# --- load_folder --------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    """tv monitors, a potted plant and two cats; file names deliberately not in creation order."""
    root = tmp_path / "photos"
    save_image(root / "tvmonitor" / "b.jpg")
    save_image(root / "tvmonitor" / "a.png")
    save_image(root / "tvb" / "x.png")  # folder sorts before tvmonitor, label after
    save_image(root / "potted_plant" / "p1.JPG", fmt="JPEG")
    save_image(root / "cat" / "zz.gif")
    save_image(root / "cat" / "m.webp")
    return root


def test_load_folder_items_sorted_by_label_then_file_name(folder):
    data = load_folder(folder)
    assert data.name == "photos" and data.root == folder
    assert [(item.label, item.path.name) for item in data] == [
        ("cat", "m.webp"),
        ("cat", "zz.gif"),
        ("potted plant", "p1.JPG"),
        ("tv monitor", "a.png"),
        ("tv monitor", "b.jpg"),
        ("tvb", "x.png"),
    ]
    assert len(data) == 6
    assert data[2].path == folder / "potted_plant" / "p1.JPG"
    assert data[2].key == "potted_plant/p1.JPG"
    assert data.paths == [item.path for item in data.items]
    assert data.labels == ["cat", "cat", "potted plant", "tv monitor", "tv monitor", "tvb"]
    assert data.classes == ["cat", "potted plant", "tv monitor", "tvb"]
    assert all(item.captions == () for item in data)
    assert data.ignored == ()
    assert load_folder(folder, name="mine").name == "mine"
    assert load_folder(str(folder)).items == data.items


def test_load_folder_attaches_captions(folder):
    (folder / "captions.json").write_text(
        json.dumps(
            {
                "cat/zz.gif": ["A cat sleeps.", "A striped cat."],
                "potted_plant/p1.JPG": ["A green plant in a pot."],
                "dog/none.jpg": ["no such image: harmless"],
            }
        ),
        encoding="utf-8",
    )
    data = load_folder(folder)
    by_key = {item.key: item for item in data}
    assert by_key["cat/zz.gif"].captions == ("A cat sleeps.", "A striped cat.")
    assert by_key["potted_plant/p1.JPG"].captions == ("A green plant in a pot.",)
    assert by_key["cat/m.webp"].captions == ()
    assert len(data) == 6  # captions.json itself is not an item or a class


def test_non_images_are_ignored_with_a_warning_and_hidden_files_skipped(folder):
    (folder / "cat" / "notes.txt").write_text("not an image")
    (folder / "cat" / "raw").mkdir()
    (folder / "cat" / ".DS_Store").write_bytes(b"\0\0")
    save_image(folder / "cat" / ".hidden.png")
    save_image(folder / ".thumbnails" / "t.png")
    (folder / "README.md").write_text("top-level files are not classes")
    with pytest.warns(UserWarning, match="2 files .* not images") as record:
        data = load_folder(folder)
    assert str(folder) in str(record[0].message)
    assert sorted(data.ignored) == [folder / "cat" / "notes.txt", folder / "cat" / "raw"]
    assert len(data) == 6
    assert not any(part.startswith(".") for item in data for part in item.path.parts[-2:])
    assert ".thumbnails" not in {item.path.parent.name for item in data}


def test_no_warning_without_ignored_files(folder, recwarn):
    load_folder(folder)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_empty_and_missing_folders_are_errors_naming_the_path(tmp_path):
    with pytest.raises(DatasetError, match="does not exist") as info:
        load_folder(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)
    assert isinstance(info.value, ImageSearchError)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError) as info:
        load_folder(empty)
    assert str(empty) in str(info.value) and "no images" in str(info.value)

    (empty / "cat").mkdir()  # a class folder with no images in it is still no data set
    (empty / "loose.jpg").write_bytes(b"")  # images must be in class folders
    with pytest.raises(DatasetError, match="no images"):
        load_folder(empty)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        b"\xff\xfe\x00garbage",
        '["a list", "not a mapping"]',
        '{"cat/zz.gif": "one sentence, not a list"}',
        '{"cat/zz.gif": [1, 2]}',
    ],
)
def test_invalid_captions_json_is_a_clear_error_naming_the_file(folder, content):
    captions = folder / "captions.json"
    if isinstance(content, bytes):
        captions.write_bytes(content)
    else:
        captions.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_folder(folder)
    assert str(captions) in str(info.value)


def test_content_hash_follows_the_bytes(folder):
    first = load_folder(folder).content_hash
    assert len(first) == 64 and int(first, 16) >= 0
    assert load_folder(folder).content_hash == first, "stable across loads"
    target = folder / "cat" / "zz.gif"
    original = target.read_bytes()
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    target.write_bytes(bytes(changed))
    assert load_folder(folder).content_hash != first, "one flipped bit in one image changes the hash"
    target.write_bytes(original)
    assert load_folder(folder).content_hash == first


def test_content_hash_follows_captions_and_labels(folder):
    first = load_folder(folder).content_hash
    (folder / "captions.json").write_text(json.dumps({"cat/zz.gif": ["A cat."]}))
    with_captions = load_folder(folder).content_hash
    assert with_captions != first
    (folder / "tvb").rename(folder / "tv_b")  # same bytes, other label and key
    assert load_folder(folder).content_hash not in (first, with_captions)


def test_subset_and_find(folder):
    data = load_folder(folder)
    part = data.subset([4, 0])
    assert [item.path.name for item in part] == ["b.jpg", "m.webp"]
    assert part.root == data.root and part.name == "photos-subset2"
    assert data.subset([1], name="one").name == "one"
    assert part.content_hash != data.content_hash
    assert data.subset(range(len(data))).content_hash == data.content_hash

    assert data.find(folder / "tvmonitor" / "b.jpg") == 4
    assert data.find(str(folder / "cat" / "m.webp")) == 0
    assert data.find(folder / "cat" / ".." / "cat" / "zz.gif") == 1  # resolved
    assert data.find(folder / "cat" / "nope.jpg") is None
    assert part.find(folder / "tvmonitor" / "b.jpg") == 0
    assert part.find(folder / "cat" / "zz.gif") is None


# --- class_to_label and the Pascal index ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, label",
    [
        ("diningtable", "dining table"),
        ("pottedplant", "potted plant"),
        ("tvmonitor", "tv monitor"),
        ("potted_plant", "potted plant"),
        ("aeroplane", "aeroplane"),
        ("cat", "cat"),
        ("golden_retriever", "golden retriever"),
    ],
)
def test_class_to_label(name, label):
    assert class_to_label(name) == label


PAGE = """<html>
<body>
The image captions are released under a <a href=" http://creativecommons.org/licenses/by/3.0/">license</a>.<br>
<table>
<tr>
<td><img src="aeroplane/2008_000716.jpg"></td>
<td><table>
<tr><td> One jet lands at an airport while another takes off next to it.</td></tr>
<tr><td> Two airplanes   parked
 in an airport.</td></tr>
<tr><td> two passenger planes on a grassy plain </td></tr>
</table></td>
</tr>
<tr>
<td><img src="diningtable/2008_000043.jpg"></td>
<td><table>
<tr><td> A black &amp; white photo &quot;of&quot; a table.</td></tr>
<tr><td> A white & tan table.</td></tr>
</table></td>
</tr>
<tr>
<td><img src="cat/2008_000116.jpg"></td>
<td><table>
<tr><td> A cat.</td></tr>
</table></td>
</tr>
</table>
</body>
</html>
"""


def test_parse_pascal_index():
    rows = parse_pascal_index(PAGE)
    assert list(rows) == ["aeroplane/2008_000716.jpg", "diningtable/2008_000043.jpg", "cat/2008_000116.jpg"]
    assert rows["aeroplane/2008_000716.jpg"] == (
        "One jet lands at an airport while another takes off next to it.",
        "Two airplanes parked in an airport.",
        "two passenger planes on a grassy plain",
    )
    assert rows["diningtable/2008_000043.jpg"] == (
        'A black & white photo "of" a table.',
        "A white & tan table.",
    )
    assert rows["cat/2008_000116.jpg"] == ("A cat.",)
    assert parse_pascal_index("<html>no rows</html>") == {}


# --- fetch_pascal_sentences over real loopback HTTP -------------------------------------------------


class Site:
    """A small synthetic Pascal Sentences site in a folder, and its manifest."""

    def __init__(self, root: Path):
        self.root = root
        rng = np.random.default_rng(0)
        self.images = [
            "cat/2008_000001.jpg",
            "cat/2008_000002.jpg",
            "diningtable/2008_000003.jpg",
            "pottedplant/2008_000004.jpg",
            "tvmonitor/2008_000005.jpg",
        ]
        rows = []
        for number, rel in enumerate(self.images):
            pixels = rng.integers(0, 256, (24 + number, 32, 3), dtype=np.uint8)
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / rel, quality=90)
            captions = "".join(f"<tr><td> caption {k} of {rel} </td></tr>\n" for k in range(1 + number % 3))
            rows.append(f'<tr>\n<td><img src="{rel}"></td>\n<td><table>\n{captions}</table></td>\n</tr>\n')
        (root / "index.html").write_text(
            "<html>\n<body>\n<table>\n" + "".join(rows) + "</table>\n</body>\n</html>\n"
        )
        self.relpaths = ["index.html", *self.images]
        self.manifest = {rel: sha256(root / rel) for rel in self.relpaths}

    def corrupt(self, rel: str) -> None:
        data = bytearray((self.root / rel).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (self.root / rel).write_bytes(bytes(data))


@pytest.fixture
def no_proxy(monkeypatch):
    """Loopback must never go through a proxy configured in the environment."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))


@pytest.fixture
def site(tmp_path) -> Site:
    return Site(tmp_path / "site")


@pytest.fixture(params=["http", "folder", "file-url"])
def source(request, site, no_proxy):
    """The same site as an http:// URL, a local folder, and a file:// URL; `.requests` for http."""
    if request.param == "http":
        server = LoopbackServer(site.root)
        request.addfinalizer(server.close)
        return Source(server.url, server.requests)
    if request.param == "folder":
        return Source(str(site.root), None)
    return Source(site.root.as_uri(), None)


class Source(str):
    def __new__(cls, value: str, requests: list[str] | None):
        text = super().__new__(cls, value)
        text.requests = requests
        return text


def fetch(site: Site, source: str, dest: Path, **kwargs) -> Path:
    return fetch_pascal_sentences(str(source), dest, progress=False, manifest=site.manifest, **kwargs)


def listing(dest: Path) -> list[str]:
    """Every file under dest, hidden and temporary ones included."""
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())


def test_fetch_brings_every_file_and_they_match(site, source, tmp_path):
    dest = tmp_path / "dest"
    assert fetch(site, source, dest) == dest
    assert listing(dest) == sorted(site.relpaths)
    for rel in site.relpaths:
        assert (dest / rel).read_bytes() == (site.root / rel).read_bytes()
    if source.requests is not None:
        assert sorted(source.requests) == sorted(site.relpaths)


def test_a_rerun_fetches_nothing(site, source, tmp_path):
    dest = tmp_path / "dest"
    fetch(site, source, dest)
    before = {rel: (dest / rel).stat().st_mtime_ns for rel in site.relpaths}
    inodes = {rel: (dest / rel).stat().st_ino for rel in site.relpaths}
    if source.requests is not None:
        source.requests.clear()
    time.sleep(0.01)
    fetch(site, source, dest)
    assert {rel: (dest / rel).stat().st_mtime_ns for rel in site.relpaths} == before
    assert {rel: (dest / rel).stat().st_ino for rel in site.relpaths} == inodes
    if source.requests is not None:
        assert source.requests == []


def test_a_corrupt_file_on_the_server_is_named_and_never_lands(site, source, tmp_path):
    bad = "diningtable/2008_000003.jpg"
    site.corrupt(bad)
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError) as info:
        fetch(site, source, dest)
    message = str(info.value)
    assert bad in message and "SHA-256" in message
    assert "1 of 6" in message
    assert str(dest) in message
    assert not (dest / bad).exists(), "a file that failed its check must not sit under its final name"
    # the valid files were kept, and nothing else (no temporary leftovers)
    assert listing(dest) == sorted(rel for rel in site.relpaths if rel != bad)
    for rel in site.relpaths:
        if rel != bad:
            assert sha256(dest / rel) == site.manifest[rel]


def test_after_a_failure_a_rerun_fetches_only_what_is_missing(site, source, tmp_path):
    bad = "cat/2008_000002.jpg"
    good_bytes = (site.root / bad).read_bytes()
    site.corrupt(bad)
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError):
        fetch(site, source, dest)
    (site.root / bad).write_bytes(good_bytes)  # the server is repaired
    if source.requests is not None:
        source.requests.clear()
    fetch(site, source, dest)
    assert listing(dest) == sorted(site.relpaths)
    assert (dest / bad).read_bytes() == good_bytes
    if source.requests is not None:
        assert source.requests == [bad]


def test_a_missing_file_on_the_server_is_named(site, source, tmp_path):
    gone = "pottedplant/2008_000004.jpg"
    (site.root / gone).unlink()
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError) as info:
        fetch(site, source, dest)
    assert gone in str(info.value)
    if source.startswith("http"):
        assert "404" in str(info.value)
    assert not (dest / gone).exists()
    assert listing(dest) == sorted(rel for rel in site.relpaths if rel != gone)


def test_many_errors_are_summarised(site, source, tmp_path):
    for rel in site.images:
        (site.root / rel).unlink()
    with pytest.raises(DatasetError, match="5 of 6") as info:
        fetch(site, source, tmp_path / "dest")
    for rel in site.images:
        assert rel in str(info.value)


def test_a_corrupt_local_copy_is_fetched_again(site, source, tmp_path):
    dest = tmp_path / "dest"
    fetch(site, source, dest)
    victim = "tvmonitor/2008_000005.jpg"
    (dest / victim).write_bytes((dest / victim).read_bytes()[:100])  # e.g. cut off by a crash
    untouched = {rel: (dest / rel).stat().st_mtime_ns for rel in site.relpaths if rel != victim}
    if source.requests is not None:
        source.requests.clear()
    fetch(site, source, dest)
    assert sha256(dest / victim) == site.manifest[victim]
    assert {rel: (dest / rel).stat().st_mtime_ns for rel in untouched} == untouched
    if source.requests is not None:
        assert source.requests == [victim]


def test_source_comes_from_the_environment(site, tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.PASCAL_SOURCE_ENV, str(site.root))
    dest = fetch_pascal_sentences(None, tmp_path / "dest", progress=False, manifest=site.manifest)
    assert listing(dest) == sorted(site.relpaths)


def test_default_destination_is_the_cache(site, tmp_path):
    dest = fetch_pascal_sentences(str(site.root), progress=False, manifest=site.manifest)
    assert dest == Path(os.environ["IMAGESEARCH_HOME"]) / "datasets" / "pascal-sentences"
    assert listing(dest) == sorted(site.relpaths)


def test_unreachable_server_is_an_error_naming_files(site, tmp_path, no_proxy):
    server = LoopbackServer(site.root)
    url = server.url
    server.close()  # nothing listens on that port any more
    with pytest.raises(DatasetError) as info:
        fetch(site, url, tmp_path / "dest", workers=2)
    assert "index.html" in str(info.value) and "6 of 6" in str(info.value)


def test_fetched_site_loads_as_a_dataset(site, source, tmp_path, monkeypatch):
    """load_pascal_sentences on a fetched synthetic site, with a matching data folder manifest."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "pascal-sentences.sha256").write_text(
        "".join(f"{digest}  {rel}\n" for rel, digest in site.manifest.items())
    )
    monkeypatch.setenv("IMAGESEARCH_DATA", str(data))
    assert datasets.pascal_manifest() == site.manifest
    dest = tmp_path / "dest"
    loaded = load_pascal_sentences(dest, source=str(source), progress=False)  # fetches first
    assert listing(dest) == sorted(site.relpaths)
    assert [item.key for item in loaded] == [
        "cat/2008_000001.jpg",
        "cat/2008_000002.jpg",
        "diningtable/2008_000003.jpg",
        "pottedplant/2008_000004.jpg",
        "tvmonitor/2008_000005.jpg",
    ]
    assert loaded.labels == ["cat", "cat", "dining table", "potted plant", "tv monitor"]
    assert [len(item.captions) for item in loaded] == [1, 2, 3, 1, 2]
    assert loaded[1].captions == ("caption 0 of cat/2008_000002.jpg", "caption 1 of cat/2008_000002.jpg")
    (dest / "cat/2008_000002.jpg").unlink()
    with pytest.raises(DatasetError, match="cat/2008_000002.jpg"):
        load_pascal_sentences(dest, fetch=False)
    (dest / "index.html").unlink()
    with pytest.raises(DatasetError, match="index.html"):
        load_pascal_sentences(dest, fetch=False)


# --- the real Pascal Sentences mirror (CI only) ----------------------------------------------------


def pascal_mirror() -> Path | None:
    configured = os.environ.get(datasets.PASCAL_SOURCE_ENV)
    if configured and Path(configured).is_dir():
        return Path(configured)
    beside_repo = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "pascal-sentences"
    return beside_repo if beside_repo.is_dir() else None


@pytest.mark.pascal
def test_real_pascal_sentences_over_http(tmp_path, no_proxy):
    mirror = pascal_mirror()
    if mirror is None:
        pytest.skip(
            f"no Pascal Sentences mirror: set {datasets.PASCAL_SOURCE_ENV} to a folder, or put "
            "it in ../shared/datasets/pascal-sentences beside the repository"
        )
    manifest = datasets.pascal_manifest()
    assert len(manifest) == 1001 and "index.html" in manifest
    server = LoopbackServer(mirror)
    try:
        started = time.perf_counter()
        dest = fetch_pascal_sentences(server.url, tmp_path / "pascal", progress=False, workers=16)
        elapsed = time.perf_counter() - started
    finally:
        server.close()
    assert sorted(server.requests) == sorted(manifest)
    assert listing(dest) == sorted(manifest)
    assert elapsed < 60, f"fetching over loopback took {elapsed:.0f} s"

    data = load_pascal_sentences(dest, fetch=False)
    assert len(data) == 1000
    counts = Counter(data.labels)
    assert len(counts) == 20 and set(counts.values()) == {50}
    assert {"dining table", "potted plant", "tv monitor", "aeroplane", "cat"} <= set(counts)
    assert not {"diningtable", "pottedplant", "tvmonitor"} & set(counts)
    assert Counter(len(item.captions) for item in data) == {5: 996, 4: 3, 6: 1}
    assert all(
        caption and caption == caption.strip() and "  " not in caption
        for item in data
        for caption in item.captions
    )
    assert data.labels == sorted(data.labels)
    assert data[0].key == "aeroplane/2008_000716.jpg"
    assert data[0].captions[0] == "One jet lands at an airport while another takes off next to it."
