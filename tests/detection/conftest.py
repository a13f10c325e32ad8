"""The `long` tier (trainings of minutes) runs only when asked for: `pytest -m long`."""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "long: trains for minutes; run with `pytest -m long`")


def pytest_collection_modifyitems(config, items):
    if "long" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="long tier: run with `pytest -m long`")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
