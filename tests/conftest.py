"""Shared fixtures. Each block says who uses it."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a private IMAGESEARCH_HOME unless it asks for a shared one."""
    if "IMAGESEARCH_HOME" not in os.environ or os.environ.get("IMAGESEARCH_TEST_ISOLATE", "1") == "1":
        monkeypatch.setenv("IMAGESEARCH_HOME", str(tmp_path_factory.mktemp("home")))
