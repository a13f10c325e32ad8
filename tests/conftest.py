"""Shared fixtures. TensorFlow's C++ logging is kept quiet for readable output."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_spec(tmp_path, monkeypatch):
    """Write YAML text (dedented) to a file in tmp_path (the working folder) and return its path."""
    monkeypatch.chdir(tmp_path)

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path.relative_to(tmp_path)

    return write
