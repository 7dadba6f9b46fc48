"""The search session without widgets: queries in, answers out, on the embedded data set."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import key_of

from imagesearch.engine import SearchEngine
from imagesearch.index import Result
from imagesearch.session import HINT, Answer, Query, SearchSession, report_lines, upload_suffix


@pytest.fixture
def session(engine):
    session = SearchSession(engine)
    yield session
    session.close()


def test_words_answer_with_results(session):
    assert session.answer == Answer(Query()) and session.answer.message == HINT
    answer = session.search_text("telephone")
    assert answer is session.answer and session.query == Query(text="telephone")
    assert session.query.kind == "text" and session.query.value == "telephone"
    assert len(answer.results) == 8 and answer.results[0].label == "telephone"
    assert sum(r.label == "telephone" for r in answer.results) >= 4
    assert answer.message == "8 images for 'telephone'" and answer.level == "info"
    assert answer.tags == [] and answer.query_path is None
    assert session.search_text("   ").message == HINT and session.query.kind is None


def test_settings_ask_the_same_question_again(session, engine):
    session.search_text("dog")
    for k in (3, 11, 5):
        assert len(session.change(k=k).results) == k
    assert session.query == Query(text="dog", k=5)
    with pytest.raises(TypeError):
        session.change(colour="red")  # not a setting: a bug in the caller, not a message


def test_image_query_replaces_words_and_has_tags(session, engine):
    session.search_text("car")
    key = key_of(engine, "telephone")
    answer = session.search_image(key)
    assert session.query == Query(image=key) and session.query.kind == "image"
    assert key not in [session.keys[r.row] for r in answer.results]  # the query itself is left out
    assert sum(r.label == "telephone" for r in answer.results) >= 2
    assert len(answer.tags) == session.n_tags and answer.message.startswith(f"8 images like {key}")
    assert answer.query_path == engine.images.records[session.rows[key]]["path"]
    assert session.search_text("cat").query == Query(text="cat")  # words replace the image


def test_focus_changes_image_results_and_is_noted_for_words(session, engine):
    plain = session.search_image(key_of(engine, "cat")).results
    focused = session.change(focus="telephone")
    assert focused.results != plain and "focused on 'telephone'" in focused.message
    assert focused.results == engine.similar_images(session.rows[session.query.image], 8, focus="telephone")
    assert session.change(focus=None).results == plain
    session.search_text("cat")
    assert session.query.focus is None
    assert "focus applies to image queries only" in session.change(focus="dog").message


def test_upload_finds_itself_and_stays_for_new_settings(session, engine):
    item = next(item for item in engine.images.records if item["label"] == "clock")
    answer = session.search_upload("my clock.JPG", Path(item["path"]).read_bytes())
    assert session.query == Query(upload="my clock.JPG") and "'my clock.JPG'" in answer.message
    assert session.keys[answer.results[0].row] == item["key"] and answer.results[0].score > 0.99
    assert len(answer.tags) == session.n_tags and Path(answer.query_path).suffix == ".jpg"
    again = session.change(k=4)  # the uploaded file is still there for the new question
    assert len(again.results) == 4 and session.keys[again.results[0].row] == item["key"]
    folder = Path(answer.query_path).parent
    session.search_upload("second.png", Path(item["path"]).read_bytes())
    assert [p.name for p in folder.iterdir()] == ["upload-2.png"]  # the first upload is removed
    session.close()
    assert not folder.exists()


def test_unknown_words_are_named(session):
    session.search_text("dog")
    answer = session.search_text("qqzzxq")
    assert answer.results == [] and answer.level == "error"
    assert answer.message.startswith("Unknown word: 'qqzzxq' (not in the word vectors' vocabulary)")
    answer = session.search_text("cat, qqzzxq!")
    assert len(answer.results) == 8 and answer.level == "warning"
    assert answer.message == "8 images for 'cat, qqzzxq!'; ignored: 'qqzzxq' (not in the vocabulary)"


def test_package_errors_are_messages_not_traces(session, engine, embedded_joint, tmp_path):
    answer = session.search_upload("notes.txt", b"not an image at all")
    assert answer.results == [] and answer.level == "error"
    assert answer.message.startswith("Cannot read the uploaded 'notes.txt' as an image")
    assert session.search_text("!!!").level == "error" and "no words" in session.answer.message
    assert "No image 'nope.jpg'" in session.search_image("nope.jpg").message
    assert "No uploaded file 'x.jpg'; upload the image first" in session.ask(Query(upload="x.jpg")).message
    assert "upload the image first" in SearchSession(engine).ask(Query(upload="x.jpg")).message
    shutil.copytree(embedded_joint, tmp_path / "index", ignore=shutil.ignore_patterns("joint*"))
    no_joint = SearchSession(SearchEngine(tmp_path / "index"))  # no joint model: no words, no tags
    try:
        assert no_joint.search_text("cat").results == [] and "train" in no_joint.answer.message
        answer = no_joint.search_image(no_joint.keys[0])  # image search works; tags say why not
        assert len(answer.results) == 8 and answer.tags == [] and "no tags" in answer.message
    finally:
        no_joint.close()


def test_a_bug_in_the_engine_becomes_a_message(engine):
    class Broken:
        images, class_weights = engine.images, engine.class_weights

        def text_search(self, text, k):
            raise ZeroDivisionError("oops")

    answer = SearchSession(Broken()).search_text("cat")
    assert answer.level == "error" and answer.message == (
        "The search failed unexpectedly: ZeroDivisionError: oops"
    )


def test_query_is_a_small_value():
    assert Query(text="a").kind == "text" and Query(image="cat/1.jpg").value == "cat/1.jpg"
    assert Query(upload="me.png").kind == "upload" and Query(text=" ").kind is None
    assert Query(text="a") == Query(text="a") and len({Query(), Query(k=8)}) == 1  # hashable
    assert Query(image="a", text=" on grass ").words == "on grass" and Query(text="red").words is None
    both = frozenset({"x"})
    for bad in (dict(image="a", upload="b"), dict(image="a", liked=both, disliked=both), dict(k=0)):
        with pytest.raises(ValueError):
            Query(**bad)


def test_pure_helpers():
    results = [Result(1, 1, "/abs/path/b.jpg", "cat", 0.98765), Result(2, 0, "/abs/a.jpg", "tv monitor", 0.5)]
    lines = report_lines(results, ["tv_monitor/a.jpg", "cat/b.jpg"])
    assert lines == [" 1. cat/b.jpg         cat          0.988", " 2. tv_monitor/a.jpg  tv monitor   0.500"]
    assert upload_suffix("Me.JPEG") == ".jpeg" and upload_suffix("../x.j;pg") == ".img"
    assert upload_suffix("") == ".img"


def test_the_session_needs_no_widgets():
    code = "import sys, imagesearch.session; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_marks_steer_the_search_and_a_new_question_clears_them(session, engine):
    key = key_of(engine, "telephone")
    first = session.search_image(key)
    shown = [session.keys[r.row] for r in first.results]
    liked = next(k for k, r in zip(shown, first.results) if r.label == "telephone")
    disliked = next(k for k, r in zip(shown, first.results) if r.label != "telephone")
    session.mark(liked, "like")
    answer = session.mark(disliked, "unlike")
    assert session.query.liked == {liked} and session.query.disliked == {disliked}
    assert session.verdict(liked) == "like" and session.verdict(disliked) == "unlike"
    assert "1 liked, 1 disliked" in answer.message and answer.level == "info"
    keys = [session.keys[r.row] for r in answer.results]
    assert keys[0] == liked and keys[0] != disliked
    assert session.mark(disliked, None).query.disliked == frozenset()
    assert session.change(k=4).query.liked == {liked}  # settings keep the marks
    assert session.search_text("dog").query.liked == frozenset()  # a new question does not
    assert session.mark(liked, "like").message.startswith("4 images for 'dog', 1 liked")


def test_words_refine_an_image(session, engine):
    key = key_of(engine, "telephone")
    session.search_image(key)
    answer = session.refine("dog")
    assert session.query == Query(image=key, text="dog") and answer.level == "info"
    assert answer.message.startswith(f"8 images like {key} with 'dog'")
    assert answer.results != session.search_image(key).results
    assert session.refine("qqzzxq").level == "error"  # unknown words say so
    assert session.refine("").query == Query(image=key)


def test_scores_are_named_for_what_they_are_and_marks_are_noted(session, engine):
    key = key_of(engine, "telephone")
    first = session.search_image(key)
    assert session.score_kind == "cosine" and "scores: cosine" in session.report()
    assert all(-1.0 <= r.score <= 1.0 for r in first.results)
    assert set(session.mark_notes()) == {""}
    shown = [session.keys[r.row] for r in first.results]
    session.mark(shown[0], "like")
    answer = session.mark(shown[-1], "unlike")
    assert session.score_kind.startswith("steering score") and "scores: steering score" in session.report()
    notes = dict(zip([session.keys[r.row] for r in answer.results], session.mark_notes()))
    assert notes[shown[0]] == "liked" and notes.get(shown[-1], "disliked") == "disliked"
    assert sum(n != "" for n in notes.values()) <= 2
    session.search_text("dog")
    assert session.score_kind == "cosine in word space"
