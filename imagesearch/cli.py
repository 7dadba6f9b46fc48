"""Command line: `python -m imagesearch COMMAND ...`; `--help` on any command says more.

Errors print one line on stderr that says what to do, and exit with status 1 (2 for usage).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable

DEFAULT_K = 10


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _print_table(title: str, results, *, extra: str = "") -> None:
    print(f"\n{title}{extra}")
    print(f"  {'rank':>4}  {'score':>6}  {'label':<14} path")
    for r in results:
        print(f"  {r.rank:>4}  {r.score:>6.3f}  {r.label:<14} {r.path}")


def _read_queries(args) -> list[tuple[str, str]]:
    """(kind, text) pairs in the order given: --image, --text, then --queries FILE lines."""
    queries = [("image", q) for q in (args.image or [])]
    queries += [("text", q) for q in (getattr(args, "text", None) or [])]
    if args.queries:
        path = Path(args.queries)
        if not path.is_file():
            raise SystemExit(f"error: queries file {path} does not exist")
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                queries.append(("image" if Path(line).is_file() else "text", line))
    return queries


# -- commands ---------------------------------------------------------------------------

def cmd_fetch(args) -> int:
    from .datasets import fetch_pascal_sentences

    if args.dataset != "pascal-sentences":
        raise SystemExit(f"error: only pascal-sentences can be fetched, not {args.dataset!r}")
    folder = fetch_pascal_sentences(args.source, args.dest)
    print(f"Pascal Sentences is in {folder}")
    return 0


def cmd_index(args) -> int:
    from .datasets import load_dataset
    from .engine import build_index

    kwargs = {"source": args.source} if args.dataset == "pascal-sentences" else {}
    dataset = load_dataset(args.dataset, **kwargs)
    report = build_index(dataset, args.out, model=args.model, n_trees=args.trees,
                         on_error="skip" if args.skip_bad else "raise", force=args.force)
    state = "already up to date" if report.reused else (
        "features from cache" if report.features_from_cache else "features computed")
    print(f"indexed {report.count} images of {dataset.name} with {args.model} into {report.folder} ({state})")
    for key, reason in report.skipped:
        print(f"skipped {key}: {reason}", file=sys.stderr)
    return 0


def cmd_search(args) -> int:
    from .engine import SearchEngine

    engine = SearchEngine(args.index)
    queries = _read_queries(args)
    if not queries:
        raise SystemExit("error: give a query: --image PATH, --text WORDS or --queries FILE")
    for kind, query in queries:
        if kind == "image":
            results = engine.similar_images(query, args.k, focus=args.focus)
            record = {"query": query}
            label = f"image {query}" + (f" (focus: {args.focus})" if args.focus else "")
        else:
            answer = engine.text_search(query, args.k)
            results = answer.results
            record = {"query": query, "ignored": list(answer.unknown)}
            label = f"text {query!r}" + (f" (ignored unknown: {', '.join(answer.unknown)})"
                                         if answer.unknown else "")
        if args.json:
            _print_json({**record, "results": [r.to_dict() for r in results]})
        else:
            _print_table(label, results)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.out), model=args.model)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .models import DEFAULT_MODEL, MODEL_NAMES

    parser = argparse.ArgumentParser(prog="python -m imagesearch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("fetch", help="download a data set into the cache, checking every file")
    p.add_argument("dataset", choices=["pascal-sentences"])
    p.add_argument("--from", dest="source", help="base URL or local folder laid out like the site "
                   "(default: $IMAGESEARCH_PASCAL_SOURCE or the UIUC site)")
    p.add_argument("--dest", help="where to put it (default: the cache)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("index", help="embed a data set's images and build a search index")
    p.add_argument("dataset", help="pascal-sentences, embedded, or a folder of class subfolders")
    p.add_argument("--out", required=True, help="index folder to write")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES)
    p.add_argument("--trees", type=int, default=50, help="Annoy trees (more: better recall, bigger index)")
    p.add_argument("--from", dest="source", help="for pascal-sentences: where to fetch it from")
    p.add_argument("--skip-bad", action="store_true", help="leave unreadable images out (listed on stderr)")
    p.add_argument("--force", action="store_true", help="replace an index of something else in --out")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="images similar to an image, or matching words")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("--image", action="append", help="query image (in the index or any file); repeatable")
    p.add_argument("--text", action="append", help="query words, e.g. 'cat sofa'; repeatable")
    p.add_argument("--queries", help="file with one query per line (an existing image path or text)")
    p.add_argument("-k", type=int, default=DEFAULT_K, help="number of results")
    p.add_argument("--focus", help="re-weight an image search toward this class")
    p.add_argument("--json", action="store_true", help="print JSON Lines, one object per query")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("demo", help="index the embedded data set, search it, write a contact sheet")
    p.add_argument("--out", default="results/demo", help="results folder")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    from .storage import ImageSearchError

    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        parser.error("-k must be at least 1")
    try:
        return args.func(args)
    except ImageSearchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: caches are intact, run the command again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
