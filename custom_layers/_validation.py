"""Argument checks shared by the custom layers, with Keras-style messages."""

from __future__ import annotations

from typing import Any


def check_positive_int(name: str, value: Any) -> int:
    """Returns ``value`` if it is a positive integer, else raises ValueError.

    Args:
        name: The argument name, shown in the message.
        value: What the caller passed.

    Returns:
        ``value`` as an ``int``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a "
            f"positive integer, got {value!r}."
        )
    return value


def check_rate(name: str, value: Any) -> float:
    """Returns ``value`` as a float if it lies in [0, 1), else raises ValueError.

    Args:
        name: The argument name, shown in the message.
        value: What the caller passed.

    Returns:
        ``value`` as a ``float``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a "
            f"float in [0, 1), got {value!r}."
        )
    return float(value)
