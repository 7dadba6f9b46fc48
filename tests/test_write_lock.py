"""One writer at a time per index folder (imagesearch/folder.py): two real `add` processes
started together both land, a second writer that waits too long fails with a clear message
and changes nothing, readers never wait, and a writer killed while it holds the lock leaves
it to the next one. `python -m bench.races --races 20` repeats the race."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from bench.races import ROOT, race, race_photos, small_index
from imagesearch.engine import SearchEngine
from imagesearch.folder import LOCK_FILE, IndexFolder
from imagesearch.layout import IMAGES, JOINT

RACES = int(os.environ.get("IMAGESEARCH_RACES", "2"))  # more: IMAGESEARCH_RACES=20


def add_command(folder, photos, wait):
    return [sys.executable, "-m", "imagesearch", "add", str(folder), *map(str, photos), "--wait", str(wait)]


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.mark.parametrize("backend", ["annoy", "usearch"])
def test_two_adds_at_once_lose_no_photo(backend, tmp_path):
    races = RACES if backend == "annoy" else 1
    for attempt in range(races):
        folder = small_index(tmp_path / f"index-{attempt}", backend)
        first, second = race_photos(tmp_path / f"photos-{attempt}")
        answer = race(folder, first, second)
        assert answer["returncodes"] == [0, 0], answer["stderr"]
        assert answer["lost"] == []
        assert len(IndexFolder(folder).images()) == 16 + len(first) + len(second)


def test_a_second_writer_waits_then_fails_clearly_and_readers_do_not_wait(tmp_path):
    folder = small_index(tmp_path / "index", "annoy")
    photos, _ = race_photos(tmp_path / "photos")
    holder = FileLock(folder / LOCK_FILE)
    with holder.acquire(timeout=0):
        start = time.perf_counter()
        engine = SearchEngine(folder)  # a reader: no wait
        assert [r.row for r in engine.similar_images(0, 3)] == [3, 7, 15]
        assert time.perf_counter() - start < 5
        done = subprocess.run(add_command(folder, photos, 1), env=env(), capture_output=True, text=True)
    assert done.returncode == 1
    assert "waiting for another process writing to" in done.stderr
    assert "error: another process is still writing to" in done.stderr and "--wait" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(IndexFolder(folder).images()) == 16  # nothing changed


def test_a_writer_killed_while_holding_the_lock_leaves_it_to_the_next(tmp_path):
    folder = small_index(tmp_path / "index", "annoy")
    first, second = race_photos(tmp_path / "photos")
    writer = subprocess.Popen(add_command(folder, first, 60), env=env(), stderr=subprocess.PIPE)
    probe = FileLock(folder / LOCK_FILE)
    deadline = time.monotonic() + 120
    while True:  # until the writer holds the lock
        assert writer.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline
        try:
            probe.acquire(timeout=0)
            probe.release()
            time.sleep(0.02)
        except Timeout:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    done = subprocess.run(add_command(folder, second, 30), env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "waiting" not in done.stderr  # the OS released the dead writer's lock
    for name in (IMAGES, JOINT):
        index = IndexFolder(folder).load(name)
        assert all(index.row_of_path(p) is not None for p in second)
        assert len(index) == 16 + len(second)  # the killed add committed nothing: no half update
    assert [r.row for r in SearchEngine(folder).similar_images(0, 3)] == [3, 7, 15]


def test_nested_writers_in_one_process_reenter_the_lock(tmp_path):
    folder = IndexFolder(tmp_path / "index")
    with folder.writing(wait=0):
        with IndexFolder(Path(tmp_path / "index")).writing(wait=0):
            assert (folder.path / LOCK_FILE).exists()


def test_a_reader_that_loses_the_race_to_a_commit_opens_the_new_generation(tmp_path, monkeypatch):
    """The JSON read, then a writer commits the next generation and deletes this one's files:
    the reader opens the new generation instead of failing on a missing file."""
    import imagesearch.index

    folder = IndexFolder(small_index(tmp_path / "index", "annoy"))
    real_load = imagesearch.index.EmbeddingIndex.load.__func__
    calls = []

    def load_after_a_commit(cls, path, name="images", **kwargs):
        if not calls:  # the first open: a writer commits generation 1 under this reader's feet
            calls.append(name)
            index = real_load(cls, path, name)
            index.remove([0])
            index.save(path, name)
            (folder.path / "images.npy").unlink(missing_ok=True)  # gone, as remove_stale does
            raise FileNotFoundError(folder.path / "images.npy")
        return real_load(cls, path, name, **kwargs)

    monkeypatch.setattr(imagesearch.index.EmbeddingIndex, "load", classmethod(load_after_a_commit))
    index = folder.load(IMAGES)
    assert len(index) == 15 and index.generation == 1
