"""The figure rules (issue 11) over the notebooks' committed outputs: every image output is a PNG
(JPEG smears the text of plots, and every figure here has text), at most 1000 px wide (read from
the PNG header), and the notebooks stay small enough to clone and to open on GitHub.

IMAGESEARCH_NOTEBOOKS (paths separated by os.pathsep) checks other files instead, e.g. a
notebook just executed to /tmp, before its outputs are committed."""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
MAX_PNG_WIDTH = 1000
MAX_NOTEBOOK_BYTES = 4_000_000  # one notebook
MAX_TOTAL_BYTES = 15_000_000  # all of them together


def notebook_paths() -> list[Path]:
    chosen = os.environ.get("IMAGESEARCH_NOTEBOOKS")
    if chosen:
        return [Path(p) for p in chosen.split(os.pathsep) if p]
    return sorted(NOTEBOOKS.glob("0*.ipynb"))


def image_outputs(path: Path):
    """(cell number, MIME type, bytes) of every image output of a notebook."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            for mime, data in output.get("data", {}).items():
                if mime.startswith("image/"):
                    raw = "".join(data) if isinstance(data, list) else data
                    yield number, mime, raw if mime == "image/svg+xml" else base64.b64decode(raw)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, the first after the 8-byte signature."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def test_png_size_reads_the_header():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (321, 123)).save(buffer, format="PNG")
    assert png_size(buffer.getvalue()) == (321, 123)
    with pytest.raises(ValueError):
        png_size(b"\xff\xd8\xff\xe0 a JPEG")


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_every_figure_is_a_png_at_most_1000_px_wide(path):
    problems = []
    for number, mime, data in image_outputs(path):
        if mime != "image/png":
            problems.append(
                f"cell {number}: {mime} (figures are PNG: plots.notebook_figures() in the first cell)"
            )
            continue
        width, height = png_size(data)
        if width > MAX_PNG_WIDTH:
            problems.append(f"cell {number}: {width} x {height} px, wider than {MAX_PNG_WIDTH}")
    assert problems == [], f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_a_notebook_stays_small(path):
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{path.name}: {path.stat().st_size:,} bytes"


def test_the_notebooks_together_stay_small():
    sizes = {p.name: p.stat().st_size for p in notebook_paths()}
    assert sum(sizes.values()) <= MAX_TOTAL_BYTES, sizes
