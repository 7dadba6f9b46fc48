"""Near duplicates on Pascal Sentences: imagesearch's cosine over VGG16 features beside
imagededup's perceptual hash (PHash), on the same pairs, in one run.

    IMAGESEARCH_HOME=... IMAGESEARCH_PASCAL_SOURCE=... .venv/bin/python -m bench.duplicates \
        [--imagededup-python .venv-bench/bin/python] [--per-class-select 3]

Altered copies of each photo: `resize` (half the width and height), `jpeg30` (JPEG quality 30),
`crop10` (the central 90% of width and height), `rotate5` (5 degrees, black corners).
- Duplicates: (original, altered copy), 4 per photo.
- Not duplicates: two distinct photos of the same class (the hard case: same kind of scene).
  `negatives_with_copies` also counts the altered copies of distinct photos of one class.
The threshold is chosen on training photos (`--per-class-select` per class, split seed 0), with
`choose_threshold` (the lowest multiple of 0.05 above every non-duplicate pair there; for PHash
the same rule in whole bits, its own threshold); the test photos (the split's 200)
are only measured, at the package's DEFAULT_THRESHOLD and at imagededup's default PHash
distance (10 of 64 bits). Features are embedded in cached chunks (a rerun reuses them). Writes
bench/results/duplicates.json and duplicates.png (precision-recall of both methods).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.common import RESULTS, Timer, save, table
from imagesearch.duplicates import VARIANTS, altered_copy

PHASH_DEFAULT = 10  # imagededup's find_duplicates max_distance_threshold
ROOT = Path(__file__).resolve().parents[1]


def photo_set(dataset, rows: list[int], folder: Path) -> tuple[list[Path], list[int], list[str]]:
    """(paths, shot number, class) of each original then its altered copies."""
    paths, shots, classes = [], [], []
    for shot, row in enumerate(rows):
        item = dataset[row]
        stem = item.key.replace("/", "_").rsplit(".", 1)[0]
        versions = [item.path] + [altered_copy(item.path, folder / f"{stem}.{v}.jpg", v) for v in VARIANTS]
        paths += versions
        shots += [shot] * len(versions)
        classes += [item.label] * len(versions)
    return paths, shots, classes


def labelled_pairs(shots: list[int], classes: list[str], *, copies_as_negatives: bool) -> tuple:
    """(pairs n x 2, is_duplicate, variant name of each positive or ''): originals are every
    fifth row (row = shot * 5); positives pair an original with each of its copies."""
    per = 1 + len(VARIANTS)
    pairs, truth, kinds = [], [], []
    for start in range(0, len(shots), per):
        for v, variant in enumerate(VARIANTS, start=1):
            pairs.append((start, start + v))
            truth.append(True)
            kinds.append(variant)
    by_class: dict[str, list[int]] = {}
    for row in range(len(shots)):
        if copies_as_negatives or row % per == 0:
            by_class.setdefault(classes[row], []).append(row)
    for rows in by_class.values():
        for a, b in combinations(rows, 2):
            if shots[a] != shots[b]:
                pairs.append((a, b))
                truth.append(False)
                kinds.append("")
    return np.asarray(pairs, np.int64), np.asarray(truth), kinds


def phash_distances(paths: list[Path], pairs: np.ndarray, python: str) -> tuple[np.ndarray, str]:
    """Hamming distances (bits of 64) between imagededup PHashes of each pair, and its version."""
    command = [python, str(ROOT / "bench" / "phash_imagededup.py")]
    probe = subprocess.run([python, "-c", "import torchvision"], capture_output=True)
    if probe.returncode != 0:
        command.append("--no-cnn")
    done = subprocess.run(
        command, input=json.dumps([str(p) for p in paths]), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"imagededup failed ({python}):\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    bits = np.array([[int(c, 16) for c in answer["hashes"][str(p)]] for p in paths], np.uint8)
    unpacked = np.unpackbits(bits[:, :, None], axis=2)[:, :, 4:].reshape(len(paths), -1)  # 4 bits a hex digit
    distances = (unpacked[pairs[:, 0]] != unpacked[pairs[:, 1]]).sum(axis=1)
    version = answer["imagededup"] + (
        " (hashing code; CNN module stubbed: --no-cnn)" if "--no-cnn" in command else ""
    )
    return distances, version


def figures_at(scores, truth, kinds, threshold) -> dict:
    from imagesearch.duplicates import precision_recall

    precision, recall = precision_recall(scores, truth, threshold)
    out = {"precision": round(precision, 4), "recall": round(recall, 4)}
    for variant in VARIANTS:
        rows = np.asarray([k == variant for k in kinds])
        out[f"recall_{variant}"] = round(float((scores[rows] >= threshold).mean()), 4)
    return out


def best_recall(scores, truth, min_precision: float) -> dict:
    """The most recall any threshold reaches with precision >= min_precision, and that threshold."""
    best = {"recall": 0.0, "threshold": None}
    for threshold in np.unique(scores):
        precision, recall = _pr(scores, truth, threshold)
        if precision >= min_precision and recall > best["recall"]:
            best = {"recall": round(recall, 4), "threshold": round(float(threshold), 4)}
    return best


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for name, (scores, truth, point) in curves.items():
        ts = np.unique(scores)
        pr = [_pr(scores, truth, t) for t in ts]
        ax.plot([r for _, r in pr], [p for p, _ in pr], label=name)
        ax.scatter([point[1]], [point[0]], zorder=3)
    ax.set_xlabel("recall (altered copies found)")
    ax.set_ylabel("precision")
    ax.set_ylim(0.4, 1.01)
    ax.set_title("Near duplicates, Pascal test photos (dots: default thresholds)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _pr(scores, truth, threshold):
    from imagesearch.duplicates import precision_recall

    return precision_recall(scores, truth, threshold)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imagededup-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    parser.add_argument("--per-class-select", type=int, default=3, help="training photos a class, to choose")
    args = parser.parse_args(argv)

    from imagesearch.datasets import load_pascal_sentences
    from imagesearch.duplicates import DEFAULT_THRESHOLD, choose_threshold, pair_scores
    from imagesearch.embedding import embed_files
    from imagesearch.indexing import SPLIT_SEED
    from imagesearch.models import LazyImageModel
    from imagesearch.splits import stratified_split
    from imagesearch.storage import cache_dir

    pascal = load_pascal_sentences(progress=False)
    split = stratified_split(pascal.labels, seed=SPLIT_SEED)
    test_rows = [int(r) for r in split.test]
    select_rows = []
    for label in pascal.classes:
        select_rows += [int(r) for r in split.train if pascal[int(r)].label == label][: args.per_class_select]
    folder = cache_dir("bench", "duplicates")
    select = photo_set(pascal, select_rows, folder)
    test = photo_set(pascal, test_rows, folder)
    model = LazyImageModel("vgg16-conv")
    with Timer() as embed_time:
        vectors = embed_files(model, select[0] + test[0]).features  # cached chunks: reruns are instant
    select_vectors, test_vectors = vectors[: len(select[0])], vectors[len(select[0]) :]

    sel_pairs, sel_truth, _ = labelled_pairs(select[1], select[2], copies_as_negatives=True)
    chosen = choose_threshold(pair_scores(select_vectors, sel_pairs), sel_truth)
    sel_dist, _ = phash_distances(select[0], sel_pairs, args.imagededup_python)

    results = {
        "threshold_default": DEFAULT_THRESHOLD,
        "threshold_chosen_on_training_photos": chosen,
        "select_photos": len(select_rows),
        "test_photos": len(test_rows),
        "variants": list(VARIANTS),
        "embed_s": round(embed_time.seconds, 1),  # ~0 on a rerun: the chunks are cached
    }
    curves = {}
    for negatives, copies in (("negatives_originals", False), ("negatives_with_copies", True)):
        pairs, truth, kinds = labelled_pairs(test[1], test[2], copies_as_negatives=copies)
        cosine = pair_scores(test_vectors, pairs)
        distance, version = phash_distances(test[0], pairs, args.imagededup_python)
        ours = figures_at(cosine, truth, kinds, DEFAULT_THRESHOLD)
        phash = figures_at(-distance.astype(float), truth, kinds, -PHASH_DEFAULT)
        # PHash at its best distance on the same training photos (its own threshold, chosen alike)
        phash_chosen = -choose_threshold(-sel_dist.astype(float), sel_truth, step=1)
        phash_tuned = figures_at(-distance.astype(float), truth, kinds, -phash_chosen)
        oracle = {  # each method at its best threshold for these very test pairs: an upper bound
            "imagesearch_cosine": best_recall(cosine, truth, 0.99),
            "imagededup_phash": best_recall(-distance.astype(float), truth, 0.99),
        }
        results[negatives] = {
            "pairs_duplicate": int(truth.sum()),
            "pairs_not_duplicate": int((~truth).sum()),
            "imagesearch_cosine": ours,
            "imagededup_phash_default_10": phash,
            f"imagededup_phash_chosen_{int(phash_chosen)}": phash_tuned,
            "chance_precision": round(float(truth.mean()), 4),
            "oracle_best_recall_at_precision_0.99": oracle,
        }
        results["imagededup"] = version
        if not copies:
            curves = {
                f"imagesearch cosine (t={DEFAULT_THRESHOLD})": (
                    cosine,
                    truth,
                    (ours["precision"], ours["recall"]),
                ),
                f"imagededup PHash (distance <= {PHASH_DEFAULT})": (
                    -distance.astype(float),
                    truth,
                    (phash["precision"], phash["recall"]),
                ),
            }
    path = save("duplicates", results)
    plot(curves, RESULTS / "duplicates.png")
    rows = [("threshold (default / chosen on training photos)", f"{DEFAULT_THRESHOLD} / {chosen}")]
    for negatives in ("negatives_originals", "negatives_with_copies"):
        for method, figs in results[negatives].items():
            if isinstance(figs, dict) and "precision" in figs:
                rows.append((f"{negatives}: {method}", f"P {figs['precision']:.3f}  R {figs['recall']:.3f}"))
        for method, best in results[negatives]["oracle_best_recall_at_precision_0.99"].items():
            rows.append(
                (f"{negatives}: {method}, best threshold on test", f"R {best['recall']:.3f} at P >= 0.99")
            )
    print(table(rows))
    print(f"wrote {path} and {RESULTS / 'duplicates.png'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
