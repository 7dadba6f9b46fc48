"""bench.scale on a fresh venv: a backend whose library is not installed is skipped with one
line saying how to get it, and the project's own backends still run."""

import sys

from bench import scale


def test_absent_backends_are_named_with_their_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # as if not installed: find_spec answers None
    monkeypatch.setitem(sys.modules, "hnswlib", None)
    assert "pip install -e '.[bench]'" in scale.missing_module("faiss-ivf:nlist=1024,nprobe=8")
    assert "C++ compiler" in scale.missing_module("hnswlib:M=16,efc=64,ef=32")
    assert scale.missing_module("usearch-f16:M=16,efc=64,ef=32") is None  # the project's own
    assert all(
        scale.missing_module(s) is None for s in scale.DEFAULT_BACKENDS if s.startswith(("annoy", "usearch"))
    )


def test_a_run_without_the_extra_skips_and_still_measures(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "faiss", None)
    monkeypatch.setattr(scale, "RESULTS", tmp_path)
    monkeypatch.setattr(scale, "save", lambda name, figures: tmp_path / f"{name}.json")
    specs = ["faiss-ivf:nlist=16,nprobe=4", "usearch-f16:M=8,efc=32,ef=32"]
    assert scale.main(["--n", "500", "--queries", "10", "--data", str(tmp_path), "--backends", *specs]) == 0
    out = capsys.readouterr().out
    assert "faiss-ivf:nlist=16,nprobe=4: skipped, faiss is not installed" in out
    assert "usearch-f16:M=8,efc=32,ef=32: build" in out
