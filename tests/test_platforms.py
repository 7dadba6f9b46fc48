"""Every learner's machine installs the project from binary wheels alone (scripts/platforms.py):
pip resolves the dependencies at the constraints.txt pins for Linux x86_64 and aarch64, macOS
arm64 and Windows amd64, each on Python 3.11, 3.12 and 3.13, with --only-binary=:all:. A dry
run against PyPI: it needs the network, not the platforms."""

from __future__ import annotations

import pytest
from helpers import pypi_reachable

from scripts.platforms import (
    PLATFORMS,
    PYTHONS,
    NeedsCompiler,
    for_platform,
    matrix,
    project_requirements,
    resolve,
)

needs_pypi = pytest.mark.skipif(not pypi_reachable(), reason="resolves against PyPI, unreachable here")


def names(requirements: list[str]) -> set[str]:
    return {r.split(">")[0].split("=")[0].split("<")[0] for r in requirements}


def test_the_markers_choose_each_platforms_packages():
    wanted = {p: names(for_platform(project_requirements(), PLATFORMS[p], "3.12")) for p in PLATFORMS}
    assert "tensorflow-cpu" in wanted["linux-x86_64"] and "tensorflow" not in wanted["linux-x86_64"]
    for other in ("linux-aarch64", "macos-arm64", "windows-amd64"):
        assert "tensorflow" in wanted[other] and "tensorflow-cpu" not in wanted[other], other
    assert all("annoy-mm" in found and "annoy" not in found for found in wanted.values())


def test_every_manylinux_tag_from_2014_to_2_34_is_passed():
    tags = PLATFORMS["linux-x86_64"].tags
    assert (
        tags[0] == "manylinux2014_x86_64"
        and "manylinux_2_27_x86_64" in tags
        and tags[-1] == "manylinux_2_34_x86_64"
    )


@needs_pypi
def test_a_package_without_wheels_is_named_with_its_platform():
    with pytest.raises(NeedsCompiler, match=r"annoy==1\.17\.3 has no wheel for windows-amd64 / Python 3\.12"):
        resolve("windows-amd64", "3.12", requirements=["annoy==1.17.3"])


@pytest.mark.slow
@pytest.mark.once
@needs_pypi
def test_all_twelve_cells_resolve_with_binary_wheels_only():
    results = matrix()
    assert len(results) == len(PLATFORMS) * len(PYTHONS) == 12
    failed = {cell: r for cell, r in results.items() if isinstance(r, str)}
    assert not failed, "\n".join(f"{p} / Python {v}: {message}" for (p, v), message in failed.items())
    for (platform, python), wheels in results.items():
        assert all(w.endswith(".whl") for w in wheels), (platform, python)
        tag = "cp" + python.replace(".", "")
        assert [w for w in wheels if w.startswith("numpy-") and f"-{tag}-" in w], (platform, python)
        tensorflow = "tensorflow_cpu-" if platform == "linux-x86_64" else "tensorflow-"
        assert [w for w in wheels if w.startswith(tensorflow)], (platform, python)
        assert [w for w in wheels if w.startswith("annoy_mm-")], (platform, python)
