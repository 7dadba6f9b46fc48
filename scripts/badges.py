#!/usr/bin/env python3
"""(Re)write every notebook's Colab and Binder badges and its set-up cell from pyproject.toml.

The repository URL lives once, in pyproject.toml's `[project.urls] Repository`. For a fork,
change it there and run this script: each notebooks/0*.ipynb gets, right under its title line,
a badge line that opens it in Colab and in Binder, and as its first code cell a set-up cell
(tagged "setup") that installs the package there when it is not importable. Running it again
changes nothing. tests/test_notebook_structure.py checks that the notebooks agree with it.

Usage: python scripts/badges.py [NOTEBOOK ...]   (default: every notebooks/0*.ipynb)
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BADGE_START = "[![Open In Colab]"
SETUP_TAG = "setup"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
BRANCH = "main"  # what Colab opens; Binder builds the default branch (HEAD)


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The repository URL of pyproject.toml, without a trailing slash or .git."""
    with open(pyproject, "rb") as file:
        url = tomllib.load(file)["project"]["urls"]["Repository"]
    return url.rstrip("/").removesuffix(".git")


def badge_line(url: str, notebook: str) -> str:
    """The markdown line with the Colab and Binder badges of notebooks/`notebook`."""
    owner_name = url.split("github.com/", 1)[1]
    colab = f"https://colab.research.google.com/github/{owner_name}/blob/{BRANCH}/notebooks/{notebook}"
    binder = f"https://mybinder.org/v2/gh/{owner_name}/HEAD?labpath=notebooks%2F{notebook}"
    return f"[![Open In Colab]({COLAB_BADGE})]({colab}) [![Binder]({BINDER_BADGE})]({binder})"


def setup_source(url: str) -> str:
    """The set-up cell: silent where the package is installed (so that nbval's outputs repeat);
    on Colab or Binder it installs the package from the repository at the tested versions
    (constraints.txt), all from wheels. The VGG16 weights come on first use (imagesearch.weights).
    A Python outside 3.11-3.13 is told so rather than left to pip's refusal.
    tests/test_colab_setup.py runs these %pip lines in a fresh venv from a local clone."""
    return (
        "# Set-up for Colab and Binder: installs the package (a few minutes) when it is missing;\n"
        "# does nothing where it is installed. If an import fails after it, restart the kernel.\n"
        "import importlib.util\n"
        "import sys\n"
        "\n"
        'if importlib.util.find_spec("imagesearch") is None:\n'
        "    if not (3, 11) <= sys.version_info[:2] <= (3, 13):  # pyproject's requires-python\n"
        '        raise RuntimeError(f"imagesearch needs Python 3.11 to 3.13, this kernel runs {sys.version.split()[0]}: "\n'
        '                           "open the notebook on Binder (the other badge) or in a Python 3.12 environment")\n'
        f'    REPOSITORY = "{url}"\n'
        '    %pip install -q -c {REPOSITORY}/raw/HEAD/constraints.txt "imagesearch @ git+{REPOSITORY}"'
    )


def _lines(text: str) -> list[str]:
    """A cell source as nbformat stores it: lines with their newlines, the last one without."""
    return text.splitlines(keepends=True)


def with_badges(notebook: dict, name: str, url: str) -> dict:
    """`notebook` with the badge line under its title and the set-up cell first among code cells."""
    cells = notebook["cells"]
    title = cells[0]["source"]
    text = "".join(title).split("\n")
    if not text[0].startswith("# "):
        raise SystemExit(f"error: {name}: the first cell does not start with a '# ' title line")
    rest = text[1:]
    while rest and (not rest[0].strip() or rest[0].startswith(BADGE_START)):
        rest = rest[1:]  # drop an old badge line and the blank lines around it
    cells[0]["source"] = _lines("\n".join([text[0], "", badge_line(url, name), "", *rest]))
    source = _lines(setup_source(url))
    setup = [c for c in cells if SETUP_TAG in c.get("metadata", {}).get("tags", [])]
    if setup:
        setup[0]["source"] = source
    else:
        ids = {c.get("id") for c in cells}
        new_id = next(i for i in iter(lambda: secrets.token_hex(4), None) if i not in ids)
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "id": new_id,
            "metadata": {"tags": [SETUP_TAG]},
            "outputs": [],
            "source": source,
        }
        first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
        cells.insert(first_code, cell)
    return notebook


def main(argv: list[str]) -> int:
    url = repository_url()
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("0*.ipynb"))
    for path in paths:
        before = path.read_text(encoding="utf-8")
        notebook = with_badges(json.loads(before), path.name, url)
        after = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        if after != before:
            tmp = path.with_name(f".{path.name}.tmp")  # atomic: a crash leaves the old file
            tmp.write_text(after, encoding="utf-8")
            os.replace(tmp, path)
            print(f"updated {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
