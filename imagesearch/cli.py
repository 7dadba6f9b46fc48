"""Command line: `python -m imagesearch COMMAND ...`; `--help` on any command says more.

This module defines the commands and their options; `commands.py` (queries) and
`build_commands.py` (making and changing an index) carry them out.

Errors print one line on stderr that says what to do, and exit with status 1 (2 for usage).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from .backends import BACKENDS, DEFAULT_TREES
from .build_commands import (
    cmd_add,
    cmd_check,
    cmd_demo,
    cmd_export,
    cmd_fetch,
    cmd_index,
    cmd_remove,
    cmd_train,
)
from .commands import cmd_duplicates, cmd_evaluate, cmd_search, cmd_tag, cmd_words
from .duplicates import DEFAULT_THRESHOLD as DUPLICATE_THRESHOLD
from .engine import DEFAULT_K, DEFAULT_TAGS
from .flags import STORE_HELP, VECTORS_HELP, add_wait, for_command_line
from .heads import DEFAULT_HEAD, HEADS
from .joint import DEFAULT_EPOCHS
from .layout import DEFAULT_BACKEND
from .models import DEFAULT_MODEL, MODEL_NAMES
from .photos import DEFAULT_LABELS, LABEL_MODES
from .serve import add_app_parser
from .storage import ImageSearchError
from .targets import DEFAULT_TARGETS, TARGETS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m imagesearch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add_command in COMMANDS:
        add_command(sub)
    return parser


def _check_parser(sub) -> None:
    p = sub.add_parser("check", help="is this machine ready for the workshop? OK, WARN or FAIL per check")
    p.add_argument("--no-tensorflow", action="store_true", help="skip importing TensorFlow (the slow check)")
    p.set_defaults(func=cmd_check)


def _fetch_parser(sub) -> None:
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


def _index_parser(sub) -> None:
    p = sub.add_parser("index", help="embed a data set's images and build a search index")
    p.add_argument("dataset", help="pascal-sentences, embedded, or a folder of photos (flat or nested)")
    p.add_argument("--out", required=True, help="index folder to write")
    p.add_argument(
        "--labels",
        choices=LABEL_MODES,
        default=DEFAULT_LABELS,
        help="subfolder names as labels (folders), none, or auto (default): labels only when every "
        "photo is in one of two or more subfolders, like a data set of class folders",
    )
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES)
    p.add_argument(
        "--trees",
        type=int,
        help=f"Annoy's trees (default {DEFAULT_TREES}; more: better recall, a bigger index); Annoy only",
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
        "--backend",
        default=DEFAULT_BACKEND,
        choices=BACKENDS,
        help="annoy (small sets), usearch (large, updatable), usearch-i8 (1M+: int8 + exact re-rank)",
    )
    p.add_argument("--update", action="store_true", help="add what is new in DATASET, remove what is gone")
    add_wait(p)
    p.set_defaults(func=cmd_index)


def _add_parser(sub) -> None:
    p = sub.add_parser("add", help="embed new photos and add them to an index (no rebuild with usearch)")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("paths", nargs="+", help="image files or folders of images")
    add_wait(p)
    p.set_defaults(func=cmd_add)


def _remove_parser(sub) -> None:
    p = sub.add_parser("remove", help="take photos (files, or everything under folders) out of an index")
    p.add_argument("index", help="index folder made by `index`")
    p.add_argument("paths", nargs="+", help="indexed image files or folders")
    add_wait(p)
    p.set_defaults(func=cmd_remove)


def _search_parser(sub) -> None:
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
        help="an indexed image (path, item key or row) to move the search toward; repeatable",
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


def _export_parser(sub) -> None:
    p = sub.add_parser("export", help="copy an index folder's vectors into a Qdrant store")
    p.add_argument("index", help="index folder made by `index` (and `train`)")
    p.add_argument("--store", required=True, help=STORE_HELP)
    add_wait(p)
    p.set_defaults(func=cmd_export)


def _train_parser(sub) -> None:
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
    add_wait(p)
    p.set_defaults(func=cmd_train)


def _tag_parser(sub) -> None:
    p = sub.add_parser("tag", help="the words nearest to an image")
    p.add_argument("index", help="index folder with a trained joint model")
    p.add_argument("--image", action="append", help="image (in the index or any file); repeatable")
    p.add_argument("--queries", help="file with one image path per line")
    p.add_argument("-k", type=int, default=DEFAULT_TAGS, help="number of tags")
    p.add_argument("--json", action="store_true", help="print JSON Lines, one object per image")
    p.set_defaults(func=cmd_tag)


def _words_parser(sub) -> None:
    p = sub.add_parser("words", help="words similar to a word (or to the mean of several)")
    p.add_argument("word", nargs="+")
    p.add_argument("--vectors", default=None, help=VECTORS_HELP)
    p.add_argument("-k", type=int, default=DEFAULT_K)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_words)


def _evaluate_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="precision figures on the index's test split")
    p.add_argument("index", help="index folder with a trained joint model")
    p.add_argument("--words", help="file of non-label words to score, one per line")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="for the held-out-classes model")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)


def _duplicates_parser(sub) -> None:
    p = sub.add_parser("duplicates", help="groups of near-identical photos (resized, re-encoded, cropped)")
    p.add_argument("folder", help="a folder of photos (embedded, cached), or an index folder (its vectors)")
    p.add_argument(
        "--threshold",
        type=float,
        default=DUPLICATE_THRESHOLD,
        help="cosine of two photos' features above which they are near duplicates "
        "(lower: more, looser groups)",
    )
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES, help="for a photo folder")
    p.add_argument("--json", action="store_true", help="print JSON Lines, one object per group")
    p.set_defaults(func=cmd_duplicates)


def _demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="index the embedded data set, search it, write a contact sheet")
    p.add_argument("--out", default="results/demo", help="results folder")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=MODEL_NAMES)
    p.set_defaults(func=cmd_demo)


COMMANDS = (
    _check_parser,
    _fetch_parser,
    _index_parser,
    _add_parser,
    _remove_parser,
    _search_parser,
    _export_parser,
    _train_parser,
    _tag_parser,
    _words_parser,
    _evaluate_parser,
    _duplicates_parser,
    add_app_parser,
    _demo_parser,
)


def main(argv: Iterable[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        parser.error("-k must be at least 1")
    try:
        return args.func(args)
    except ImageSearchError as error:
        print(
            "error: "
            + for_command_line("; ".join(line.strip() for line in str(error).splitlines() if line.strip())),
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("interrupted: caches are intact, run the command again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
