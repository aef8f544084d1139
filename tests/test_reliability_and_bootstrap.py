"""The library versions of the reliability bins and the bootstrap of a mean agree with what they replaced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from src.models.bootstrap import mean_interval
from src.reports.figures import reliability_curves


def _hand_bins(score: np.ndarray, hit: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """The hand-written reliability bins the figure used before sklearn's calibration_curve."""
    index = np.clip(np.digitize(score, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    return pd.DataFrame({"bin": index, "score": score, "hit": hit.astype(float)}).groupby("bin").mean()


def test_the_reliability_figure_plots_the_positive_class_bins(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    p = rng.random(3000) * 0.6  # no score in the top bins: they are left out, not drawn at zero
    truth = np.where(rng.random(3000) < p, "churn", "stay")
    frame = pd.DataFrame({"y_true": truth, "proba_churn": p, "proba_stay": 1 - p})
    fig = reliability_curves({"logreg": frame}, "churn", "churn_sim", tmp_path)
    line = next(line for line in fig.axes[0].get_lines() if line.get_label() == "logreg")
    expected = _hand_bins(p, truth == "churn")
    np.testing.assert_allclose(line.get_xdata(), expected["score"], rtol=1e-12)
    np.testing.assert_allclose(line.get_ydata(), expected["hit"], rtol=1e-12)
    assert "P(churn)" in fig.axes[0].get_xlabel()


def test_the_bootstrap_of_a_mean_is_seeded_and_matches_the_resampling_loop() -> None:
    values = np.random.default_rng(5).normal(size=400)
    rng = np.random.default_rng(42)
    draws = [values[rng.integers(0, 400, size=400)].mean() for _ in range(300)]
    low, high = mean_interval(values, 300, 0.9, 42)
    np.testing.assert_allclose([low, high], np.quantile(draws, [0.05, 0.95]), rtol=1e-12)
    assert mean_interval(values, 300, 0.9, 42) == (low, high)
    assert mean_interval(values, 300, 0.9, 43) != (low, high)
    assert mean_interval(np.array([0.25]), 300, 0.9, 42) == (0.25, 0.25)
