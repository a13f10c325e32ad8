"""The catalogue's cases (see test_catalogue.py) for the layers over volumes and conv_lstm2d.

Each value holds the keyword arguments of the catalogue's ``Case``: the inputs,
the YAML under `layers:`, the expected output shapes (computed here from the
layer's definition) and a check against a NumPy re-implementation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

AXES = (1, 2, 3)


def _close(actual, expected, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=tol, atol=tol)


def _conv_size(n: int, k: int, s: int = 1) -> int:
    return (n - k) // s + 1


def check_conv3d(model, x, y) -> None:
    kernel, bias = (np.asarray(w) for w in model.get_layer("conv").get_weights())
    windows = sliding_window_view(x["x"], kernel.shape[:3], axis=AXES)
    _close(y[0], np.einsum("bdhwcijk,ijkcf->bdhwf", windows, kernel) + bias, tol=1e-4)


def _check_pool(reduce, pool: int, stride: int):
    def check(model, x, y) -> None:
        windows = sliding_window_view(x["x"], (pool,) * 3, axis=AXES)[:, ::stride, ::stride,
                                                                          ::stride]
        _close(y[0], reduce(windows, axis=(-3, -2, -1)))

    return check


def _check_global(reduce):
    def check(model, x, y) -> None:
        _close(y[0], reduce(x["x"], axis=AXES))

    return check


def check_zero_padding3d(model, x, y) -> None:
    _close(y[0], np.pad(x["x"], ((0, 0), (1, 0), (0, 2), (1, 1), (0, 0))))


def check_upsampling3d(model, x, y) -> None:
    _close(y[0], x["x"].repeat(1, axis=1).repeat(2, axis=2).repeat(3, axis=3))


def check_conv_lstm2d_states(model, x, y) -> None:
    output, h, c = y
    _close(output, h)  # an LSTM's output is its last h
    assert not np.allclose(h, c)


CASES: dict[str, dict[str, Any]] = {
    "conv3d": dict(inputs={"x": [5, 6, 4, 2]},
                   layers="- conv3d: {filters: 3, kernel: [3, 2, 3], name: conv}",
                   expected=[(_conv_size(5, 3), _conv_size(6, 2), _conv_size(4, 3), 3)],
                   check=check_conv3d),
    "conv3d_transpose": dict(inputs={"x": [3, 2, 4, 2]},
                             layers="- conv3d_transpose: {filters: 2, kernel: 3, strides: 2}",
                             expected=[((3 - 1) * 2 + 3, (2 - 1) * 2 + 3, (4 - 1) * 2 + 3, 2)]),
    "max_pool3d": dict(inputs={"x": [4, 6, 5, 2]}, layers="- max_pool3d: 2",
                       expected=[(2, 3, 2, 2)], check=_check_pool(np.max, 2, 2)),
    "avg_pool3d": dict(inputs={"x": [5, 5, 7, 1]},
                       layers="- avg_pool3d: {pool: 3, strides: 2}",
                       expected=[(_conv_size(5, 3, 2), _conv_size(5, 3, 2), _conv_size(7, 3, 2),
                                  1)],
                       check=_check_pool(np.mean, 3, 2)),
    "global_avg_pool3d": dict(inputs={"x": [3, 4, 5, 2]}, layers="- global_avg_pool3d",
                              expected=[(2,)], check=_check_global(np.mean)),
    "global_max_pool3d": dict(inputs={"x": [3, 4, 5, 2]}, layers="- global_max_pool3d",
                              expected=[(2,)], check=_check_global(np.max)),
    "zero_padding3d": dict(inputs={"x": [2, 3, 4, 1]},
                           layers="- zero_padding3d: [[1, 0], [0, 2], [1, 1]]",
                           expected=[(2 + 1, 3 + 2, 4 + 2, 1)], check=check_zero_padding3d),
    "upsampling3d": dict(inputs={"x": [2, 3, 2, 1]}, layers="- upsampling3d: [1, 2, 3]",
                         expected=[(2, 6, 6, 1)], check=check_upsampling3d),
    "conv_lstm2d": dict(inputs={"x": [4, 6, 6, 2]},
                        layers="- conv_lstm2d: {filters: 3, kernel: 3, return_state: true, "
                               "name: clstm}",
                        expected=[(4, 4, 3)] * 3, outputs=["clstm", "clstm[1]", "clstm[2]"],
                        check=check_conv_lstm2d_states),
}
