"""Binder's configuration (binder/: what repo2docker reads) installs the tested versions: the
runtime dependencies at constraints.txt's pins with pyproject's markers, a Python that
pyproject admits, and the project itself; the badge follows pyproject's repository URL."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from scripts import badges

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def requirements(path: Path) -> dict[str, Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {canonicalize_name(r.name): r for r in map(Requirement, filter(None, lines))}


def test_binder_names_the_locks_pins_for_every_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            lock[canonicalize_name(name)] = version.strip()
    binder = requirements(BINDER / "requirements.txt")
    assert set(binder) == set(declared)
    for name, requirement in binder.items():
        assert str(requirement.specifier) == f"=={lock[name]}", name
        assert str(requirement.marker) == str(declared[name].marker), name


def test_binder_python_is_one_pyproject_admits_and_the_project_is_installed():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert runtime.removeprefix("python-") in SpecifierSet(requires)
    post_build = (BINDER / "postBuild").read_text()
    assert post_build.startswith("#!") and "pip install --no-cache-dir --no-deps ." in post_build
    assert (BINDER / "postBuild").stat().st_mode & 0o111


def test_the_binder_badge_follows_the_repository_url():
    line = badges.badge_line("https://github.com/someone/fork", "03_similar_images.ipynb")
    assert "https://mybinder.org/v2/gh/someone/fork/HEAD?labpath=notebooks%2F03_similar_images.ipynb" in line
    assert (
        "https://colab.research.google.com/github/someone/fork/blob/main/notebooks/03_similar_images.ipynb"
        in line
    )
