"""The live search box, driven through its widgets without a browser, on the embedded data set."""
import datetime
import shutil
import threading
import time
from pathlib import Path

import pytest

from imagesearch.engine import SearchEngine
from imagesearch.index import Result
from imagesearch.widgets import NO_FOCUS, NO_IMAGE, Debouncer, SearchBox, focus_class, report_lines


class CountingEngine:
    """The real engine, counting text searches (to see what debouncing saves)."""

    def __init__(self, engine):
        self._engine = engine
        self.text_queries = []

    def text_search(self, text, k=10, **kwargs):
        self.text_queries.append(text)
        return self._engine.text_search(text, k, **kwargs)

    def __getattr__(self, name):
        return getattr(self._engine, name)


@pytest.fixture
def engine(embedded_joint, glove50d):
    return SearchEngine(embedded_joint)


@pytest.fixture
def box(engine):
    box = SearchBox(engine, debounce=0)
    yield box
    box.close()


def key_of(engine, label):
    return next(item["key"] for item in engine.images.items if item["label"] == label)


def upload(box, data: bytes, name="photo.jpg"):
    """What the browser's FileUpload sends, as ipywidgets 8 deserializes it."""
    box.upload.value = ({"name": name, "type": "image/jpeg", "size": len(data), "content": memoryview(data),
                         "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def test_words_show_results(box):
    assert box.message.startswith("Type words") and not box.grid.children
    box.text.value = "telephone"
    assert box.query.kind == "text" and box.query.value == "telephone"
    assert len(box.results) == box.k.value == len(box.grid.children)
    assert box.results[0].label == "telephone"
    assert sum(r.label == "telephone" for r in box.results) >= box.k.value // 2
    image, caption, _ = box._cells[0]
    assert bytes(image.value[:2]) == b"\xff\xd8"  # JPEG bytes of the thumbnail
    assert box.captions[0].startswith("1. telephone 0.") and "telephone/" in box.captions[0]
    assert "telephone" in box.message and box.message_kind == "info"
    assert box.tags == [] and box.tag_line.value == ""


def test_k_changes_the_number_of_thumbnails(box):
    box.text.value = "dog"
    for k in (3, 11, 5):
        box.k.value = k
        assert len(box.results) == len(box.grid.children) == k
    assert len(box._cells) == 11  # cells are reused, not piled up


def test_picked_image_shows_similar_images_and_tags(box, engine):
    box.text.value = "car"
    key = key_of(engine, "telephone")
    box.image.value = key
    assert box.query.kind == "image" and box.text.value == ""  # the words no longer apply
    assert len(box.grid.children) == box.k.value
    assert key not in [box.keys[r.item] for r in box.results]  # the query itself is left out
    assert sum(r.label == "telephone" for r in box.results) >= 2
    assert len(box.tags) == box.n_tags and box.tags[0].word in box.tag_line.value
    assert box.query_image.value and box.query_image.layout.display is None
    box.text.value = "cat"  # typing again switches back to words
    assert box.query.kind == "text" and box.image.value == NO_IMAGE and box.tags == []
    assert box.query_image.layout.display == "none"


def test_focus_class_changes_the_results(box, engine):
    assert box.focus.options[0] == NO_FOCUS and set(box.focus.options[1:]) == set(engine.class_weights.classes)
    box.image.value = key_of(engine, "cat")
    plain = [(r.item, round(r.score, 6)) for r in box.results]
    box.focus.value = "telephone"
    focused = [(r.item, round(r.score, 6)) for r in box.results]
    assert focused != plain and "focused on 'telephone'" in box.message
    assert box.results == engine.similar_images(box._rows[box.query.value], box.k.value, focus="telephone")
    box.focus.value = NO_FOCUS
    assert [(r.item, round(r.score, 6)) for r in box.results] == plain
    box.text.value = "cat"
    box.focus.value = "dog"
    assert "focus applies to image queries only" in box.message


def test_uploaded_image_finds_itself_and_similar_ones(box, engine):
    item = next(item for item in engine.images.items if item["label"] == "clock")
    upload(box, Path(item["path"]).read_bytes(), name="my clock.JPG")
    assert box.query.kind == "upload" and "my clock.JPG" in box.message
    assert box.upload.value == ()  # cleared, so that the same file can be uploaded again
    assert box.keys[box.results[0].item] == item["key"] and box.results[0].score > 0.99
    assert len(box.grid.children) == box.k.value and len(box.tags) == box.n_tags
    box.k.value = 4  # the uploaded file is still there for the new question
    assert len(box.results) == 4 and box.keys[box.results[0].item] == item["key"]


def test_unknown_words_say_so_and_show_nothing(box):
    box.text.value = "dog"
    box.text.value = "qqzzxq"
    assert box.results == [] and box.grid.children == ()
    assert box.message_kind == "error" and "Unknown word: 'qqzzxq'" in box.message
    assert "qqzzxq" in box.status.value
    box.text.value = "cat, qqzzxq!"
    assert len(box.results) == box.k.value and box.message_kind == "warning"
    assert "ignored: 'qqzzxq'" in box.message and "cat" in box.message


def test_package_errors_are_messages_not_traces(box, embedded_joint, tmp_path):
    upload(box, b"not an image at all", name="notes.txt")
    assert box.results == [] and box.message_kind == "error"
    assert box.message.startswith("Cannot read the uploaded 'notes.txt' as an image")
    box.text.value = "!!!"
    assert box.message_kind == "error" and "no words" in box.message
    shutil.copytree(embedded_joint, tmp_path / "index", ignore=shutil.ignore_patterns("joint*"))
    no_joint = SearchBox(SearchEngine(tmp_path / "index"), debounce=0)  # no joint model: no words
    try:
        no_joint.text.value = "cat"
        assert no_joint.results == [] and "train" in no_joint.message
        no_joint.image.value = no_joint.keys[0]  # image search works; tags say why they are missing
        assert len(no_joint.results) == no_joint.k.value and no_joint.tags == []
        assert "no tags" in no_joint.message
    finally:
        no_joint.close()


def test_rapid_typing_searches_once(engine):
    counting = CountingEngine(engine)
    box = SearchBox(counting, debounce=60)
    try:
        for prefix in ("t", "te", "tel", "tele", "telephone"):
            box.text.value = prefix
        assert counting.text_queries == [] and box.results == []
        assert box.flush() is True and box.flush() is False
        assert counting.text_queries == ["telephone"] and box.results[0].label == "telephone"
        box.text.value = "car"
        box.k.value = 3  # moving the slider while typed text waits answers that text, not the old one
        assert counting.text_queries == ["telephone", "car"] and len(box.results) == 3
        assert box.query.value == "car" and not box._debounced.pending
    finally:
        box.close()


def test_typing_pause_searches_in_the_background(engine):
    counting = CountingEngine(engine)
    box = SearchBox(counting, debounce=0.5)
    try:
        for prefix in ("c", "ca", "car"):
            box.text.value = prefix
        assert box._debounced.pending and counting.text_queries == []
        deadline = time.monotonic() + 30
        while not counting.text_queries and time.monotonic() < deadline:
            time.sleep(0.01)
        assert box.flush(timeout=30) is False  # the timer had started it: flush waits for it
        assert counting.text_queries == ["car"] and len(box.grid.children) == box.k.value
    finally:
        box.close()


def test_debouncer_keeps_only_the_last_call():
    calls = []
    done = threading.Event()
    debounced = Debouncer(lambda x: (calls.append(x), done.set()), delay=0.05)
    for x in range(5):
        debounced(x)
    assert done.wait(5) and calls == [4]
    time.sleep(0.1)
    assert calls == [4] and not debounced.pending
    debounced(7)
    debounced.cancel()
    time.sleep(0.1)
    assert calls == [4] and debounced.flush(timeout=1) is False
    now = Debouncer(calls.append, delay=0)
    now(9)
    assert calls == [4, 9]


def test_pure_helpers():
    assert focus_class(NO_FOCUS) is None and focus_class("cat") == "cat"
    results = [Result(1, 1, "/abs/path/b.jpg", "cat", 0.98765), Result(2, 0, "/abs/a.jpg", "tv monitor", 0.5)]
    lines = report_lines(results, ["tv_monitor/a.jpg", "cat/b.jpg"])
    assert lines == [" 1. cat/b.jpg         cat          0.988",
                     " 2. tv_monitor/a.jpg  tv monitor   0.500"]
