"""Opening an index is light: no TensorFlow and no CNN unless an image outside the index must be
embedded. Each check runs in a fresh interpreter, since this test process has TensorFlow loaded."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import using_home

HEAVY = ("tensorflow", "keras")
#: what a query needs none of either: the word vectors are read without gensim, and a result's
#: path and label without pyarrow.compute (0.3 s to import)
QUERY_HEAVY = (*HEAVY, "gensim", "pyarrow.compute")


def run_fresh(code: str, env: dict | None = None) -> dict:
    """Run `code` in a new Python; it prints one JSON object, which is returned."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_queries_on_an_indexed_collection_import_nothing_heavy(embedded_joint, words_home):
    loaded = run_fresh(
        f"""
        import json, sys
        from imagesearch.engine import SearchEngine
        engine = SearchEngine({str(embedded_joint)!r})
        first = engine.images.records[0]["path"]
        engine.similar_images(first, 3)
        engine.text_search("cat sofa", 3)
        engine.tags(first, 5)
        print(json.dumps({{m: m in sys.modules for m in {QUERY_HEAVY!r}}}))
        """,
        {"IMAGESEARCH_HOME": str(words_home)},
    )
    assert loaded == {m: False for m in QUERY_HEAVY}


def test_reopening_a_built_index_builds_no_cnn(embedded_index, session_home):
    from imagesearch.datasets import load_embedded
    from imagesearch.indexing import build_index

    with using_home(session_home):
        report = build_index(load_embedded(), embedded_index)  # the very same index: reused
    assert report.reused
    loaded = run_fresh(
        f"""
        import json, sys
        from imagesearch.datasets import load_embedded
        from imagesearch.indexing import build_index
        report = build_index(load_embedded(), {str(embedded_index)!r})
        print(json.dumps({{"reused": report.reused, **{{m: m in sys.modules for m in {HEAVY!r}}}}}))
        """,
        {"IMAGESEARCH_HOME": str(session_home)},
    )
    assert loaded == {"reused": True, **{m: False for m in HEAVY}}


def test_the_notebooks_settings_call_opens_a_cached_index_without_tensorflow(tmp_path):
    env = {"IMAGESEARCH_HOME": str(tmp_path), "IMAGESEARCH_DATASET": "embedded"}
    code = f"""
        import json, sys
        from imagesearch import settings
        engine = settings().engine(progress=False)
        print(json.dumps({{"items": len(engine.images), **{{m: m in sys.modules for m in {HEAVY!r}}}}}))
        """
    first = run_fresh(code, env)  # builds: features, index, joint model
    assert first["items"] > 0 and first["tensorflow"]
    again = run_fresh(code, env)
    assert again == {"items": first["items"], **{m: False for m in HEAVY}}


@pytest.mark.parametrize("name", ["vgg16-conv"])
def test_weights_identity_matches_the_built_model(name):
    from imagesearch.models import LazyImageModel, cached_image_model, weights_identity

    lazy = LazyImageModel(name)
    assert lazy.weights_id == weights_identity(name) == cached_image_model(name).weights_id
    assert lazy.dim == cached_image_model(name).dim


def test_opening_an_index_maps_its_vectors_instead_of_reading_them(embedded_index):
    import numpy as np

    from imagesearch.index import EmbeddingIndex

    index = EmbeddingIndex.load(embedded_index)
    assert isinstance(index.vectors, np.memmap)
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)
