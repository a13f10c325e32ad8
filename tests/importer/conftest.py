"""The `long` tier's marker, until pyproject.toml registers it."""


def pytest_configure(config):
    config.addinivalue_line("markers", "long: heavy checks, run as `pytest -m long`")
