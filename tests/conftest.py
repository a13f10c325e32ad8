"""Shared fixtures (the helpers they wrap are in tests/helpers.py).

TensorFlow's C++ logging is kept quiet for readable output.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import helpers

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def write_spec(tmp_path, monkeypatch):
    """``helpers.write_spec`` bound to tmp_path, which becomes the working folder.

    Call it as ``write_spec(text, filename="spec.yaml")``; it returns the path
    relative to tmp_path, so messages name ``spec.yaml`` as a user's would.
    """
    monkeypatch.chdir(tmp_path)

    def write(text: str, filename: str = "spec.yaml") -> Path:
        return helpers.write_spec(tmp_path, text, filename).relative_to(tmp_path)

    return write


@pytest.fixture
def csv_folder(tmp_path, monkeypatch):
    """tmp_path as the working folder, holding ``c.csv`` (``helpers.write_classes_csv``)."""
    monkeypatch.chdir(tmp_path)
    helpers.write_classes_csv(tmp_path / "c.csv")
    return tmp_path
