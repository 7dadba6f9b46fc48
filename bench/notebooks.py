"""The whole notebook series on Pascal Sentences with cold caches, timed per notebook.

    .venv/bin/python -m bench.notebooks [--source DIR_OR_URL]
    .venv/bin/python -m bench.notebooks --only 09_your_photos


Runs every notebook top to bottom (jupyter nbconvert --execute, outputs written to a temporary
folder, the committed notebooks untouched) in a fresh IMAGESEARCH_HOME: the download, the
features, the index, the joint model and the UMAP maps are all computed. Then runs the series
again on the now warm caches. Writes bench/results/notebooks.json.

`--only STEM...` times those notebooks alone (a fresh cache, then warm) and replaces only their
figures in notebooks.json; the totals stay the whole series' run. A notebook that needs nothing
from the ones before it (09 works on the sample that ships in the package) is timed this way.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import RESULTS, Timer, save, table

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_series(home: Path, out: Path, source: str | None, only: list[str] | None = None) -> dict[str, float]:
    env = {**os.environ, "IMAGESEARCH_HOME": str(home)}
    if source:
        env["IMAGESEARCH_PASCAL_SOURCE"] = source
    env.pop("IMAGESEARCH_DATASET", None)
    seconds = {}
    for notebook in sorted(NOTEBOOKS.glob("0*.ipynb")):
        if only and notebook.stem not in only:
            continue
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
    parser.add_argument(
        "--only", nargs="+", metavar="STEM", help="time these notebooks alone, e.g. 09_your_photos"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-notebooks-"))
    if args.only:
        return time_alone(work, args.source, args.only)
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


def time_alone(work: Path, source: str | None, only: list[str]) -> None:
    """Time `only` in a fresh cache, then warm; replace their figures in notebooks.json."""
    missing = sorted(set(only) - {p.stem for p in NOTEBOOKS.glob("0*.ipynb")})
    if missing:
        raise SystemExit(f"error: no notebook {missing[0]}.ipynb in {NOTEBOOKS}")
    cold = run_series(work / "home", work / "cold", source, only)
    warm = run_series(work / "home", work / "warm", source, only)
    path = RESULTS / "notebooks.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    for stem in only:
        figures[f"cold_{stem}_s"], figures[f"warm_{stem}_s"] = cold[stem], warm[stem]
        figures.setdefault("timed_alone", {})[stem] = time.strftime("%Y-%m-%d")
    path.write_text(json.dumps(figures, indent=1) + "\n")
    print(
        table(
            [
                (f"{kind} {stem}", str(times[stem]))
                for stem in only
                for kind, times in (("cold", cold), ("warm", warm))
            ]
        )
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
