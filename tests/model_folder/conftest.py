"""Fixtures of the model-folder tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.model_folder.locking import write_tiny_spec


@pytest.fixture
def tiny_spec(tmp_path) -> Path:
    """``tiny.yaml`` and its CSV in ``tmp_path`` (see tests/model_folder/locking.py)."""
    return write_tiny_spec(tmp_path)
