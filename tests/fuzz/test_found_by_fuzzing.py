"""Inputs the fuzz tests found, kept as plain regression tests."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.data.readers.arrays import read_npz
from compiler.errors import DataError


def test_npz_without_arrays_says_so(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path)  # a valid archive that holds nothing
    with pytest.raises(DataError) as info:
        read_npz(path, {"features": "x"}, {"kind": "y"}, "d.npz")
    text = str(info.value)
    assert "d.npz: no array 'x' in the archive; the archive holds no arrays" in text, text
