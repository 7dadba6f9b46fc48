"""Opening an index's rows: the Arrow file (imagesearch/records.py) against the JSON list it replaced.

    .venv/bin/python -m bench.records [--rows 200000] [--repeats 5]

Writes N rows (path, label, key, five captions of ~60 characters, like Pascal's) both ways, then
opens each in a fresh Python process that reads one row and one path: whole-process wall time
(median of the repeats) and peak resident memory (VmHWM). The baseline process imports Python,
numpy and pyarrow and reads nothing. Writes bench/results/records.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import save, table

READERS = {
    "baseline (python + numpy + pyarrow)": "import numpy, pyarrow",
    "JSON list (before)": "import json, numpy; rows = json.load(open(PATH))['items']; rows[ROW]; rows[ROW]['path']",
    "Arrow file (now)": "import numpy; from imagesearch.records import Records; r = Records.read(PATH); r[ROW]; r.column('path')[ROW]",
}
PEAK = "; print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"


def rows(n: int) -> list[dict]:
    words = "a dog sits on a red sofa next to a sleeping cat in the living room".split()
    return [
        {
            "path": f"/data/photos/class{i % 20:02d}/{i:08d}.jpg",
            "label": f"class{i % 20:02d}",
            "key": f"class{i % 20:02d}/{i:08d}.jpg",
            "captions": [" ".join(words[j:] + words[:j]) for j in range(5)],
        }
        for i in range(n)
    ]


def run(code: str, repeats: int) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code + PEAK], check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        peaks.append(int(out.stdout.split()[-1]) / 1024)
    return statistics.median(times), statistics.median(peaks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    from imagesearch.records import Records

    data = rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        json_file, arrow_file = Path(tmp) / "images.json", Path(tmp) / "images.items.arrow"
        json_file.write_text(json.dumps({"format": 1, "items": data}, indent=1))
        Records.from_dicts(data).write(arrow_file)
        sizes = {
            "JSON list (before)": json_file.stat().st_size,
            "Arrow file (now)": arrow_file.stat().st_size,
        }
        paths = {"JSON list (before)": json_file, "Arrow file (now)": arrow_file}
        figures = {}
        for name, code in READERS.items():
            code = code.replace("PATH", repr(str(paths.get(name, "")))).replace("ROW", str(args.rows // 2))
            seconds, peak_mb = run(code, args.repeats)
            figures[name] = {
                "open_and_read_s": round(seconds, 3),
                "peak_mb": round(peak_mb, 1),
                "file_mb": round(sizes[name] / 2**20, 1) if name in sizes else None,
            }
    save("records", {"rows": args.rows, "repeats": args.repeats, "readers": figures})
    print(
        table(
            [
                (k, f"{v['open_and_read_s']} s, {v['peak_mb']} MB peak, file {v['file_mb']} MB")
                for k, v in figures.items()
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
