"""Registers the `long` marker until pyproject.toml has it."""


def pytest_configure(config):
    config.addinivalue_line("markers", "long: runs in the second CI command (`pytest -m long`)")
