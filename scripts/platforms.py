#!/usr/bin/env python3
"""The platforms a learner brings, and whether the project installs on each from wheels alone.

`resolve(platform, python)` asks pip for a dry-run install of the project's dependencies at the
constraints.txt pins, for another platform and Python (`--platform`, `--python-version`,
`--only-binary=:all:`): it needs PyPI, not the platform. pip evaluates environment markers
against the machine it runs on, not the `--platform` it is given, so the project's own markers
(tensorflow-cpu against tensorflow, annoy-mm) are evaluated here for the target first; a
dependency's markers below them are still pip's (pure-Python helpers such as colorama on
Windows may then go unchecked, never a compiled package the project names).

    python -m scripts.platforms                      # the 12 cells: 4 platforms x 3 Pythons
    python -m scripts.platforms --platform macos-arm64 --python 3.12 --extras dev,scale

The workshop kit (scripts/workshop_kit.py) downloads with the same tags.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
PYTHONS = ("3.11", "3.12", "3.13")


def _manylinux(machine: str) -> tuple[str, ...]:
    """Every glibc tag from manylinux2014 (2.17) to 2.34: pip does not widen a given tag to older ones."""
    return (f"manylinux2014_{machine}", *(f"manylinux_2_{minor}_{machine}" for minor in range(17, 35)))


@dataclass(frozen=True)
class Platform:
    """A learner's platform: pip's wheel tags for it and the environment markers it answers with."""

    name: str
    tags: tuple[str, ...]
    sys_platform: str
    platform_system: str
    platform_machine: str

    def markers(self, python: str) -> dict[str, str]:
        return {
            "sys_platform": self.sys_platform,
            "platform_system": self.platform_system,
            "platform_machine": self.platform_machine,
            "os_name": "nt" if self.sys_platform == "win32" else "posix",
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }


PLATFORMS = {
    p.name: p
    for p in (
        Platform("linux-x86_64", _manylinux("x86_64"), "linux", "Linux", "x86_64"),
        Platform("linux-aarch64", _manylinux("aarch64"), "linux", "Linux", "aarch64"),
        # macOS 12 (Monterey) or later on Apple silicon: TensorFlow's wheels start at macosx_12_0
        Platform(
            "macos-arm64",
            tuple(f"macosx_{major}_0_arm64" for major in range(11, 16)),
            "darwin",
            "Darwin",
            "arm64",
        ),
        Platform("windows-amd64", ("win_amd64",), "win32", "Windows", "AMD64"),
    )
}


def project_requirements(extras: Sequence[str] = (), pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The project's dependencies (and `extras`) as pyproject.toml declares them, markers included."""
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    found = list(meta["dependencies"])
    for extra in extras:
        found += meta["optional-dependencies"][extra]
    return found


def for_platform(requirements: Sequence[str], platform: Platform, python: str) -> list[str]:
    """The requirements that apply on `platform` with `python`, their markers evaluated there."""
    kept = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(platform.markers(python)):
            requirement.marker = None
            kept.append(str(requirement))
    return kept


def pip_target_args(platform: Platform, python: str) -> list[str]:
    """pip's options for wheels of another platform and Python, binary wheels only."""
    args = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    for tag in platform.tags:
        args += ["--platform", tag]
    return args


class NeedsCompiler(RuntimeError):
    """A package that has no wheel for a platform and Python (pip would build it from sources)."""


def resolve(
    platform: Platform | str,
    python: str,
    *,
    extras: Sequence[str] = (),
    requirements: Sequence[str] | None = None,
    constraints: Path = LOCK,
) -> list[str]:
    """The wheel file names pip would install on `platform` with `python` (a dry run); raises
    NeedsCompiler naming the package, platform and Python when one has no wheel."""
    platform = PLATFORMS[platform] if isinstance(platform, str) else platform
    wanted = for_platform(
        requirements if requirements is not None else project_requirements(extras), platform, python
    )
    with tempfile.TemporaryDirectory(prefix="imagesearch-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--dry-run"]
        command += ["--ignore-installed", "--target", str(Path(tmp) / "target"), "--report", str(report)]
        command += pip_target_args(platform, python) + ["-c", str(constraints), *wanted]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            missing = re.findall(r"No matching distribution found for (\S+)", run.stderr)
            what = missing[0] if missing else run.stderr.strip().splitlines()[-1:]
            raise NeedsCompiler(
                f"{what} has no wheel for {platform.name} / Python {python}: pip would need to build "
                f"it from sources (a compiler). pip said: {run.stderr.strip()[-600:]}"
            )
        installs = json.loads(report.read_text())["install"]
    return sorted(item["download_info"]["url"].rsplit("/", 1)[-1] for item in installs)


def matrix(
    platforms: Sequence[str] = tuple(PLATFORMS), pythons: Sequence[str] = PYTHONS, *, extras=(), jobs: int = 4
) -> dict[tuple[str, str], str | list[str]]:
    """Every (platform, python) cell: its wheels, or the NeedsCompiler message."""

    def one(cell):
        try:
            return cell, resolve(cell[0], cell[1], extras=extras)
        except NeedsCompiler as error:
            return cell, str(error)

    cells = [(p, v) for p in platforms for v in pythons]
    with ThreadPoolExecutor(jobs) as pool:  # pip waits on the network, not the CPU
        return dict(pool.map(one, cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS))
    parser.add_argument("--python", action="append", choices=PYTHONS)
    parser.add_argument("--extras", default="", help="comma-separated extras, e.g. dev,scale")
    args = parser.parse_args(argv)
    extras = [e for e in args.extras.split(",") if e]
    results = matrix(args.platform or tuple(PLATFORMS), args.python or PYTHONS, extras=extras)
    for (platform, python), result in results.items():
        ok = isinstance(result, list)
        print(f"{platform:14} {python}: " + (f"{len(result)} wheels" if ok else f"FAILS: {result[:300]}"))
    good = sum(isinstance(r, list) for r in results.values())
    print(f"{good} of {len(results)} cells resolve with binary wheels only")
    return 0 if good == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
