"""Importing TensorFlow without its C++ start-up chatter on the user's terminal.

TensorFlow's native code logs (oneDNN notes, "could not find cuda drivers",
cuInit failures) straight to file descriptor 2 before any Python logging
setting applies. We silence that descriptor only while TensorFlow imports and
looks for devices; our own messages are printed later, on a restored stderr.
"""

from __future__ import annotations

import os
import sys

_done = False


def import_tensorflow_quietly() -> None:
    """Import TensorFlow (and list devices) with native stderr logging suppressed."""
    global _done
    if _done:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()
        import keras  # noqa: F401
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    _done = True


def tf_error_text(err: BaseException, limit: int = 200) -> str:
    """The readable part of a TensorFlow error: no ``{{function_node ...}}`` or ``[Op:...]``.

    TensorFlow prefixes op errors with the internal function name and ends
    them with the op's name, which mean nothing to a user reading why a file
    could not be read or written.
    """
    import re

    text = getattr(err, "message", None) or str(err)
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)
    text = re.sub(r"\s*\[Op:[^\]]*\](\s*name:\s*\S*)?", "", text)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
