"""`make demo`: index the embedded data set, run a few searches, print them, draw a contact sheet."""
from __future__ import annotations

from pathlib import Path

from .datasets import load_embedded
from .engine import SearchEngine, build_index
from .models import DEFAULT_MODEL
from .plots import result_grid, save_figure

DEMO_K = 5


def demo_queries(engine: SearchEngine, per_class: int = 1, classes: int = 4) -> list[int]:
    """The first item of the first few classes: a spread of queries that repeats on every run."""
    seen, rows = set(), []
    for row, item in enumerate(engine.images.items):
        if item["label"] not in seen and len(seen) < classes:
            seen.add(item["label"])
            rows.append(row)
    return rows


def run_demo(out: Path, model: str = DEFAULT_MODEL) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    dataset = load_embedded()
    report = build_index(dataset, out / "index", model=model, force=True)
    print(f"Indexed {report.count} images of the embedded data set ({len(dataset.classes)} classes) "
          f"with {model} in {out / 'index'}")
    engine = SearchEngine(out / "index")
    queries, rows_of_results = [], []
    for row in demo_queries(engine):
        item = engine.images.items[row]
        results = engine.similar_images(row, DEMO_K)
        hits = sum(r.label == item["label"] for r in results)
        print(f"\nQuery: {item['key']} ({item['label']}) -> {hits}/{len(results)} results of the same class")
        print(f"  {'rank':>4}  {'score':>6}  {'label':<14} image")
        for r in results:
            print(f"  {r.rank:>4}  {r.score:>6.3f}  {r.label:<14} {engine.images.items[r.item]['key']}")
        queries.append((item["path"], item["label"]))
        rows_of_results.append(results)
    sheet = save_figure(result_grid(queries, rows_of_results), out / "contact_sheet.png")
    print(f"\nContact sheet: {sheet.resolve()}")
    return sheet
