"""The commands of `python -m imagesearch` that make or change an index folder (index, add,
remove, train, export) and those that set up before one (check, fetch, demo). Like the
query commands (commands.py), each `cmd_*` takes its subcommand's parsed arguments (cli.py);
errors are ImageSearchError or SystemExit with one line that says what to do. Everything heavy
is imported inside the command that needs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .pretrained import IMAGE_MODEL as SHIPPED_IMAGE_MODEL


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
        backend_options=None if args.trees is None else {"n_trees": args.trees},
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


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.out), model=args.model)
    return 0
