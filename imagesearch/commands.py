"""The commands of `python -m imagesearch`: each `cmd_*` takes the parsed arguments of its
subcommand (see `cli.py`, which defines them), does the work through the package and prints the
result; errors are ImageSearchError or SystemExit with one line that says what to do.
Everything heavy is imported inside the command that needs it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .datasets import IMAGE_EXTENSIONS
from .pretrained import IMAGE_MODEL as SHIPPED_IMAGE_MODEL
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


def cmd_check(args) -> int:
    from .checks import FAIL, run_checks

    checks = run_checks(tensorflow=not args.no_tensorflow)
    for check in checks:
        print(check.line(), flush=True)
    failed = sum(c.status == FAIL for c in checks)
    print(f"{failed} check(s) failed: fix them before the workshop" if failed else "ready")
    return 1 if failed else 0


def cmd_fetch(args) -> int:
    from .datasets import fetch_pascal_sentences

    if args.dataset != "pascal-sentences":
        raise SystemExit(f"error: only pascal-sentences can be fetched, not {args.dataset!r}")
    folder = fetch_pascal_sentences(args.source, args.dest)
    print(f"Pascal Sentences is in {folder}")
    return 0


def cmd_index(args) -> int:
    from .indexing import build_index
    from .photos import load_collection

    kwargs = {"source": args.source} if args.dataset == "pascal-sentences" else {}
    dataset, scan = load_collection(args.dataset, args.labels, exclude=[args.out], **kwargs)
    for relpath, reason in scan.skipped if scan else ():
        print(f"left out {relpath}: {reason}", file=sys.stderr)
    if args.update:
        from .updates import update_from_dataset

        return _print_update(update_from_dataset(args.out, dataset, wait=args.wait))
    on_error = "skip" if args.skip_bad else "raise"
    if args.engine:  # fills the feature cache that build_index reads
        from .distributed import extract_features_distributed

        run = extract_features_distributed(
            dataset,
            args.model,
            engine=args.engine,
            address=args.address,
            workers=args.workers,
            on_error=on_error,
        )
        print(
            f"{args.engine}: {run.photos_computed} photos in {run.run_s:.1f} s (cluster start {run.start_s:.1f} s)"
        )
    report = build_index(
        dataset,
        args.out,
        backend=args.backend,
        model=args.model,
        n_trees=args.trees,
        on_error=on_error,
        force=args.force,
        maps=not args.no_maps,
        wait=args.wait,
    )
    state = (
        "already up to date"
        if report.reused
        else ("features from cache" if report.features_from_cache else "features computed")
    )
    print(f"indexed {report.count} images of {dataset.name} with {args.model} into {report.folder} ({state})")
    if len(set(dataset.labels) - {""}) < 2:  # the shipped model's, where the features are its own
        shipped = "focus on Pascal Sentences' 20 classes, and words where there are no captions, come from the shipped model"
        no_focus = "no class focus: the photos have fewer than two labels (see --labels)"
        print(shipped if args.model == SHIPPED_IMAGE_MODEL else no_focus)
    for key, reason in report.skipped:
        print(f"skipped {key}: {reason}", file=sys.stderr)
    return 0


def _print_update(report) -> int:
    print(f"added {len(report.added)}, removed {len(report.removed)} images ({report.seconds:.1f} s)")
    if report.rebuilt:
        print(report.rebuilt, file=sys.stderr)
    return 0


def cmd_add(args) -> int:
    from .updates import add_images

    return _print_update(add_images(args.index, args.paths, wait=args.wait))


def cmd_remove(args) -> int:
    from .updates import remove_images

    return _print_update(remove_images(args.index, args.paths, wait=args.wait))


def cmd_search(args) -> int:
    from .engine import SearchEngine

    if args.store:
        from .qdrant_store import QdrantSearch, open_store

        engine = QdrantSearch(args.index, open_store(args.store))
    else:
        engine = SearchEngine(args.index)
    queries = _read_queries(args)
    if args.store and args.with_words is not None:
        raise SystemExit(
            "error: --with composes in the joint space of the index folder: search it without --store"
        )
    if args.store and (args.like or args.unlike):
        if queries or not args.like:
            raise SystemExit(
                "error: with --store, --like (and --unlike) without a query ask Qdrant's recommend; "
                "to steer a query with likes, search the index folder without --store"
            )
        queries.append(("feedback", ""))
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
        if kind == "feedback":
            results = engine.recommend(args.like, args.unlike or [], args.k)
            record = {"like": args.like, "unlike": args.unlike or []}
            label = f"like {', '.join(args.like)}" + (
                f", unlike {', '.join(args.unlike)}" if args.unlike else ""
            )
            marks = ""
        elif kind == "image":
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


def cmd_export(args) -> int:
    from .qdrant_store import export_index, open_store

    client = open_store(args.store)
    for collection, count in export_index(args.index, client, wait=args.wait).items():
        print(f"exported {count} vectors to {args.store} collection {collection}")
    client.close()
    return 0


def cmd_train(args) -> int:
    from .indexing import train_joint_index

    model = train_joint_index(
        args.index,
        vectors=args.vectors,
        targets=args.targets,
        head=args.head,
        epochs=args.epochs,
        seed=args.seed,
        verbose=1 if args.verbose else 0,
        wait=args.wait,
    )
    history = model.history
    if args.head == "ridge":
        fit = f"lambda {model.settings['lambda']:g}, validation cosine {max(history['val_cosine']):.4f}"
    else:
        fit = f"{len(history['loss'])} epochs, best validation loss {min(history['val_loss']):.4f}"
    print(
        f"trained the joint model ({args.head}, {args.targets} targets) in {model.train_time_s:.1f} s: "
        f"{fit}; images indexed in word space in {args.index}"
    )
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


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.out), model=args.model)
    return 0
