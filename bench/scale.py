"""Approximate nearest-neighbour backends at scale, on the synthetic set of issue 10.

    .venv/bin/python -m bench.scale [--n 1000000] [--backends SPEC ...] [--queries 1000]
                                    [--source synthetic|pascal]

The data: 10,000 centres drawn N(0, diag(s)^2), s_i = (i+1)^-0.5 (seed 42); each vector is a
random centre + 1.5 x N(0, diag(s)^2) noise (assignments, then noise, from the same seed-42
generator, after the centres), times one random orthogonal 512 x 512 rotation (Q of the QR of
a Gaussian, seed 0), L2-normalised, float32. The queries are drawn the same way from a seed-1
generator (same centres, same rotation). Ground truth: the exact top 10 by inner product,
computed in blocks.

`--source pascal` is the realistic case: the same draw with the 1,000 Pascal Sentences VGG16
(conv, GAP) features as the centres (from the feature cache: run `build_index` or notebook 02
first) and noise N(0, (NOISE_PASCAL^2) x their covariance), so the spread matches theirs; no
rotation (the features have their own axes). Local intrinsic dimension is lower than the
synthetic set's, as for real features.

Annoy and usearch are the package's own (`imagesearch/backends/`, built and searched through
its `NeighbourBackend` interface, re-ranked by `ranking.top_k`); the others are built here.
Each backend is built in a child process (spawned, so that its ru_maxrss is its own peak
resident memory), with all cores for the build and one thread for the searches; the vectors are
read from disk in blocks, never memory-mapped whole. Peak memory is the child's VmHWM. A SPEC is `kind[:key=value,...]`, e.g.
`usearch-f16:M=32,efc=200,ef=64/128` (`/` separates the search settings to sweep; `rerank=R`
re-ranks R candidates with the exact float32 vectors, read from a memory-map). Writes
bench/results/scale-N.json and scale-N.png (recall@10 against p50 latency, drawn by
`imagesearch.scaling.plot_recall_latency`; `--replot` redraws it from the JSON alone).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from pathlib import Path

import numpy as np

from bench.common import RESULTS, save
from imagesearch.ranking import top_k
from imagesearch.scaling import plot_recall_latency, recall_at_k

DIM = 512
CENTRES = 10_000
K = 10
BLOCK = 20_000
NOISE_PASCAL = 0.5  # noise std relative to the spread of the real features around their mean
DEFAULT_BACKENDS = [
    "annoy:trees=50,search_k=2000/8000/30000",
    "hnswlib:M=16,efc=64,ef=32/64/128/256",
    "faiss-hnsw:M=16,efc=64,ef=32/64/128/256",
    "faiss-hnsw-fp16:M=16,efc=64,ef=32/64/128/256",
    "faiss-hnsw-sq8:M=16,efc=64,ef=64/128/256,rerank=64",
    "faiss-ivf:nlist=1024,nprobe=8/16/32/64",
    "usearch-f32:M=16,efc=64,ef=32/64/128/256",
    "usearch-f16:M=16,efc=64,ef=32/64/128/256",
    "usearch-i8:M=16,efc=64,ef=64/128/256,rerank=64",
]


# -- the data set --------------------------------------------------------------------------
def _scales() -> np.ndarray:
    return (np.arange(DIM) + 1.0) ** -0.5


def rotation() -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((DIM, DIM)))
    return q


class Source:
    """Centres and a noise transform: x = centre + noise_scale * (z @ noise), then @ rot."""

    def __init__(self, name: str):
        self.name = name
        if name == "synthetic":
            rng = np.random.default_rng(42)
            self.centres = rng.standard_normal((CENTRES, DIM)) * _scales()
            self.noise = np.diag(_scales())
            self.noise_scale = 1.5
            self.rot = rotation()
            self.data_rng = rng  # the seed-42 stream continues into the data
        elif name == "pascal":
            self.centres = pascal_features().astype(np.float64)
            cov = np.cov(self.centres, rowvar=False)
            w, v = np.linalg.eigh(cov)
            self.noise = (v * np.sqrt(np.clip(w, 0, None))).T  # z @ noise ~ N(0, cov)
            self.noise_scale = NOISE_PASCAL
            self.rot = np.eye(DIM)
            self.data_rng = np.random.default_rng(42)
        else:
            raise SystemExit(f"unknown source {name!r}: synthetic or pascal")

    def draw(self, rng, n: int, block: int):
        """Yield float32 unit-vector blocks; the stream does not depend on `block`."""
        which = rng.integers(0, len(self.centres), n)
        for start in range(0, n, block):
            rows = which[start : start + block]
            noise = rng.standard_normal((len(rows), DIM)) @ self.noise
            x = (self.centres[rows] + self.noise_scale * noise) @ self.rot
            yield (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def pascal_features() -> np.ndarray:
    """The 1,000 Pascal Sentences vgg16-conv features, unit length, from the cache (the CNN runs only if they are not cached)."""
    from imagesearch import extract_features, load_dataset
    from imagesearch.features import l2_normalize
    from imagesearch.models import LazyImageModel

    features = extract_features(
        load_dataset("pascal-sentences"), LazyImageModel("vgg16-conv"), progress=False
    )
    return l2_normalize(np.asarray(features.features, dtype=np.float32))


def data_blocks(n: int, block: int = BLOCK, source: str = "synthetic"):
    src = Source(source)
    yield from src.draw(src.data_rng, n, block)


def queries(n: int = 1000, source: str = "synthetic") -> np.ndarray:
    return np.concatenate(list(Source(source).draw(np.random.default_rng(1), n, BLOCK)))


def write_data(n: int, path: Path, source: str = "synthetic") -> None:
    """The base vectors as an .npy file, written block by block (1M x 512 float32 = 2 GB)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, DIM))
    start = 0
    for block in data_blocks(n, source=source):
        out[start : start + len(block)] = block
        start += len(block)
    out.flush()
    del out
    os.replace(tmp, path)


def read_blocks(path: Path, block: int = BLOCK):
    """(start, float32 block) from an .npy file by plain reads: resident memory stays one block."""
    with open(path, "rb") as f:
        major, _ = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        )
        shape, _, _ = read_header(f)
        for start in range(0, shape[0], block):
            count = min(block, shape[0] - start)
            yield start, np.fromfile(f, dtype=np.float32, count=count * DIM).reshape(count, DIM)


def ground_truth(path: Path, q: np.ndarray, k: int = K) -> np.ndarray:
    """Exact top-k rows by inner product, merged block by block."""
    best_s = np.full((len(q), k), -np.inf, np.float32)
    best_i = np.zeros((len(q), k), np.int64)
    for start, x in read_blocks(path):
        s = q @ x.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        s_all = np.concatenate([best_s, np.take_along_axis(s, top, 1)], 1)
        i_all = np.concatenate([best_i, top + start], 1)
        keep = np.argsort(-s_all, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(s_all, keep, 1), np.take_along_axis(i_all, keep, 1)
    return best_i


# What installs each backend's module: faiss comes with the `bench` extra, hnswlib by hand (it
# ships only sources: a C++ compiler), Annoy and usearch with the project itself.
MODULES = {
    "annoy": ("annoy", "pip install annoy-mm"),
    "hnswlib": ("hnswlib", "pip install hnswlib: needs a C++ compiler"),
    "faiss": ("faiss", "pip install -e '.[bench]'"),
    "usearch": ("usearch", "pip install usearch"),
}


def missing_module(spec: str) -> str | None:
    """Why `spec`'s backend cannot run here (its module is not installed, and how to get it), else None."""
    import importlib.util

    kind = parse_spec(spec)[0]
    found = next((m for prefix, m in MODULES.items() if kind.startswith(prefix)), None)
    if found and importlib.util.find_spec(found[0]) is None:
        return f"{found[0]} is not installed ({found[1]})"
    return None


# -- the backends (each runs in its own child process) -------------------------------------
def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = spec.partition(":")
    return kind, dict(item.split("=", 1) for item in rest.split(",") if item)


def _build(kind: str, p: dict[str, str], path: Path, n: int):
    """Build the index from the blocks on disk; return search(q, k, setting) -> rows."""
    M, efc = int(p.get("M", 16)), int(p.get("efc", 100))
    if kind == "annoy" or kind.startswith("usearch"):
        return _package_backend(kind, p, path)
    if kind == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=DIM)
        index.init_index(max_elements=n, M=M, ef_construction=efc, random_seed=0)
        for start, x in read_blocks(path):
            index.add_items(x, np.arange(start, start + len(x)), num_threads=os.cpu_count())
        index.set_num_threads(1)

        def search(q, k, ef):
            index.set_ef(ef)
            return index.knn_query(q, k)[0][0]

        return search
    if kind.startswith("faiss"):
        import faiss

        if kind == "faiss-ivf":
            nlist = int(p.get("nlist", 1024))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = next(read_blocks(path, min(n, max(nlist * 39, BLOCK))))[1]
            index.train(sample)
            del sample
        elif kind == "faiss-hnsw":
            index = faiss.IndexHNSWFlat(DIM, M, faiss.METRIC_INNER_PRODUCT)
        else:
            qtype = {
                "faiss-hnsw-fp16": faiss.ScalarQuantizer.QT_fp16,
                "faiss-hnsw-sq8": faiss.ScalarQuantizer.QT_8bit,
            }
            index = faiss.IndexHNSWSQ(DIM, qtype[kind], M, faiss.METRIC_INNER_PRODUCT)
            if kind == "faiss-hnsw-sq8":
                index.train(next(read_blocks(path, min(n, 100_000)))[1])
        if hasattr(index, "hnsw"):
            index.hnsw.efConstruction = efc
        for _, x in read_blocks(path):
            index.add(x)
        faiss.omp_set_num_threads(1)

        def search(q, k, s):
            if kind == "faiss-ivf":
                index.nprobe = s
            else:
                index.hnsw.efSearch = s
            return index.search(q[None], k)[1][0]

        return search
    raise SystemExit(f"unknown backend kind {kind!r}")


def _package_backend(kind: str, p: dict[str, str], path: Path):
    """Annoy and usearch as the package builds and searches them (imagesearch/backends/,
    through the `NeighbourBackend` interface): what the presets were chosen on is what runs."""
    from imagesearch.backends import make_backend

    if kind == "annoy":
        backend = make_backend("annoy", DIM, {"n_trees": int(p.get("trees", 50)), "seed": 0})
    else:
        settings = {"dtype": kind.split("-")[1], "connectivity": int(p.get("M", 16))}
        backend = make_backend("usearch", DIM, {**settings, "expansion_add": int(p.get("efc", 100))})
    backend.build(np.load(path, mmap_mode="r"))

    def search(q, k, setting):
        if kind == "annoy":
            return backend.search(q, k, search_k=setting)[0]
        backend.tune(expansion_search=setting)
        return backend.search(q, k)[0]

    return search


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries the parent's
    high-water mark over fork and exec into a child's ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def run_backend(spec: str, path: str, q: np.ndarray, truth: np.ndarray) -> dict:
    """In a child process: build, then per search setting recall@10 and p50/p95 latency."""
    kind, p = parse_spec(spec)
    path = Path(path)
    n = int(np.load(path, mmap_mode="r").shape[0])
    base_mb = peak_rss_mb()
    t0 = time.perf_counter()
    search = _build(kind, p, path, n)
    build_s = time.perf_counter() - t0
    build_mb = peak_rss_mb()
    rerank = int(p.get("rerank", 0))
    vectors = np.load(path, mmap_mode="r") if rerank else None
    default = {"annoy": "search_k"}.get(kind, "nprobe" if kind == "faiss-ivf" else "ef")
    points = []
    for setting in [int(s) for s in p.get(default, "64").split("/")]:
        found, times = [], []
        for query in q:
            t = time.perf_counter_ns()
            rows = np.asarray(search(query, max(K, rerank), setting), dtype=np.int64)
            if rerank:  # the exact re-rank of EmbeddingIndex.search, by the package's one top-k
                rows = np.sort(rows[rows >= 0])
                rows = top_k(vectors[rows] @ query, K, rows=rows)[0]
            times.append(time.perf_counter_ns() - t)
            found.append(rows[:K])
        recall = recall_at_k(found, truth)
        ms = np.asarray(times) / 1e6
        points.append(
            {
                default: setting,
                "recall_at_10": round(float(recall), 4),
                "p50_ms": round(float(np.percentile(ms, 50)), 3),
                "p95_ms": round(float(np.percentile(ms, 95)), 3),
            }
        )
        print(
            f"  {spec:<50} {default}={setting:<6} recall@10 {recall:.3f}  p50 {np.median(ms):.2f} ms",
            flush=True,
        )
    return {
        "spec": spec,
        "kind": kind,
        "build_s": round(build_s, 1),
        "peak_rss_mb": round(build_mb, 1),
        "baseline_rss_mb": round(base_mb, 1),
        "points": points,
    }


def plot(figures: dict, out: Path) -> None:
    """The curve of a run (its JSON figures) as a PNG, drawn by the package's plot."""
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_recall_latency(figures["backends"], figures["n"], figures.get("source", "synthetic"), DIM)
    fig.savefig(out, dpi=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--backends", nargs="+", default=DEFAULT_BACKENDS, help="SPEC kind[:key=value,...]")
    parser.add_argument("--source", default="synthetic", choices=["synthetic", "pascal"])
    parser.add_argument(
        "--data", default=None, help="folder for the cached base vectors (default: the cache)"
    )
    parser.add_argument(
        "--replot", action="store_true", help="only redraw scale-N.png from the saved scale-N.json"
    )
    args = parser.parse_args(argv)
    from imagesearch.storage import cache_dir

    folder = Path(args.data) if args.data else cache_dir("bench-scale")
    tag = f"{args.n}" if args.source == "synthetic" else f"pascal-{args.n}"
    if args.replot:
        plot(json.loads((RESULTS / f"scale-{tag}.json").read_text()), RESULTS / f"scale-{tag}.png")
        print(f"wrote {RESULTS / f'scale-{tag}.png'}")
        return 0
    path = folder / f"base-{tag}.npy"
    t0 = time.perf_counter()
    if not path.exists():
        write_data(args.n, path, args.source)
    q = queries(args.queries, args.source)
    truth = ground_truth(path, q)
    print(f"data + ground truth: {time.perf_counter() - t0:.1f} s", flush=True)
    context = multiprocessing.get_context("spawn")
    results = []
    for spec in args.backends:
        if why := missing_module(spec):
            print(f"{spec}: skipped, {why}", flush=True)
            continue
        with context.Pool(1) as pool:  # a fresh process per backend: ru_maxrss is its own
            results.append(pool.apply(run_backend, (spec, str(path), q, truth)))
        r = results[-1]
        print(
            f"{spec}: build {r['build_s']} s, peak {r['peak_rss_mb']} MB (baseline {r['baseline_rss_mb']})",
            flush=True,
        )
    figures = {"n": args.n, "dim": DIM, "source": args.source, "queries": args.queries, "backends": results}
    saved = save(f"scale-{tag}", figures)
    plot(figures, RESULTS / f"scale-{tag}.png")
    print(f"wrote {saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
