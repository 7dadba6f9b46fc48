"""The search box view: its widgets forward events to the session and render its answers.

The search logic itself is tested without widgets in test_session.py.
"""

import datetime
from pathlib import Path

import pytest
from helpers import key_of

from imagesearch.session import HINT, Query
from imagesearch.widgets import NO_FOCUS, NO_IMAGE, SearchBox, focus_class


class CountingEngine:
    """The real engine, counting text searches (to see what each keystroke would cost)."""

    def __init__(self, engine):
        self._engine = engine
        self.text_queries = []

    def text_search(self, text, k=10, **kwargs):
        self.text_queries.append(text)
        return self._engine.text_search(text, k, **kwargs)

    def __getattr__(self, name):
        return getattr(self._engine, name)


@pytest.fixture
def box(engine):
    box = SearchBox(engine)
    yield box
    box.close()


def upload(box, data: bytes, name="photo.jpg"):
    """What the browser's FileUpload sends, as ipywidgets 8 deserializes it."""
    box.upload.value = (
        {
            "name": name,
            "type": "image/jpeg",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.UTC),
        },
    )


def test_words_show_thumbnails_and_captions(box):
    assert box.message == HINT and not box.grid.children and HINT in box.status.value
    box.text.value = "telephone"
    assert box.query == Query(text="telephone") and box.results == box.session.answer.results
    assert len(box.results) == box.k.value == len(box.grid.children)
    image, caption, _, _ = box._cells[0]
    assert bytes(image.value[:2]) == b"\xff\xd8"  # JPEG bytes of the thumbnail
    assert box.captions[0].startswith("1. telephone 0.") and "telephone/" in box.captions[0]
    assert "for &#x27;telephone&#x27;" in box.status.value and box.tag_line.value == ""
    assert box.report().splitlines()[:2] == ["8 images for 'telephone'", "    scores: cosine in word space"]


def test_text_box_searches_on_enter_not_per_keystroke(engine):
    counting = CountingEngine(engine)
    box = SearchBox(counting)
    try:
        # The browser sends the value only on Enter or blur: one search for the whole query.
        assert box.text.continuous_update is False
        box.text.value = "telephone"
        assert counting.text_queries == ["telephone"]
    finally:
        box.close()


def test_k_slider_asks_again_and_reuses_cells(box):
    box.text.value = "dog"
    for k in (3, 11, 5):
        box.k.value = k
        assert box.query.k == k and len(box.results) == len(box.grid.children) == k
    assert len(box._cells) == 11  # cells are reused, not piled up


def test_picked_image_clears_the_words_and_shows_tags(box, engine):
    box.text.value = "car"
    key = key_of(engine, "telephone")
    box.image.value = key
    assert box.query == Query(image=key) and box.text.value == ""  # the words no longer apply
    assert len(box.grid.children) == box.k.value
    assert len(box.tags) == box.session.n_tags and box.tags[0].word in box.tag_line.value
    assert box.query_image.value and box.query_image.layout.display is None
    box.text.value = "cat"  # typing again switches back to words
    assert box.query == Query(text="cat") and box.image.value == NO_IMAGE and box.tags == []
    assert box.query_image.layout.display == "none"


def test_focus_dropdown_is_forwarded(box, engine):
    assert box.focus.options[0] == NO_FOCUS and set(box.focus.options[1:]) == set(
        engine.class_weights.classes
    )
    box.image.value = key_of(engine, "cat")
    box.focus.value = "telephone"
    assert box.query.focus == "telephone" and "focused on &#x27;telephone&#x27;" in box.status.value
    box.focus.value = NO_FOCUS
    assert box.query.focus is None


def test_upload_button_is_forwarded_and_cleared(box, engine):
    item = next(item for item in engine.images.records if item["label"] == "clock")
    upload(box, Path(item["path"]).read_bytes(), name="my clock.JPG")
    assert box.query == Query(upload="my clock.JPG") and box.upload.value == ()  # same file again counts
    assert box.keys[box.results[0].row] == item["key"] and len(box.grid.children) == box.k.value
    assert box.query_image.layout.display is None


def test_errors_show_in_the_status_line(box):
    box.text.value = "dog"
    box.text.value = "qqzzxq"
    assert box.grid.children == () and box.level == "error"
    assert "imagesearch-error" in box.status.value and "qqzzxq" in box.status.value


def test_focus_class():
    assert focus_class(NO_FOCUS) is None and focus_class("") is None and focus_class("cat") == "cat"


def test_result_toggles_like_and_unlike(box, engine):
    box.image.value = key_of(engine, "telephone")
    assert box.refine.disabled is False and box._cells[0][2].value == ""
    first = box.keys[box.results[0].row]
    box.mark(0, "like")
    assert box.query.liked == {first} and box._cells[0][2].value == "like"
    assert box.keys[box.results[0].row] == first  # the liked result stays on top, toggled
    last = box.keys[box.results[-1].row]
    box.mark(len(box.results) - 1, "unlike")
    assert box.query.disliked == {last} and "1 liked, 1 disliked" in box.message
    box.refine.value = "dog"
    assert box.query.text == "dog" and box.query.image is not None and box.query.liked == {first}
    box.text.value = "cat"  # new words: a new question, no marks, nothing to refine
    assert box.query == Query(text="cat") and box.refine.disabled


def test_marks_read_in_full_and_each_result_shows_its_state_and_score_kind(box, engine):
    from imagesearch.widgets import MARK_TOOLTIPS, MARKS

    assert [label for label, _ in MARKS] == ["none", "like", "unlike"]
    assert len(MARK_TOOLTIPS) == 3 and all(MARK_TOOLTIPS)
    box.image.value = key_of(engine, "telephone")
    toggle = box._cells[0][2]
    assert list(toggle.tooltips) == MARK_TOOLTIPS and toggle.style.button_width == "auto"
    assert "scores: cosine" in box.score_line.value
    assert not any("liked" in caption for caption in box.captions)
    box.mark(0, "like")
    box.mark(len(box.results) - 1, "unlike")
    assert box.captions[0].endswith("liked") and box._cells[0][3].layout.border.startswith(
        "3px solid #1a7f37"
    )
    assert "steering score" in box.score_line.value
    marked = [box.session.verdict(box.keys[r.row]) for r in box.results]  # a disliked one may sink out
    assert sum(caption.endswith(("liked", "disliked")) for caption in box.captions) == sum(
        m is not None for m in marked
    )
    framed = ["transparent" not in cell[3].layout.border for cell in box._cells[: len(box.results)]]
    assert framed == [m is not None for m in marked]


def test_cards_say_how_many_near_duplicates_each_result_has(box, engine):
    """Clip-art TVs drawn alike are near duplicates at the default threshold: their cards say
    "n similar", counted here by brute force; a card with none says nothing."""
    import numpy as np

    from imagesearch.duplicates import DEFAULT_THRESHOLD

    unit = engine.images.vectors / np.linalg.norm(engine.images.vectors, axis=1, keepdims=True)
    expected = ((unit @ unit.T) >= DEFAULT_THRESHOLD).sum(axis=1) - 1
    box.image.value = next(key for key in box.keys if key.endswith("flat_tv.jpg"))
    counts = [int(expected[r.row]) for r in box.results]
    assert max(counts) >= 1 and 0 in counts  # both kinds of card are shown
    for caption, count in zip(box.captions, counts):
        assert caption.endswith(f"{count} similar") if count else "similar" not in caption
    box.mark(0, "like")
    assert box.captions[0].endswith("liked") and ("similar" in box.captions[0]) == (
        expected[box.results[0].row] > 0
    )


def test_caption_html_similar_line():
    from imagesearch.cards import caption_html
    from imagesearch.index import Result

    result = Result(rank=1, row=0, score=0.5, label="cat", path="cat/a.jpg")
    assert "similar" not in caption_html(result, "cat/a.jpg")
    assert ">3 similar</span>" in caption_html(result, "cat/a.jpg", similar=3)
