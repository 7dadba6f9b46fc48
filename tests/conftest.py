"""Shared fixtures. Each block says who uses it."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a private IMAGESEARCH_HOME unless it asks for a shared one."""
    if "IMAGESEARCH_HOME" not in os.environ or os.environ.get("IMAGESEARCH_TEST_ISOLATE", "1") == "1":
        monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path_factory.mktemp("home")))


# ---- imagesearch/words.py: the real offline GloVe 50d vectors (tests/test_words.py, and any test
# ---- that needs real word vectors). Converted once per session into a shared IMAGESEARCH_HOME.
@pytest.fixture(scope="session")
def words_home(tmp_path_factory) -> Path:
    """The IMAGESEARCH_HOME holding the session's converted GloVe 50d vectors and their Annoy index."""
    return tmp_path_factory.mktemp("words-home")


@pytest.fixture(scope="session")
def _glove50d_session(words_home):
    from imagesearch.words import load_word_vectors

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMAGESEARCH_HOME", str(words_home))
        return load_word_vectors("glove-6b-50d", progress=False)


@pytest.fixture
def glove50d(_glove50d_session, words_home, monkeypatch):
    """GloVe 50d KeyedVectors; IMAGESEARCH_HOME points at their shared cache for this test."""
    monkeypatch.setenv("IMAGESEARCH_HOME", str(words_home))
    return _glove50d_session


# --- the embedded data set indexed once per session (engine, CLI, demo tests) ----------------
@pytest.fixture(scope="session")
def session_home(tmp_path_factory):
    """An IMAGESEARCH_HOME shared by the whole session, so features are computed once."""
    return tmp_path_factory.mktemp("session-home")


@pytest.fixture(scope="session")
def embedded_index(session_home, tmp_path_factory):
    """An index folder of the embedded data set with the offline default model."""
    from imagesearch.datasets import load_embedded
    from imagesearch.engine import build_index

    folder = tmp_path_factory.mktemp("embedded-index")
    old = os.environ.get("IMAGESEARCH_HOME")
    os.environ["IMAGESEARCH_HOME"] = str(session_home)
    try:
        build_index(load_embedded(), folder, force=True, progress=False)
    finally:
        if old is None:
            os.environ.pop("IMAGESEARCH_HOME", None)
        else:
            os.environ["IMAGESEARCH_HOME"] = old
    return folder


@pytest.fixture
def shared_home(session_home, monkeypatch):
    """Use the session's cache in this test (features already there)."""
    monkeypatch.setenv("IMAGESEARCH_HOME", str(session_home))
    return session_home
