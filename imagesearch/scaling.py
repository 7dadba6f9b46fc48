"""What changes at a million photos: the cost of exact search, the memory of the vectors, and
the scale benchmark's figures (bench/scale.py), for notebook 08 and the benchmark itself.

Exact search reads every vector for every query, so its time grows linearly with the
collection: measured here on the data set's own vectors (repeated to larger sizes), then
extrapolated with a straight line, an estimate that the notebook labels as one. The benchmark's
curve (recall@10 against p50 latency per backend) is drawn by `plot_recall_latency`, with the
goal of issue 10 (recall@10 >= 0.95 at <= 5 ms p50) as a shaded region. matplotlib is imported
only when drawing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .index import exact_search

GOAL_RECALL = 0.95
GOAL_P50_MS = 5.0
KNOBS = ("search_k", "ef", "nprobe")  # the search setting a benchmark point was measured at
BYTES_PER = {"float32": 4, "float16": 2, "int8": 1}
RESULTS_DIR = Path(__file__).resolve().parents[1] / "bench" / "results"  # in a source checkout


# -- exact search and memory --------------------------------------------------------------------
def time_exact_search(
    vectors: np.ndarray, sizes: Sequence[int], queries: int = 20, k: int = 10
) -> list[tuple[int, float]]:
    """(n, median seconds per query) of an exact top-k search over the first n rows of `vectors`
    repeated to the largest size (the work depends on n, not on what the vectors hold). One BLAS
    thread, as the benchmark's latencies: on a busy machine several threads mostly wait on each
    other. threadpoolctl comes with scikit-learn."""
    from threadpoolctl import threadpool_limits

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    tiled = np.resize(vectors, (max(sizes), vectors.shape[1]))  # rows repeated in order
    probes = vectors[np.linspace(0, len(vectors) - 1, queries).astype(int)]
    out = []
    with threadpool_limits(limits=1):
        for n in sizes:
            block = tiled[:n]
            exact_search(block, probes[0], k)  # warm up: the first pass pays for page faults
            seconds = []
            for query in probes:
                start = time.perf_counter()
                exact_search(block, query, k)
                seconds.append(time.perf_counter() - start)
            out.append((int(n), float(np.median(seconds))))
    return out


def extrapolate_linear(sizes: Sequence[int], seconds: Sequence[float], n: int) -> float:
    """The least-squares line t = a + b x through the measurements, at x = n (an estimate)."""
    slope, intercept = np.polyfit(np.asarray(sizes, float), np.asarray(seconds, float), 1)
    return float(intercept + slope * n)


def vector_bytes(n: int, dim: int, dtype: str = "float32") -> int:
    """Memory of n stored vectors: n x dim x the bytes of one component."""
    return int(n) * int(dim) * BYTES_PER[dtype]


def hnsw_graph_bytes(n: int, connectivity: int) -> int:
    """Estimated memory of an HNSW graph's links: per vector, 2M neighbour ids of 4 bytes in the
    base layer, about one id more in the upper layers (a 1/M share of the vectors, M ids each),
    and an 8-byte key. Libraries add a little bookkeeping on top."""
    return int(n) * (2 * connectivity * 4 + 4 + 8)


def recall_at_k(found: Sequence[Sequence[int]], truth: Sequence[Sequence[int]]) -> float:
    """Mean share of the true top k (per query) that an approximate search returned."""
    shares = [len(set(map(int, f)) & set(map(int, t))) / len(t) for f, t in zip(found, truth)]
    return float(np.mean(shares)) if shares else 0.0


# -- a live index that grows ------------------------------------------------------------------
def result_keys(index, results, *, score: bool = True) -> list[str]:
    """Each result's item key (class/file: short, the same on every machine), with its score
    unless `score=False`: e.g. `cat/2008_003607.jpg  0.812`, to print results beside each other."""
    keys = [index.records[r.row].get("key") or Path(r.path).name for r in results]
    return [f"{key}  {r.score:.3f}" for key, r in zip(keys, results)] if score else keys


def mirrored_copies(paths: Sequence[str | os.PathLike], folder: str | os.PathLike) -> list[Path]:
    """New photos for a demo: each image mirrored left-right, saved as
    `folder/<its folder's name>/mirrored-<name>` (so `add` labels it like the original)."""
    from PIL import Image, ImageOps

    out = []
    for path in map(Path, paths):
        target = Path(folder) / path.parent.name / f"mirrored-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            ImageOps.mirror(image.convert("RGB")).save(target, quality=95)
        out.append(target)
    return out


# -- the benchmark's figures --------------------------------------------------------------------
def load_scale_results(
    source: str = "synthetic", folder: str | os.PathLike | None = None
) -> dict[str, Any] | None:
    """The largest run of bench/scale.py for `source` in `folder` (1M first, else 100k; the
    realistic "pascal" case has only 1M runs), or None when there is none."""
    folder = Path(folder) if folder is not None else RESULTS_DIR
    tag = "" if source == "synthetic" else f"{source}-"
    sizes = (1_000_000, 100_000) if source == "synthetic" else (1_000_000,)
    for n in sizes:
        path = folder / f"scale-{tag}{n}.json"
        if path.exists():
            figures = json.loads(path.read_text())
            figures.setdefault("source", "synthetic")  # runs before --source were synthetic
            figures["file"] = path.name
            return figures
    return None


def backend_label(spec: str) -> str:
    """A benchmark spec without its search settings: `usearch-f16:M=16,efc=64`."""
    kind, _, rest = spec.partition(":")
    kept = [item for item in rest.split(",") if item and item.split("=")[0] not in KNOBS]
    return kind + (":" + ",".join(kept) if kept else "")


def knob(point: dict[str, Any]) -> str:
    """The search setting of a benchmark point, e.g. `ef=128`."""
    name = next(name for name in KNOBS if name in point)
    return f"{name}={point[name]}"


def best_settings(figures: dict[str, Any], recall: float = GOAL_RECALL) -> list[dict[str, Any]]:
    """Per backend, its fastest setting (lowest p50) reaching `recall`, or else its most
    accurate one, with the build time and peak memory of that backend."""
    rows = []
    for backend in figures["backends"]:
        points = backend["points"]
        reaching = [p for p in points if p["recall_at_10"] >= recall]
        if reaching:
            best = min(reaching, key=lambda p: (p["p50_ms"], -p["recall_at_10"]))
        else:
            best = max(points, key=lambda p: (p["recall_at_10"], -p["p50_ms"]))
        rows.append(
            {
                "backend": backend_label(backend["spec"]),
                "setting": knob(best),
                "recall@10": best["recall_at_10"],
                "p50 ms": best["p50_ms"],
                "p95 ms": best["p95_ms"],
                "build s": backend["build_s"],
                "peak MB": backend["peak_rss_mb"],
                f"reaches {recall:g}": bool(reaching),
            }
        )
    return rows


#: One colour and marker per backend, the same in every plot (the spec's name before ":").
BACKEND_STYLES = {
    "annoy": ("tab:blue", "o"),
    "usearch-f16": ("tab:orange", "s"),
    "usearch": ("tab:orange", "s"),
    "usearch-i8": ("tab:red", "D"),
    "hnswlib": ("tab:purple", "^"),
    "faiss-ivf": ("tab:brown", "v"),
    "faiss-hnsw": ("tab:pink", "<"),
    "exact": ("tab:gray", "x"),
}


def backend_style(spec: str) -> tuple[str, str]:
    """(colour, marker) of a backend spec such as "usearch-i8:M=32,efc=128"; unknown ones black."""
    return BACKEND_STYLES.get(spec.split(":", 1)[0], ("black", "p"))


def plot_recall_latency(
    backends: list[dict[str, Any]],
    n: int,
    source: str = "synthetic",
    dim: int = 512,
    goal: tuple[float, float] = (GOAL_RECALL, GOAL_P50_MS),
):
    """recall@10 against p50 latency (log scale), one line per backend (its colour the same in
    every plot: `backend_style`), the target region shaded.
    8.2 x 4.8 inches: 984 px wide at the benchmark's 120 dpi; text 10 pt or more."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.2, 4.8), layout="constrained")
    latencies = [p["p50_ms"] for b in backends for p in b["points"]] or [goal[1]]
    low, high = min(latencies + [goal[1]]) / 1.5, max(latencies + [goal[1]]) * 1.5
    ax.fill_between(
        [low, goal[1]],
        goal[0],
        1.0,
        color="tab:green",
        alpha=0.12,
        lw=0,
        label=f"target: recall@10 ≥ {goal[0]:g}, p50 ≤ {goal[1]:g} ms",
    )
    ax.axhline(goal[0], color="grey", lw=0.8, ls="--")
    ax.axvline(goal[1], color="grey", lw=0.8, ls="--")
    for backend in backends:
        colour, marker = backend_style(backend["spec"])
        ax.plot(
            [p["p50_ms"] for p in backend["points"]],
            [p["recall_at_10"] for p in backend["points"]],
            marker=marker,
            color=colour,
            label=backend_label(backend["spec"]),
        )
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(top=1.0)
    ax.set_xlabel("p50 latency per query, one thread (ms)", fontsize=11)
    ax.set_ylabel("recall@10", fontsize=11)
    ax.tick_params(labelsize=10)
    what = (
        "synthetic unit vectors (clusters, decaying spectrum)"
        if source == "synthetic"
        else "Pascal VGG16 features + noise"
    )
    ax.set_title(f"{n:,} x {dim} {what}", fontsize=12)
    ax.legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
