"""Report tables: what the CLI, the demo and the notebooks print, formatted one way.

- `print_results`: ranked results (rank, score, label, path or key), the one table the CLI's
  `search` and the demo both print;
- `print_evaluation`: `evaluate_engine`'s report as text, for the CLI's `evaluate`;
- `evaluation_table`: the same headline numbers as a pandas table, for notebooks;
- `comparison_table`: several models' reports side by side, with chance and baselines once.

pandas is imported inside `evaluation_table` on purpose: the CLI prints tables without it, and
a search from the command line must start fast.
"""

from __future__ import annotations

from collections.abc import Sequence

from .index import Result

#: What each number of `evaluate_engine` measures, in the order a reader should see them.
EVALUATION_METRICS = {
    "image_to_image_p10": "image -> image: test images query all others (CNN features); "
    "share of the top 10 of the same class",
    "class_words_p10": "class name -> images: each class name queries the test images in the joint space",
    "heldout_classes_p10": "zero-shot: a model trained without the held-out classes (images, captions, "
    "names) finds their test images by name",
    "heldout_classes_p10_all_test": "zero-shot, ranking all test images (not only the unseen classes')",
    "caption_words_p10": "frequent caption words that name no class -> the images that 2+ of their "
    "captions say; reference: rank by the true class's training captions",
    "tags_class_top5": "share of test images whose 5 tags hold a word naming their class",
    "tags_caption_top5": "share of test images whose 5 tags hold a word of one of their captions; "
    "baseline: the same 5 frequent words for every image",
    "tags_caption_precision": "share of the 5 tags that a caption of the image uses; baseline: the same "
    "5 frequent words for every image",
    "tags_beyond_constant": "share of the 5 tags that a caption uses and the constant list lacks "
    "(the constant list scores 0)",
    "feedback_p10_none": "simulated user, no feedback: test images query (CNN features); P@10 of ranks 11-20",
    "feedback_p10_round1": "simulated user: the top 10's same-class results liked, the others disliked; "
    "P@10 of the next 10 not shown (against feedback_p10_none)",
    "feedback_p10_round2": "the same after a second round (against ranks 21-30 without feedback)",
    "composed_p10": "test photo of class C + a frequent caption word: images of C that 2+ captions "
    "describe with the word (joint space, photo + weighted words)",
    "composed_image_only_p10": "the same cases, the photo alone (CNN features)",
    "composed_words_only_p10": "the same cases, the word alone (joint space)",
    "focus_gain_labelled": "focus: test photos whose 2+ captions name a second class, focused on their "
    "label; P@10 of that class minus without focus; baseline: the talk's re-weighting",
    "focus_gain_other": "focus: the same photos focused on the other class their captions name; "
    "baseline: the talk's re-weighting",
}

#: The baseline beside each metric: (key in the report or None, what it is).
BASELINES = {
    "caption_words_p10": ("caption_words_class_prior", "class prior (uses the label)"),
    "tags_caption_top5": ("tags_constant_baseline", "constant tags"),
    "tags_caption_precision": ("tags_caption_precision_constant", "constant tags"),
    "focus_gain_labelled": ("focus_reweight_gain_labelled", "the talk's re-weighting"),
    "focus_gain_other": ("focus_reweight_gain_other", "the talk's re-weighting"),
}


def evaluation_table(result: dict, digits: int = 3):
    """`evaluate_engine`'s headline numbers as a pandas table: value, what chance would score
    (a random ranking; none for tags), a baseline or reference where there is one, and what it
    measures. Rounded, so that it prints the same on every run."""
    import pandas as pd

    classes = len(result["per_class_p10"])
    heldout = len(result["heldout_classes"])
    chance = {
        "image_to_image_p10": 1 / classes if classes else None,
        "class_words_p10": 1 / classes if classes else None,
        "heldout_classes_p10": 1 / heldout if heldout else None,
        "heldout_classes_p10_all_test": 1 / classes if classes else None,
        "caption_words_p10": result.get("caption_words_chance"),
        "tags_beyond_constant": 0.0,
    }
    rows = [
        {
            "metric": name,
            "value": result.get(name),
            "chance": chance.get(name),
            "baseline": result.get(BASELINES[name][0]) if name in BASELINES else None,
            "measures": text,
        }
        for name, text in EVALUATION_METRICS.items()
    ]
    table = pd.DataFrame(rows).set_index("metric")
    columns = ["value", "chance", "baseline"]
    table[columns] = table[columns].astype(float).round(digits)
    return table


def comparison_table(results: dict[str, dict], digits: int = 3):
    """Several `evaluate_engine` reports (name -> report, same index and split) as one table:
    one value column per model, then chance, baseline and what it measures, which depend on the
    split and the captions only, so they are taken from the first report."""
    tables = {name: evaluation_table(result, digits) for name, result in results.items()}
    if not tables:
        raise ValueError("comparison_table needs at least one evaluation report")
    first = next(iter(tables.values()))
    values = first[[]].copy()
    for name, table in tables.items():
        values[name] = table["value"]
    return values.join(first[["chance", "baseline", "measures"]])


def print_results(
    title: str, results: Sequence[Result], *, names: Sequence[str] | None = None, column: str = "path"
) -> None:
    """Ranked results as an aligned table under `title` (printed as given): rank, score, label
    and, in a column headed `column`, each result's entry of `names` (default: its path)."""
    print(title)
    print(f"  {'rank':>4}  {'score':>6}  {'label':<14} {column}")
    for r, name in zip(results, [r.path for r in results] if names is None else names):
        print(f"  {r.rank:>4}  {r.score:>6.3f}  {r.label:<14} {name}")


#: `evaluate_engine`'s figures of words and tags (the language protocol), in reading order.
LANGUAGE_METRICS = (
    "image_to_image_p10",
    "class_words_p10",
    "heldout_classes_p10",
    "heldout_classes_p10_all_test",
    "caption_words_p10",
    "caption_words_chance",
    "caption_words_class_prior",
    "tags_class_top5",
    "tags_caption_top5",
    "tags_constant_baseline",
    "tags_caption_precision",
    "tags_caption_precision_constant",
    "tags_beyond_constant",
)

#: `evaluate_engine`'s numbers that `print_evaluation` lists, in this order.
PRINTED_METRICS = LANGUAGE_METRICS + (
    "focus_p10_none_labelled",
    "focus_p10_reweight_labelled",
    "focus_p10_labelled",
    "focus_gain_labelled",
    "focus_p10_none_other",
    "focus_p10_reweight_other",
    "focus_p10_other",
    "focus_gain_other",
)


def print_evaluation(report: dict) -> None:
    """`evaluate_engine`'s report as text: the headline numbers, the held-out classes, and
    each caption word's precision beside its chance level."""
    print(f"on the {report['test_images']} test images (never used in training):")
    for key in PRINTED_METRICS:
        value = report.get(key)
        print(f"  {key:<28} {'n/a' if value is None else f'{value:.3f}'}")
    print(f"  held-out classes: {', '.join(report['heldout_classes'])}")
    if report.get("constant_tags"):
        print(f"  constant tags (the baseline): {', '.join(report['constant_tags'])}")
    print(f"  caption words ({report['words_source']}):")
    for w in report["words"]:
        p10 = "unknown" if w.get("unknown") else ("n/a" if w["p10"] is None else f"{w['p10']:.2f}")
        print(
            f"    {w['word']:<14} P@10 {p10:<7} relevant test images {w['relevant']:>3}  chance {w['chance']:.3f}"
            + (f"  class prior {w['class_prior']:.2f}" if w.get("class_prior") is not None else "")
        )
