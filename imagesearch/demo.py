"""`make demo`: index the embedded data set, run image and text searches and tag images,
print them as tables, and draw a contact sheet of it all."""

from __future__ import annotations

from pathlib import Path

from .datasets import load_embedded
from .engine import SearchEngine
from .folder import IndexFolder
from .indexing import build_index, train_joint_index
from .models import DEFAULT_MODEL
from .plots import result_grid, save_figure
from .report import print_results
from .scaling import result_keys

DEMO_K = 5
DEMO_TEXTS = ("cat", "ocean", "cat sofa")  # a label, a word that is no label, several words


def demo_queries(engine: SearchEngine, per_class: int = 1, classes: int = 4) -> list[int]:
    """The first item of the first few classes: a spread of queries that repeats on every run."""
    seen, rows = set(), []
    for row, item in enumerate(engine.images.records):
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
    print(
        f"Indexed {report.count} images of the embedded data set ({len(dataset.classes)} classes) "
        f"with {model} in {out / 'index'}"
    )
    if not IndexFolder(out / "index").has_joint:
        model = train_joint_index(out / "index")
        print(
            f"Trained the joint image-word model ({model.settings['head']}, "
            f"{model.settings['targets']} targets) in {model.train_time_s:.1f} s on cached features"
        )
    engine = SearchEngine(out / "index")
    queries, rows_of_results = [], []
    for row in demo_queries(engine):
        item = engine.images.records[row]
        results = engine.similar_images(row, DEMO_K)
        hits = sum(r.label == item["label"] for r in results)
        title = f"\nQuery: {item['key']} ({item['label']}) -> {hits}/{len(results)} results of the same class"
        print_results(title, results, names=result_keys(engine.images, results, score=False), column="image")
        queries.append((item["path"], item["label"]))
        rows_of_results.append(results)
        tags = engine.tags(row, DEMO_K)
        print(f"  tags: {', '.join(f'{t.word} ({t.score:.2f})' for t in tags)}")

    for text in DEMO_TEXTS:
        answer = engine.text_search(text, DEMO_K)
        print_results(
            f"\nText query: {text!r}",
            answer.results,
            names=result_keys(engine.images, answer.results, score=False),
            column="image",
        )
        queries.append((None, text))
        rows_of_results.append(answer.results)
    sheet = save_figure(result_grid(queries, rows_of_results), out / "contact_sheet.png")
    print(f"\nContact sheet: {sheet.resolve()}")
    return sheet
