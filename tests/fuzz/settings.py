"""Hypothesis settings shared by the fuzz tests: fixed and repeatable in CI, longer on request.

CI runs a fixed, derandomised number of examples per test, so a run is
repeatable and its time bounded. ``NNCOMPILE_FUZZ_EXAMPLES=5000`` (the release
check) sets the work instead: every test then draws that many examples per spec
(`build` a fifth, `train` a tenth of it), with a random seed each run, and a
failure prints the blob that ``@reproduce_failure`` replays.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_LONG = int(os.environ.get("NNCOMPILE_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(ci_examples: int, long_share: float = 1.0) -> settings:
    """Settings for one fuzz test.

    Args:
        ci_examples: examples drawn in the default (CI) run.
        long_share: part of ``NNCOMPILE_FUZZ_EXAMPLES`` this test draws in a
            long run (training is slow, so its tests draw fewer).
    """
    common = {
        "deadline": None,
        "database": None,  # no .hypothesis/ folder left in the working tree
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                  HealthCheck.filter_too_much],
        "print_blob": True,
    }
    if _LONG:
        return settings(max_examples=max(ci_examples, int(_LONG * long_share)),
                        derandomize=False, **common)
    return settings(max_examples=ci_examples, derandomize=True, **common)
