#!/usr/bin/env python3
"""Write the learners' copies of the notebooks, and collapse the solutions of the full series.

The full series (notebooks/0*.ipynb) is the teacher's and GitHub's: it keeps every solution,
with its code and its output collapsed in JupyterLab (`jupyter.source_hidden` and
`jupyter.outputs_hidden`), so that no answer shows without a click. The learners' copies
(notebooks/learner/0*.ipynb), modelled on fastbook's "clean" notebooks, keep the lesson and its
outputs but hold no answer at all: every solution cell is empty (no code, no output), and the
cells of the exercises (the scaffolds, tagged "exercise") have no output. The copies are
derived, never edited by hand: tests/test_learner_notebooks.py regenerates them and compares.

Usage: python scripts/learner_notebooks.py [--check]   (--check: change nothing, exit 1 when a
file is out of date)
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LEARNER = NOTEBOOKS / "learner"
SOLUTIONS_HEADING = "## Solutions"
LEARNER_SOLUTIONS = (
    "## Solutions\n\n"
    "This is the learners' copy: the cells below are empty, for your own answers. Each exercise's "
    "solution, with the check that it passes, is in the full notebook of the same name one folder "
    "up (`notebooks/{name}`); your teacher has it too."
)


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def collapsed(notebook: dict) -> dict:
    """The full series' form: every solution cell's code and output collapsed."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if "solution" in tags(cell):
            cell["metadata"].setdefault("jupyter", {}).update(source_hidden=True, outputs_hidden=True)
    return notebook


def learner_copy(notebook: dict, name: str) -> dict:
    """The learners' form: solution cells empty, exercise cells without output."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook["cells"]:
        if "solution" in tags(cell):
            cell["source"] = ""
            cell["metadata"] = {"tags": ["solution"]}
        if cell["cell_type"] == "code" and ("solution" in tags(cell) or "exercise" in tags(cell)):
            cell["outputs"], cell["execution_count"] = [], None
        if cell["cell_type"] == "markdown" and text(cell).startswith(SOLUTIONS_HEADING):
            cell["source"] = LEARNER_SOLUTIONS.format(name=name)
    return notebook


def dumps(notebook: dict) -> str:
    """As Jupyter and nbconvert write a notebook (and scripts/badges.py)."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _write(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)


def expected_files() -> dict[Path, str]:
    """Every file this script owns, with the content it should have."""
    files = {}
    for path in sorted(NOTEBOOKS.glob("0*.ipynb")):
        full = collapsed(json.loads(path.read_text(encoding="utf-8")))
        files[path] = dumps(full)
        files[LEARNER / path.name] = dumps(learner_copy(full, path.name))
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, content in expected_files().items():
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, content)
    orphans = sorted(p for p in LEARNER.glob("*.ipynb") if not (NOTEBOOKS / p.name).is_file())
    for path in orphans:
        stale.append(path.relative_to(ROOT).as_posix() + " (no full notebook)")
        if not check:
            path.unlink()
    verb = "out of date" if check else "written"
    print(f"{len(stale)} file(s) {verb}" + (": " + ", ".join(stale) if stale else ""))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
