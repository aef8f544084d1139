"""Cells of the report and README tables: test metrics, and run-level metrics such as the spam challenge's."""

from __future__ import annotations

import pandas as pd

from src.reports.readme import metric_cells
from src.reports.runs import metric_with_interval


def test_a_run_level_metric_is_shown_with_its_interval_beside_a_test_metric() -> None:
    run = pd.Series(
        {
            "metrics.test_f1_positive": 0.95,
            "metrics.test_f1_positive_lo": 0.94,
            "metrics.test_f1_positive_hi": 0.96,
            "metrics.challenge_false_positive_rate": 0.005,
            "metrics.challenge_false_positive_rate_lo": 0.002,
            "metrics.challenge_false_positive_rate_hi": 0.008,
        }
    )
    cells = metric_cells(run, ["f1_positive", "challenge_false_positive_rate", "challenge_spam_recall"])
    assert cells == "f1_positive 0.950 [0.940, 0.960]; challenge_false_positive_rate 0.005 [0.002, 0.008]"


def test_the_test_split_figure_wins_over_a_run_level_metric_of_the_same_name() -> None:
    runs = pd.DataFrame([{"metrics.test_accuracy": 0.9, "metrics.accuracy": 0.1}])
    assert metric_with_interval(runs, "accuracy").iloc[0] == "0.900"


def test_a_run_missing_a_test_metric_shows_a_dash_not_a_run_level_metric_of_the_same_name() -> None:
    runs = pd.DataFrame([{"metrics.test_gap": 0.04}, {"metrics.test_gap": None, "metrics.gap": 0.49}])
    assert metric_with_interval(runs, "gap").tolist() == ["0.040", "–"]
