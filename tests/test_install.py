"""The package works installed from its wheel, not only from the clone: the wheel is built from a
copy of the sources, installed with --no-deps into a folder, and run from outside the clone with
that folder first on the path (the dependencies come from the running environment)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagesearch.index import EmbeddingIndex
from imagesearch.layout import IMAGES
from scripts import workshop_kit


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The folder the wheel was installed into (`pip install --no-deps --target`); the wheel is
    built the way the workshop kit builds it, from a copy of the sources."""
    tmp = tmp_path_factory.mktemp("install")
    wheel = workshop_kit.project_wheel(tmp / "dist")
    target = tmp / "target"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr
    return target


def run_installed(target: Path, cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python ARGS` in `cwd` with only the install folder on PYTHONPATH and a private cache."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "IMAGESEARCH_DATA")}
    env.update(PYTHONPATH=str(target), IMAGESEARCH_HOME=str(cwd / "home"))
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_installed_package_finds_its_data(installed, tmp_path):
    code = (
        "import imagesearch, imagesearch.datasets as d, imagesearch.models as m;"
        "print(imagesearch.__file__); print(d.embedded_root());"
        "print(len(d.load_embedded()), len(d.pascal_manifest()), len(m.imagenet_class_names()))"
    )
    run = run_installed(installed, tmp_path, "-c", code)
    assert run.returncode == 0, run.stderr
    module, embedded, counts = run.stdout.splitlines()
    assert Path(module).is_relative_to(installed), f"imported {module}, not the installed package"
    assert Path(embedded) == installed / "imagesearch" / "data" / "embedded"
    assert counts == "120 1001 1000"  # images; index.html + 1000 photos; ImageNet classes


@pytest.mark.slow
def test_demo_runs_from_the_installed_wheel(installed, tmp_path):
    run = run_installed(installed, tmp_path, "-m", "imagesearch", "demo", "--out", "out", timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Indexed 120 images of the embedded data set (10 classes)" in run.stdout
    assert (tmp_path / "out" / "contact_sheet.png").stat().st_size > 0
    embedded = str(installed / "imagesearch" / "data" / "embedded")
    paths = EmbeddingIndex.load(tmp_path / "out" / "index", IMAGES).records.column("path")
    assert paths and all(path.startswith(embedded) for path in paths)
