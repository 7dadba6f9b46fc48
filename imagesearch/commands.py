"""The commands of `python -m imagesearch` that ask an index or a folder of photos (search,
tag, words, evaluate, duplicates); those that make or change an index are in build_commands.py.
Each `cmd_*` takes the parsed arguments of its subcommand (see `cli.py`, which defines them),
does the work through the package and prints the result; errors are ImageSearchError or
SystemExit with one line that says what to do. Everything heavy is imported inside the command
that needs it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .datasets import IMAGE_EXTENSIONS
from .report import print_evaluation, print_results


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


QUERY_PREFIXES = ("image:", "text:")


def query_line(line: str) -> tuple[str, str]:
    """(kind, query) of one --queries line: `image: PATH` or `text: WORDS` say it; otherwise a
    line that names a file with an image suffix is an image (which must exist), else words."""
    for prefix in QUERY_PREFIXES:
        if line.lower().startswith(prefix):
            return prefix[:-1], line[len(prefix) :].strip()
    if Path(line).suffix.lower() in IMAGE_EXTENSIONS:
        return "image", line
    return "text", line


def _read_queries(args) -> list[tuple[str, str]]:
    """(kind, text) pairs in the order given: --image, --text, then --queries FILE lines."""
    queries = [("image", q) for q in (args.image or [])]
    queries += [("text", q) for q in (getattr(args, "text", None) or [])]
    if args.queries:
        path = Path(args.queries)
        if not path.is_file():
            raise SystemExit(f"error: queries file {path} does not exist")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = line.strip()
            if line and not line.startswith("#"):
                kind, query = query_line(line)
                if kind == "image" and not Path(query).is_file():
                    raise SystemExit(f"error: {path}, line {number}: image file {query} does not exist")
                queries.append((kind, query))
    return queries


# -- commands ---------------------------------------------------------------------------


def cmd_search(args) -> int:
    from .engine import SearchEngine

    if args.store:
        from .qdrant_store import QdrantSearch, open_store

        engine = QdrantSearch(args.index, open_store(args.store))
    else:
        engine = SearchEngine(args.index)
    queries = _read_queries(args)
    if not queries:
        raise SystemExit("error: give a query: --image PATH, --text WORDS or --queries FILE")
    if args.with_words is not None and not any(kind == "image" for kind, _ in queries):
        raise SystemExit(
            "error: --with refines an image: give one with --image PATH, e.g. "
            "`search DIR --image photo.jpg --with 'on grass'` (words alone: --text)"
        )
    steer = {"like": args.like or (), "unlike": args.unlike or ()}
    marks = ", ".join([f"liked {q}" for q in steer["like"]] + [f"disliked {q}" for q in steer["unlike"]])
    for kind, query in queries:
        if kind == "image":
            options = {"focus": args.focus, "with_words": args.with_words, **steer}
            results = engine.similar_images(query, args.k, **{k: v for k, v in options.items() if v})
            record = {"query": query}
            label = f"image {query}" + (f" (focus: {args.focus})" if args.focus else "")
            if args.with_words is not None:
                record["with"] = args.with_words
                label += f" with {args.with_words!r}"
        else:
            answer = engine.text_search(query, args.k, **{k: v for k, v in steer.items() if v})
            results = answer.results
            record = {"query": query, "ignored": list(answer.unknown)}
            label = f"text {query!r}" + (
                f" (ignored unknown: {', '.join(answer.unknown)})" if answer.unknown else ""
            )
        if marks:
            record.update(like=list(steer["like"]), unlike=list(steer["unlike"]))
            label += f" ({marks})"
        if args.json:
            _print_json({**record, "results": [r.to_dict() for r in results]})
        else:
            print_results(f"\n{label}", results)
    return 0


def cmd_tag(args) -> int:
    from .engine import SearchEngine

    engine = SearchEngine(args.index)
    asked = _read_queries(args)
    words = [q for kind, q in asked if kind != "image"]
    if words:
        raise SystemExit(
            f"error: tag takes images, not words: {words[0]!r} (give image paths, or 'image: PATH')"
        )
    queries = [q for _, q in asked]
    if not queries:
        raise SystemExit("error: give an image: --image PATH or --queries FILE")
    for query in queries:
        tags = engine.tags(query, args.k)
        if args.json:
            _print_json({"query": query, "results": [t.to_dict() for t in tags]})
        else:
            print(f"{query}: " + ", ".join(f"{t.word} ({t.score:.2f})" for t in tags))
    return 0


def cmd_words(args) -> int:
    from .glove import DEFAULT_VECTORS, load_word_vectors
    from .text import query_vector
    from .words import similar_words

    kv = load_word_vectors(args.vectors or DEFAULT_VECTORS)
    query = query_vector(kv, " ".join(args.word))
    found = similar_words(kv, query, args.k)
    text = " ".join(args.word)
    if query.unknown:
        print(f"ignored unknown words: {', '.join(query.unknown)}", file=sys.stderr)
    if args.json:
        _print_json(
            {
                "query": text,
                "ignored": list(query.unknown),
                "results": [
                    {"rank": i, "word": w, "score": round(s, 4)} for i, (w, s) in enumerate(found, 1)
                ],
            }
        )
    else:
        print(f"words like {text!r}: " + ", ".join(f"{w} ({s:.2f})" for w, s in found))
    return 0


def cmd_evaluate(args) -> int:
    from .engine import SearchEngine
    from .experiments import evaluate_engine

    words = None
    if args.words:
        path = Path(args.words)
        if not path.is_file():
            raise SystemExit(f"error: words file {path} does not exist")
        words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip()]
    report = evaluate_engine(SearchEngine(args.index), words=words, epochs=args.epochs)
    if args.json:
        _print_json(report)
        return 0
    print_evaluation(report)
    return 0


def cmd_duplicates(args) -> int:
    from .duplicates import duplicate_groups, similar_pairs
    from .embedding import folder_vectors

    if not -1.0 <= args.threshold <= 1.0:
        raise SystemExit(f"error: --threshold is a cosine, from -1 to 1, not {args.threshold}")
    if not Path(args.folder).is_dir():
        raise SystemExit(f"error: {args.folder} is not a folder: give a folder of photos or an index folder")
    vectors, paths, scan = folder_vectors(args.folder, args.model)
    for relpath, reason in scan.skipped if scan else ():
        print(f"left out {relpath}: {reason}", file=sys.stderr)
    groups = duplicate_groups(vectors, args.threshold)
    rows_i, rows_j, scores = similar_pairs(vectors, args.threshold)
    best = {}
    for i, j, score in zip(rows_i.tolist(), rows_j.tolist(), scores.tolist()):
        best[i], best[j] = max(best.get(i, -1), score), max(best.get(j, -1), score)
    for number, group in enumerate(groups, start=1):
        if args.json:
            _print_json({"group": number, "paths": [paths[r] for r in group]})
        else:
            print(f"group {number} ({len(group)} photos):")
            for row in group:
                print(f"  {paths[row]}  (closest {best[row]:.3f})")
    in_groups = sum(len(g) for g in groups)
    print(
        f"{len(groups)} groups of near duplicates, {in_groups} of {len(paths)} photos "
        f"(threshold {args.threshold})",
        file=sys.stderr if args.json else sys.stdout,
    )
    return 0
