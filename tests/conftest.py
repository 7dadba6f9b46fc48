"""Shared fixtures. Each block says who uses it."""

import contextlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The caller's cache (CI sets one per run): the Pascal tests share it, so its features are
# computed once per CI run and reused by the notebooks.
CALLER_HOME = os.environ.get("IMAGESEARCH_HOME")


@contextlib.contextmanager
def using_home(path):
    """IMAGESEARCH_HOME set to `path` for a session fixture's work (monkeypatch is per test)."""
    old = os.environ.get("IMAGESEARCH_HOME")
    os.environ["IMAGESEARCH_HOME"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("IMAGESEARCH_HOME", None)
        else:
            os.environ["IMAGESEARCH_HOME"] = old


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a private IMAGESEARCH_HOME; fixtures below share one where it pays."""
    monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path_factory.mktemp("home")))


# ---- imagesearch/glove.py: the real offline GloVe 50d vectors (tests/test_words.py, and any test
# ---- that needs real word vectors). Converted once per session into a shared IMAGESEARCH_HOME.
@pytest.fixture(scope="session")
def words_home(tmp_path_factory) -> Path:
    """The IMAGESEARCH_HOME holding the session's converted GloVe 50d vectors."""
    return tmp_path_factory.mktemp("words-home")


@pytest.fixture(scope="session")
def _glove50d_session(words_home):
    from imagesearch.glove import load_word_vectors

    with using_home(words_home):
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
    from imagesearch.indexing import build_index

    folder = tmp_path_factory.mktemp("embedded-index")
    with using_home(session_home):
        build_index(load_embedded(), folder, force=True, progress=False)
    return folder


@pytest.fixture
def shared_home(session_home, monkeypatch):
    """Use the session's cache in this test (features already there)."""
    monkeypatch.setenv("IMAGESEARCH_HOME", str(session_home))
    return session_home


# --- the Pascal Sentences mirror (tests marked `pascal`, run by .ci/run) ---------------------
def pascal_source() -> str | None:
    """IMAGESEARCH_PASCAL_SOURCE, else ../shared/datasets/pascal-sentences beside the repo."""
    source = os.environ.get("IMAGESEARCH_PASCAL_SOURCE")
    if source:
        return source
    mirror = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "pascal-sentences"
    return str(mirror) if mirror.is_dir() else None


@pytest.fixture(scope="session")
def pascal_home(tmp_path_factory):
    return Path(CALLER_HOME) if CALLER_HOME else tmp_path_factory.mktemp("pascal-home")


@pytest.fixture(scope="session")
def pascal_dataset(pascal_home):
    from imagesearch.datasets import load_pascal_sentences

    source = pascal_source()
    if source is None:
        pytest.skip("no Pascal Sentences mirror: set IMAGESEARCH_PASCAL_SOURCE")
    with using_home(pascal_home):
        return load_pascal_sentences(source=source, progress=False)


@pytest.fixture(scope="session")
def pascal_index(pascal_dataset, pascal_home, tmp_path_factory):
    """Pascal indexed with vgg16-conv; the features come from (and go to) the caller's cache."""
    from imagesearch.indexing import build_index

    folder = tmp_path_factory.mktemp("pascal-index")
    with using_home(pascal_home):
        build_index(pascal_dataset, folder, force=True)
    return folder


# --- the embedded index with a trained joint model (language tests) --------------------------
@pytest.fixture(scope="session")
def embedded_joint(embedded_index, words_home, _glove50d_session):
    """The embedded index folder, with the joint model trained into it (GloVe 50d)."""
    from imagesearch.indexing import train_joint_index

    with using_home(words_home):
        train_joint_index(embedded_index, epochs=50)
    return embedded_index


@pytest.fixture
def engine(embedded_joint, glove50d):
    """A SearchEngine over the embedded index with its joint model (modules that test the engine
    alone, or Pascal, define their own `engine`)."""
    from imagesearch.engine import SearchEngine

    return SearchEngine(embedded_joint)
