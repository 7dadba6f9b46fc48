"""The CLI's defaults are the package's own, written once, and reading them imports nothing heavy."""

import subprocess
import sys

import pytest

from imagesearch import engine, indexing, joint
from imagesearch.cli import build_parser


@pytest.mark.parametrize(
    "argv, name, expected",
    [
        (["index", "embedded", "--out", "x"], "trees", None),  # None: Annoy's DEFAULT_TREES
        (["train", "x"], "epochs", joint.DEFAULT_EPOCHS),
        (["evaluate", "x"], "epochs", joint.DEFAULT_EPOCHS),
        (["search", "x"], "k", engine.DEFAULT_K),
        (["words", "cat"], "k", engine.DEFAULT_K),
        (["tag", "x"], "k", engine.DEFAULT_TAGS),
        (["train", "x"], "vectors", None),  # None: the library's DEFAULT_VECTORS
        (["words", "cat"], "vectors", None),
    ],
)
def test_cli_defaults_are_the_packages(argv, name, expected):
    assert getattr(build_parser().parse_args(argv), name) == expected


def test_the_index_command_offers_every_backend_and_preset():
    args = build_parser().parse_args(["index", "embedded", "--out", "x", "--backend", "usearch-i8"])
    assert args.backend == "usearch-i8"


def test_library_defaults_follow_the_constants():
    import inspect

    assert inspect.signature(joint.train_joint_model).parameters["epochs"].default == joint.DEFAULT_EPOCHS
    assert inspect.signature(indexing.train_joint_index).parameters["epochs"].default == joint.DEFAULT_EPOCHS
    assert inspect.signature(engine.SearchEngine.similar_images).parameters["k"].default == engine.DEFAULT_K
    assert inspect.signature(engine.SearchEngine.tags).parameters["k"].default == engine.DEFAULT_TAGS


def test_parsing_any_command_imports_no_heavy_module():
    code = (
        "import sys\nfrom imagesearch.cli import build_parser\n"
        "for argv in (['index', 'embedded', '--out', 'x'], ['train', 'x'], ['words', 'cat'], ['evaluate', 'x']):\n"
        "    build_parser().parse_args(argv)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'gensim', 'pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
