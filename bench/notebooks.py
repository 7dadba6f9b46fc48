"""The whole notebook series on Pascal Sentences with cold caches, timed per notebook.

    .venv/bin/python -m bench.notebooks [--source DIR_OR_URL]

Runs every notebook top to bottom (jupyter nbconvert --execute, outputs written to a temporary
folder, the committed notebooks untouched) in a fresh IMAGESEARCH_HOME: the download, the
features, the index, the joint model and the UMAP maps are all computed. Then runs the series
again on the now warm caches. Writes bench/results/notebooks.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Timer, save, table

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_series(home: Path, out: Path, source: str | None) -> dict[str, float]:
    env = {**os.environ, "IMAGESEARCH_HOME": str(home)}
    if source:
        env["IMAGESEARCH_PASCAL_SOURCE"] = source
    env.pop("IMAGESEARCH_DATASET", None)
    seconds = {}
    for notebook in sorted(NOTEBOOKS.glob("0*.ipynb")):
        with Timer() as t:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "jupyter",
                    "nbconvert",
                    "--to",
                    "notebook",
                    "--execute",
                    "--output-dir",
                    str(out),
                    str(notebook),
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        seconds[notebook.stem] = round(t.seconds, 1)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=os.environ.get("IMAGESEARCH_PASCAL_SOURCE"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-notebooks-"))
    cold = run_series(work / "home", work / "cold", args.source)
    warm = run_series(work / "home", work / "warm", args.source)
    figures = {
        "dataset": "pascal-sentences",
        "cold_total_s": round(sum(cold.values()), 1),
        "warm_total_s": round(sum(warm.values()), 1),
        **{f"cold_{k}_s": v for k, v in cold.items()},
        **{f"warm_{k}_s": v for k, v in warm.items()},
    }
    path = save("notebooks", figures)
    print(table([(k, str(v)) for k, v in figures.items()]))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
