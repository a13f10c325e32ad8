"""`nncompile lr-find`: the plot, the suggested rate and its rule, and its flags."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_user_error, run_cli, write_csv_spec, write_training_spec


def test_lr_find_plots_and_suggests(tmp_path):
    spec = write_training_spec(tmp_path, epochs=1)
    plot = tmp_path / "lr.png"
    result = run_cli("lr-find", spec, "--start", "1e-4", "--end", "100", "--steps", "60",
                     "-o", plot)
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:4] == b"\x89PNG"
    rate = float(result.output.split("suggested learning rate:")[1].split()[0])
    assert 1e-4 <= rate <= 100


def test_lr_find_bad_range_is_usage_error(tmp_path):
    result = run_cli("lr-find", write_training_spec(tmp_path), "--start", "1", "--end", "0.1")
    assert result.exit_code == 2 and "--start" in result.output


def test_suggestion_rule_on_a_known_curve():
    from compiler.training.lr_find import exponential_rates, suggest_rate

    rates = exponential_rates(1e-4, 1.0, 41)
    log_rates = np.log10(rates)
    # Flat, then a fall steepest at 1e-2, lowest at 1e-1, then up.
    smoothed = (2 - np.tanh(3 * (log_rates + 2))
                + np.where(log_rates > -1, 20 * (log_rates + 1) ** 2, 0))
    assert suggest_rate(rates, smoothed) == pytest.approx(1e-2, rel=0.3)


def test_suggestion_ignores_a_noisy_start():
    """A wiggle of the first few averaged batches is not the steepest descent."""
    from compiler.training.lr_find import exponential_rates, suggest_rate

    rates = exponential_rates(1e-5, 10.0, 200)
    log_rates = np.log10(rates)
    smoothed = (1.2 - 0.3 * (1 + np.tanh(2 * (log_rates + 1)))
                + np.where(log_rates > 0.5, 5 * (log_rates - 0.5), 0))
    smoothed[1], smoothed[2] = 1.32, 1.22  # the early bump and drop of a bias-corrected average
    assert suggest_rate(rates, smoothed) == pytest.approx(1e-1, rel=0.5)


def test_lr_find_flags(csv_folder):
    spec = write_csv_spec(csv_folder)
    assert "cannot draw a .txt picture" in assert_user_error(
        run_cli("lr-find", spec, "-o", "lr.txt"), 2)
    assert "finite" in assert_user_error(run_cli("lr-find", spec, "--end", "inf"), 2)


def test_lr_find_never_suggests_a_rate_it_did_not_try():
    from compiler.training.lr_find import exponential_rates, suggest_rate

    rates = exponential_rates(1e-5, 10.0, 5)
    assert suggest_rate(rates, [1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(1e-5)
