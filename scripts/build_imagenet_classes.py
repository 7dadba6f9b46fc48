#!/usr/bin/env python3
"""Regenerate imagesearch/data/imagenet_classes.json from a torchvision wheel, offline.

Keras' ``decode_predictions`` downloads ``imagenet_class_index.json`` at run time,
which fails without internet. The 1000 ImageNet-1k class names, in the standard
index order (the order of VGG16's ``predictions`` layer; index 0 "tench",
999 "toilet tissue"), are in torchvision's ``torchvision/models/_meta.py`` as
``_IMAGENET_CATEGORIES`` (BSD-3-Clause). This script reads that file straight out
of the wheel with zipfile (torch is not needed) and parses it with ``ast``
(nothing from the wheel is executed).

Usage:
    pip download --no-deps torchvision==0.29.1 -d /tmp/tv
    python scripts/build_imagenet_classes.py /tmp/tv/torchvision-0.29.1-*.whl
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import zipfile
from pathlib import Path

META_PATH = "torchvision/models/_meta.py"
VARIABLE = "_IMAGENET_CATEGORIES"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "imagesearch" / "data" / "imagenet_classes.json"


def read_categories(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read(META_PATH).decode("utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == VARIABLE for t in targets):
            value = ast.literal_eval(node.value)
            break
    else:
        raise SystemExit(f"{VARIABLE} not found in {META_PATH} of {wheel}")
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise SystemExit(f"{VARIABLE} in {wheel} is not a list of strings")
    if len(value) != 1000 or value[0] != "tench" or value[-1] != "toilet tissue":
        raise SystemExit(
            f"unexpected {VARIABLE} in {wheel}: {len(value)} names, first {value[0]!r}, last {value[-1]!r}"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to a torchvision wheel (.whl)")
    parser.add_argument(
        "-o", "--out", type=Path, default=DEFAULT_OUT, help=f"output JSON file (default: {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    if not args.wheel.is_file():
        print(f"error: no such wheel: {args.wheel}", file=sys.stderr)
        return 2
    names = read_categories(args.wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = "[\n" + ",\n".join("  " + json.dumps(n, ensure_ascii=False) for n in names) + "\n]\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(names)} class names to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
