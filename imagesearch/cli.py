"""Command line: `python -m imagesearch COMMAND ...`; `--help` on any command says more.

Errors print one line on stderr that says what to do, and exit with status 1 (2 for usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .backends import BACKENDS
from .datasets import IMAGE_EXTENSIONS
from .engine import DEFAULT_K, DEFAULT_TAGS
from .index import DEFAULT_TREES
from .indexing import DEFAULT_HEAD, HEADS
from .joint import DEFAULT_EPOCHS
from .models import DEFAULT_MODEL, MODEL_NAMES
from .report import print_evaluation, print_results
from .storage import ImageSearchError
from .targets import DEFAULT_TARGETS, TARGETS

#: --vectors defaults to None, which the library reads as its default set: that name lives in
#: imagesearch.words, and importing it (gensim) would slow down every command's start.
VECTORS_HELP = (
    "word vectors (default: imagesearch.glove.DEFAULT_VECTORS, which works offline); "
    "glove-6b-300d is the talk's, downloaded once"
)

STORE_HELP = "serve from Qdrant: qdrant://HOST:PORT (a server) or local:PATH (no server)"


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


def cmd_fetch(args) -> int:
    from .datasets import fetch_pascal_sentences

    if args.dataset != "pascal-sentences":
        raise SystemExit(f"error: only pascal-sentences can be fetched, not {args.dataset!r}")
    folder = fetch_pascal_sentences(args.source, args.dest)
    print(f"Pascal Sentences is in {folder}")
    return 0


def cmd_index(args) -> int:
    from .datasets import load_dataset
    from .indexing import build_index

    kwargs = {"source": args.source} if args.dataset == "pascal-sentences" else {}
    dataset = load_dataset(args.dataset, **kwargs)
    if args.update:
        from .updates import update_from_dataset

        return _print_update(update_from_dataset(args.out, dataset))
    if args.engine:  # fills the feature cache that build_index reads
        from .distributed import extract_features_distributed

        on_error = "skip" if args.skip_bad else "raise"
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
        on_error="skip" if args.skip_bad else "raise",
        force=args.force,
        maps=not args.no_maps,
    )
    state = (
        "already up to date"
        if report.reused
        else ("features from cache" if report.features_from_cache else "features computed")
    )
    print(f"indexed {report.count} images of {dataset.name} with {args.model} into {report.folder} ({state})")
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

    return _print_update(add_images(args.index, args.paths))


def cmd_remove(args) -> int:
    from .updates import remove_images

    return _print_update(remove_images(args.index, args.paths))


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
    for collection, count in export_index(args.index, client).items():
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
    queries = [q for kind, q in _read_queries(args) if kind == "image"]
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


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.out), model=args.model)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m imagesearch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("fetch", help="download a data set into the cache, checking every file")
    p.add_argument("dataset", choices=["pascal-sentences"])
    p.add_argument(
        "--from",
        dest="source",
        help="base URL or local folder laid out like the site "
        "(default: $IMAGESEARCH_PASCAL_SOURCE or the UIUC site)",
    )
    p.add_argument("--dest", help="where to put it (default: the cache)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("index", help="embed a data set's images and build a search index")
    p.add_argument("dataset", help="pascal-sentences, embedded, or a folder of class subfolders")
    p.add_argument("--out", required=True, help="index folder to write")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES)
    p.add_argument(
        "--trees", type=int, default=DEFAULT_TREES, help="Annoy trees (more: better recall, bigger index)"
    )
    p.add_argument("--from", dest="source", help="for pascal-sentences: where to fetch it from")
    p.add_argument("--skip-bad", action="store_true", help="leave unreadable images out (listed on stderr)")
    p.add_argument("--force", action="store_true", help="replace an index of something else in --out")
    p.add_argument("--engine", choices=["dask", "ray"], help="extract features on a Dask or Ray cluster")
    p.add_argument("--address", help="the cluster's scheduler (default: a local cluster on this machine)")
    p.add_argument("--workers", type=int, default=2, help="workers of the local cluster")
    p.add_argument(
        "--no-maps",
        action="store_true",
        help="leave out the convolution maps (50 KB an image) that focus uses; focus then re-weights",
    )
    p.add_argument(
        "--backend", default="annoy", choices=BACKENDS, help="annoy (small sets), usearch (large, updatable)"
    )
    p.add_argument("--update", action="store_true", help="add what is new in DATASET, remove what is gone")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("add", help="embed new photos and add them to an index (no rebuild with usearch)")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("paths", nargs="+", help="image files or folders of images")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="take photos (files, or everything under folders) out of an index")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("paths", nargs="+", help="indexed image files or folders")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("search", help="images similar to an image, or matching words")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("--image", action="append", help="query image (in the index or any file); repeatable")
    p.add_argument("--text", action="append", help="query words, e.g. 'cat sofa'; repeatable")
    p.add_argument(
        "--queries",
        help="file with one query per line: 'image: PATH' or 'text: WORDS', or without a prefix a path "
        "ending in an image suffix (.jpg, .png, ...; it must exist) is an image and anything else words",
    )
    p.add_argument("-k", type=int, default=DEFAULT_K, help="number of results")
    p.add_argument("--focus", help="focus an image search on this class (one object of the photo)")
    p.add_argument(
        "--like",
        action="append",
        metavar="PATH_OR_KEY",
        help="an indexed image (path, item key or row) to move the search toward; repeatable. "
        "With --store and no query: Qdrant's recommend query from the liked (and unliked) images",
    )
    p.add_argument(
        "--unlike",
        action="append",
        metavar="PATH_OR_KEY",
        help="an indexed image to move the search away from; repeatable",
    )
    p.add_argument(
        "--with",
        dest="with_words",
        metavar="WORDS",
        help="refine an --image query with words, e.g. 'on grass' (in the joint word space)",
    )
    p.add_argument("--json", action="store_true", help="print JSON Lines, one object per query")
    p.add_argument("--store", help=STORE_HELP)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", help="copy an index folder's vectors into a Qdrant store")
    p.add_argument("index", help="index folder made by `index` (and `train`)")
    p.add_argument("--store", required=True, help=STORE_HELP)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train", help="train the joint image -> word model and index images in word space")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("--vectors", default=None, help=VECTORS_HELP)
    p.add_argument(
        "--targets",
        choices=TARGETS,
        default=DEFAULT_TARGETS,
        help="what images learn to point at: their label and captions' words, or (the talk's) the label alone",
    )
    p.add_argument(
        "--head",
        choices=HEADS,
        default=DEFAULT_HEAD,
        help="ridge: closed-form linear map (fast, exact); mlp: the talk's Keras head",
    )
    p.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help="mlp: at most this many (early stopping)"
    )
    p.add_argument("--seed", type=int, default=0, help="mlp: the seed of its initialisation and batches")
    p.add_argument("--verbose", action="store_true", help="mlp: print Keras' per-epoch progress")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("tag", help="the words nearest to an image")
    p.add_argument("index", help="index folder with a trained joint model")
    p.add_argument("--image", action="append", help="image (in the index or any file); repeatable")
    p.add_argument("--queries", help="file with one image path per line")
    p.add_argument("-k", type=int, default=DEFAULT_TAGS, help="number of tags")
    p.add_argument("--json", action="store_true", help="print JSON Lines, one object per image")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("words", help="words similar to a word (or to the mean of several)")
    p.add_argument("word", nargs="+")
    p.add_argument("--vectors", default=None, help=VECTORS_HELP)
    p.add_argument("-k", type=int, default=DEFAULT_K)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_words)

    p = sub.add_parser("evaluate", help="precision figures on the index's test split")
    p.add_argument("index", help="index folder with a trained joint model")
    p.add_argument("--words", help="file of non-label words to score, one per line")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="for the held-out-classes model")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("demo", help="index the embedded data set, search it, write a contact sheet")
    p.add_argument("--out", default="results/demo", help="results folder")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        parser.error("-k must be at least 1")
    try:
        return args.func(args)
    except ImageSearchError as error:
        print(
            "error: " + "; ".join(line.strip() for line in str(error).splitlines() if line.strip()),
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("interrupted: caches are intact, run the command again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
