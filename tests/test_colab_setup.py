"""The notebooks' set-up cell works where Colab runs them: its %pip lines, run in a fresh Python
3.12 venv with the repository URL pointing at a local clone of this one (git+file://, and the
clone's constraints.txt), install a working engine; notebook 03 then runs top to bottom there on
the embedded data set, importing the installed package (never this checkout). The dependencies
come from PyPI, the VGG16 weights on first use (imagesearch.weights). Minutes: marked slow and
`once` (CI runs it in its first Python's session only)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import badges

ROOT = Path(__file__).resolve().parents[1]


def find_python(version: str) -> str:
    """A Python `version` that runs: pyenv's shim on PATH may name one it cannot start."""
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python")),
    ]
    for candidate in filter(None, candidates):
        if subprocess.run([str(candidate), "-c", "pass"], capture_output=True).returncode == 0:
            return str(candidate)
    return f"python{version} (not found)"


PYTHON_312 = find_python("3.12")


def pip_lines(source: str, repository: str) -> list[list[str]]:
    """The set-up cell's %pip commands as pip arguments, with {REPOSITORY} filled in: the
    repository's raw files (`{REPOSITORY}/raw/HEAD/NAME`) are the clone's own files."""
    commands = []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("%pip install"):
            line = line.replace("{REPOSITORY}/raw/HEAD/", repository.removeprefix("file://") + "/")
            line = line.replace("{REPOSITORY}", repository)
            commands.append(re.findall(r'"[^"]*"|\S+', line.removeprefix("%pip ")))
    return [[arg.strip('"') for arg in command] for command in commands]


def test_the_cell_installs_from_the_repository_with_the_lock():
    commands = pip_lines(badges.setup_source("https://github.com/o/r"), "file:///clone")
    assert commands == [["install", "-q", "-c", "/clone/constraints.txt", "imagesearch @ git+file:///clone"]]


@pytest.mark.slow
@pytest.mark.once
@pytest.mark.skipif(not Path(PYTHON_312).exists(), reason="needs Python 3.12 (pyenv install 3.12)")
def test_setup_cell_then_notebook_03_in_a_fresh_python_312(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    venv = tmp_path / "venv"
    subprocess.run([PYTHON_312, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Colab's pip is recent; the one a venv of Python 3.12.1 starts with (23.2) rejects the
    # git+file:/// URL that stands in here for the repository's git+https:// one.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    source = badges.setup_source(badges.repository_url())
    for command in pip_lines(source, f"file://{clone}"):
        run = subprocess.run(
            [str(python), "-m", "pip", *command], capture_output=True, text=True, cwd=tmp_path
        )
        assert run.returncode == 0, run.stderr[-3000:]

    work = tmp_path / "work"
    shutil.copytree(clone / "notebooks", work)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(IMAGESEARCH_DATASET="embedded", IMAGESEARCH_HOME=str(tmp_path / "home"))
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = subprocess.run(
        [str(python), "-c", "import imagesearch; print(imagesearch.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0 and where.stdout.startswith(str(venv)), where.stdout + where.stderr
    run = subprocess.run(
        [str(python), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", "executed.ipynb",
         "--ExecutePreprocessor.timeout=900", "--ExecutePreprocessor.kernel_name=python3", "03_similar_images.ipynb"],
        env=env, cwd=work, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "executed.ipynb").stat().st_size > 0
