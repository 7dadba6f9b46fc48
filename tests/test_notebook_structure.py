"""Every notebook has the shape of a lesson (issue 11): a title with Colab and Binder badges that
agree with pyproject.toml, the set-up cell first among code cells, links to the previous and next
notebook that exist, 3-5 exercises with as many hidden, tagged, self-checking solution cells, a
summary and references. Reads the JSON only; the notebook runs (nbval) execute the solutions."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
NUMBERED = {int(p.name[:2]): p.name for p in NOTEBOOKS}

_spec = importlib.util.spec_from_file_location("badges", ROOT / "scripts" / "badges.py")
badges = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(badges)


def source(cell) -> str:
    return "".join(cell["source"])


def heading(notebook: dict, title: str) -> int:
    """The index of the markdown cell that starts with `title` (fails when there is none)."""
    found = [
        i
        for i, c in enumerate(notebook["cells"])
        if c["cell_type"] == "markdown" and source(c).startswith(title)
    ]
    assert found, f"no markdown cell starting with {title!r}"
    return found[0]


def solution_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if "solution" in c["metadata"].get("tags", [])]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> tuple[str, dict]:
    return request.param.name, json.loads(request.param.read_text(encoding="utf-8"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7 and 1 in NUMBERED


def test_title_and_badges_agree_with_pyproject(notebook):
    name, nb = notebook
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown"
    lines = source(first).split("\n")
    assert re.match(rf"# {name[:2]} \S", lines[0]), "the first line is the title, '# NN ...'"
    assert lines[1] == "" and lines[2] == badges.badge_line(badges.repository_url(), name), (
        "the badges under the title disagree with pyproject.toml: run python scripts/badges.py"
    )


def test_setup_cell_comes_first(notebook):
    _, nb = notebook
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert first_code["metadata"].get("tags") == ["setup"]
    assert source(first_code) == badges.setup_source(badges.repository_url()), (
        "the set-up cell differs from scripts/badges.py's: run python scripts/badges.py"
    )
    assert sum("setup" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1


def test_previous_and_next_links_exist(notebook):
    name, nb = notebook
    header = source(nb["cells"][0])
    linked = set(re.findall(r"\]\((\d\d_[\w-]+\.ipynb)\)", header))
    missing = sorted(link for link in linked if not (ROOT / "notebooks" / link).is_file())
    assert not missing, f"{name} links to notebooks that do not exist: {missing}"
    number = int(name[:2])
    if number - 1 in NUMBERED:
        assert NUMBERED[number - 1] in linked, f"{name} does not link to the previous notebook"
    if number + 1 in NUMBERED:
        assert NUMBERED[number + 1] in linked, f"{name} does not link to the next notebook"


def test_exercises_then_solutions_then_summary_then_references(notebook):
    _, nb = notebook
    cells = nb["cells"]
    exercises, solutions = heading(nb, "## Exercises"), heading(nb, "## Solutions")
    summary, references = heading(nb, "## Summary"), heading(nb, "## References")
    items = re.findall(r"^\d+\. ", source(cells[exercises]), flags=re.M)
    assert 3 <= len(items) <= 5, f"{len(items)} numbered exercises; 3 to 5 wanted"
    found = solution_cells(nb)
    assert len(found) == len(items), f"{len(items)} exercises but {len(found)} solution cells"
    positions = [cells.index(c) for c in found]
    assert exercises < solutions < min(positions) and max(positions) < summary < references
    assert re.search(r"^- ", source(cells[references]), flags=re.M), "References lists no reference"
    assert cells[-1] is cells[references], "References comes last"


def test_solution_cells_are_hidden_numbered_and_check_themselves(notebook):
    _, nb = notebook
    for number, cell in enumerate(solution_cells(nb), start=1):
        text = source(cell)
        assert cell["cell_type"] == "code"
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, "collapsed in JupyterLab"
        assert cell["metadata"]["jupyter"].get("outputs_hidden") is True, "its output collapsed too"
        assert text.split("\n")[0] == f"# Solution {number}"
        assert re.search(r"^\s*assert |exercises\.check_", text, flags=re.M), (
            f"Solution {number} checks nothing"
        )


def test_cell_ids_are_unique(notebook):
    _, nb = notebook
    ids = [c.get("id") for c in nb["cells"]]
    assert None not in ids and len(ids) == len(set(ids))


def test_badges_script_is_idempotent(tmp_path):
    """Writing the badges twice gives the same notebook as writing them once."""
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    url = "https://github.com/someone/fork"
    once = badges.with_badges(json.loads(json.dumps(nb)), NOTEBOOKS[0].name, url)
    twice = badges.with_badges(json.loads(json.dumps(once)), NOTEBOOKS[0].name, url)
    assert once == twice
    assert "github/someone/fork/blob/main/notebooks/" in source(once["cells"][0])
    setup = [c for c in once["cells"] if c["metadata"].get("tags") == ["setup"]]
    assert len(setup) == 1 and url in source(setup[0])


def test_build_it_exercises_have_a_scaffold_and_a_checked_solution():
    """At least 6 build-it checks over the series: a scaffold (signature, docstring, nothing
    written) that a learner can run, and a solution that passes the same check."""
    checks = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        scaffolds = [c for c in nb["cells"] if "exercise" in c["metadata"].get("tags", [])]
        solutions = "\n".join(source(c) for c in solution_cells(nb))
        for cell in scaffolds:
            text = source(cell)
            assert "raise NotImplementedError" in text and '"""' in text, (
                f"{path.name}: a scaffold has a signature and a docstring"
            )
            found = re.findall(r"exercises\.attempt\(exercises\.(check_\w+)", text)
            assert found, f"{path.name}: the scaffold cell runs its check through exercises.attempt"
            for check in found:
                assert f"exercises.{check}(" in solutions, f"{path.name}: no solution passes {check}"
            checks += found
        assert source(nb["cells"][heading(nb, "## Exercises")]).count("**Build it") == len(scaffolds)
    assert len(checks) >= 6, checks


def test_every_notebook_ends_with_a_questionnaire(notebook):
    name, nb = notebook
    where = heading(nb, "## Questionnaire")
    questions = re.findall(r"^\d+\. ", source(nb["cells"][where]), flags=re.M)
    assert 5 <= len(questions) <= 8, f"{name}: {len(questions)} questions, 5 to 8 wanted"
    assert heading(nb, "## Solutions") < where < heading(nb, "## Summary")
    guide = (ROOT / "docs" / "workshop.md").read_text(encoding="utf-8")
    assert f"### Questionnaire {name[:2]}" in guide, (
        f"docs/workshop.md has no answers for {name}'s questionnaire"
    )


def test_run_times_in_the_header_come_from_bench_notebooks(notebook):
    name, nb = notebook
    figures = json.loads((ROOT / "bench" / "results" / "notebooks.json").read_text(encoding="utf-8"))
    header = source(nb["cells"][0])
    stem = name.removesuffix(".ipynb")
    warm, cold = figures[f"warm_{stem}_s"], figures[f"cold_{stem}_s"]
    assert f"{warm:.0f} s with a warm cache and {cold:.0f} s with a cold one" in header, (
        f"{name}: the header's run times differ from bench/results/notebooks.json"
    )


#: Words of the project's own process, which mean nothing to a learner.
PROCESS_WORDS = re.compile(
    r"\bissue\s*#?\d+|\bissue's\b|\bissues? \d|\brounds? \d+\b|\bround \d\b|\bgoals?\b", re.I
)


def learner_texts():
    """(where, text) of everything a learner reads: notebook cells and their printed outputs, the
    README's tutorial, the teacher's guide, and figure titles and labels in the package."""
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            yield f"{path.name} cell {i}", source(cell)
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain") or ""
                yield f"{path.name} cell {i} output", "".join(text)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    yield "README.md Tutorial", readme.split("## Tutorial", 1)[1].split("\n## ", 1)[0]
    yield "docs/workshop.md", (ROOT / "docs" / "workshop.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "imagesearch").glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"title|label|legend|what = |\"synthetic", line):  # its string literals, no {fields}
                yield (
                    f"imagesearch/{path.name}:{number}",
                    " ".join(re.findall(r'"([^"]*)"', re.sub(r"\{[^}]*\}", "", line))),
                )


def test_no_words_of_the_project_process_reach_learners():
    found = [
        f"{where}: {m.group(0)!r}" for where, text in learner_texts() for m in PROCESS_WORDS.finditer(text)
    ]
    assert not found, found


def test_the_process_word_scan_can_fail():
    assert PROCESS_WORDS.search("a plot of issue 10's generator") and PROCESS_WORDS.search(
        "the goal was +0.25"
    )
    assert PROCESS_WORDS.search("as in round 2") and not PROCESS_WORDS.search("after one round of feedback")
