"""The learners' copies hold no answer and are in step with the full series, whose solutions are
collapsed (code and output), so that no answer shows before a click."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FULL = sorted((ROOT / "notebooks").glob("0*.ipynb"))

_spec = importlib.util.spec_from_file_location("learner_notebooks", ROOT / "scripts" / "learner_notebooks.py")
learner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(learner)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(params=FULL, ids=lambda p: p.stem)
def pair(request) -> tuple[dict, dict]:
    copy = ROOT / "notebooks" / "learner" / request.param.name
    assert copy.is_file(), f"no learner copy of {request.param.name}: run make learner-notebooks"
    return load(request.param), load(copy)


def test_regenerating_gives_the_committed_files():
    stale = [
        path.relative_to(ROOT).as_posix()
        for path, content in learner.expected_files().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]
    assert not stale, f"out of date (run make learner-notebooks): {stale}"
    copies = sorted(p.name for p in (ROOT / "notebooks" / "learner").glob("*.ipynb"))
    assert copies == [p.name for p in FULL]


def test_the_full_series_collapses_code_and_output_of_every_solution(pair):
    full, _ = pair
    solutions = [c for c in full["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert solutions
    for cell in solutions:
        assert cell["metadata"]["jupyter"] == {"source_hidden": True, "outputs_hidden": True}


def test_learner_copies_show_no_answer(pair):
    full, copy = pair
    assert len(copy["cells"]) == len(full["cells"])
    solutions = [c for c in copy["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert solutions and all(learner.text(c) == "" and c["outputs"] == [] for c in solutions)
    exercises = [c for c in copy["cells"] if "exercise" in c["metadata"].get("tags", [])]
    assert all(c["outputs"] == [] for c in exercises)
    visible = [c for c in copy["cells"] if "solution" not in c["metadata"].get("tags", [])]
    originals = [c for c in full["cells"] if "solution" not in c["metadata"].get("tags", [])]
    for mine, original in zip(visible, originals):
        if not learner.text(mine).startswith(learner.SOLUTIONS_HEADING):
            assert learner.text(mine) == learner.text(original), (
                "the lesson itself is the same as the full one"
            )


def test_the_script_empties_a_solution_and_keeps_the_rest():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "## Solutions\n\nclick to open"},
            {
                "cell_type": "code",
                "metadata": {"tags": ["solution"]},
                "source": "# Solution 1\nassert 1 + 1 == 2",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "2\n"}],
                "execution_count": 3,
            },
            {
                "cell_type": "code",
                "metadata": {"tags": ["exercise"]},
                "source": "def f(): ...",
                "outputs": [1],
            },
            {"cell_type": "code", "metadata": {}, "source": "print(1)", "outputs": [1], "execution_count": 1},
        ]
    }
    full = learner.collapsed(notebook)
    assert full["cells"][1]["metadata"]["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    copy = learner.learner_copy(full, "01_x.ipynb")
    assert copy["cells"][1]["source"] == "" and copy["cells"][1]["outputs"] == []
    assert copy["cells"][2]["outputs"] == [] and copy["cells"][2]["source"] == "def f(): ..."
    assert copy["cells"][3]["outputs"] == [1]
    assert "01_x.ipynb" in copy["cells"][0]["source"]
    assert notebook["cells"][1]["source"].startswith("# Solution 1"), "the input is left as it was"
