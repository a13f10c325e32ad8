"""The `long` tier for this folder until the project's configuration registers it.

Tests marked ``long`` run with ``-m long`` only (a second CI command), never
in the default suite.
"""

from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "long: heavy end-to-end runs, selected with -m long")


def pytest_collection_modifyitems(config, items):
    if "long" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="long tier: run with -m long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
