"""RFM scores at the cut points, segment rules, batch independence and bad bills."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

from src.data.errors import DataValidationError
from src.errors import ConfigError
from src.features.rfm import load_cuts, rfm_segments, segment_names
from src.paths import SIMULATED_DIR

CUTS = load_cuts()  # recency [0, 1, 2, 5], frequency [1, 2, 3, 6], monetary [30, 50, 80, 120]
MONTHS = ["2011-01", "2011-02", "2011-03", "2011-04", "2011-05", "2011-06"]


def _bills(fees: dict[int, dict[str, float]]) -> pd.DataFrame:
    """user -> {YYYY-MM: fee} as a bills table with `datetime.date` months, like the parquet."""
    rows = [
        {
            "user_id": user,
            "month": dt.date.fromisoformat(f"{month}-01"),
            "total_fee": fee,
            "new_business_fee": 0.0,
        }
        for user, by_month in fees.items()
        for month, fee in by_month.items()
    ]
    return pd.DataFrame(rows)


# user: (bills, recency, frequency, monetary, r, f, m, segment); the reference month is 2011-06
CASES = {
    1: ({m: 80.0 for m in MONTHS}, 0, 6, 80.0, 5, 5, 4, "高价值"),  # m = 80 is the m4 cut
    2: ({"2011-04": 79.99, "2011-05": 79.99, "2011-06": 79.99}, 0, 3, 79.99, 5, 4, 3, "潜力"),
    3: ({"2011-06": 120.0}, 0, 1, 120.0, 5, 2, 5, "潜力"),  # big spender, one month of history
    4: ({"2011-06": 30.0}, 0, 1, 30.0, 5, 2, 2, "一般"),  # m = 30 is the m2 cut
    5: ({"2011-06": 29.99}, 0, 1, 29.99, 5, 2, 1, "低价值"),
    6: ({**{m: 50.0 for m in MONTHS[:5]}, "2011-06": 0.0}, 1, 5, 250 / 6, 4, 4, 2, "流失风险"),
    7: ({"2011-01": 40.0, "2011-04": 60.0, "2011-06": 0.0}, 2, 2, 100 / 3, 3, 3, 2, "流失风险"),
    8: ({"2011-01": 0.0, "2011-06": 0.0}, None, 0, 0.0, 1, 1, 1, "低价值"),  # rows, never paid
    9: ({"2011-01": 200.0}, 5, 1, 200.0, 2, 2, 5, "流失风险"),  # recency 5 is the r2 bound
    10: ({"2010-12": 60.0}, 6, 1, 60.0, 1, 2, 3, "流失风险"),  # one past the last bound
    11: ({"2011-01": 29.0, "2011-05": 29.0}, 1, 2, 29.0, 4, 3, 1, "低价值"),
}


@pytest.fixture
def scored() -> pd.DataFrame:
    table = _bills({user: case[0] for user, case in CASES.items()})
    return rfm_segments(table, CUTS).set_index("user_id")


@pytest.mark.parametrize("user", sorted(CASES))
def test_scores_and_segments_at_the_cut_points(scored, user):
    _, recency, frequency, monetary, r, f, m, segment = CASES[user]
    row = scored.loc[user]
    assert (pd.isna(row.recency_months) and recency is None) or row.recency_months == recency
    assert row.frequency_months == frequency
    assert row.monetary_mean == pytest.approx(monetary)
    assert (row.r_score, row.f_score, row.m_score) == (r, f, m)
    assert row.segment == segment


def test_output_columns_one_row_per_user_and_reference_month(scored):
    assert list(scored.reset_index().columns) == [
        "user_id",
        "recency_months",
        "frequency_months",
        "monetary_mean",
        "r_score",
        "f_score",
        "m_score",
        "segment",
    ]
    assert sorted(scored.index) == sorted(CASES)
    assert scored.attrs["reference_month"] == "2011-06" and scored.attrs["n_nan_fee"] == 0
    assert set(scored.segment) <= set(segment_names(CUTS))
    assert CUTS["no_bills_segment"] == "无账单" not in set(scored.segment)  # the caller fills it


def test_rows_of_one_month_are_summed_and_string_months_work():
    table = pd.DataFrame(
        {"user_id": [1, 1, 1], "month": ["2011-06", "2011-06-01", "2011-05"], "total_fee": [40.0, 40.0, 0.0]}
    )
    row = rfm_segments(table, CUTS).iloc[0]
    assert (row.frequency_months, row.monetary_mean, row.m_score) == (1, 40.0, 2)  # (80 + 0) / 2


def test_a_users_segment_does_not_depend_on_the_batch():
    table = _bills({user: case[0] for user, case in CASES.items()})
    together = rfm_segments(table, CUTS, reference_month="2011-06").set_index("user_id")
    for user in CASES:
        alone = rfm_segments(table[table.user_id == user], CUTS, reference_month="2011-06")
        pd.testing.assert_frame_equal(alone.set_index("user_id"), together.loc[[user]], check_dtype=False)


def test_rows_after_the_reference_month_are_ignored():
    table = _bills({1: {"2011-05": 90.0, "2011-06": 10.0}})
    row = rfm_segments(table, {**CUTS, "reference_month": "2011-05"}).iloc[0]
    assert (row.recency_months, row.frequency_months, row.monetary_mean, row.segment) == (0, 1, 90.0, "潜力")


def test_nan_fee_counts_as_zero_and_is_reported(caplog):
    table = _bills({1: {"2011-05": 60.0, "2011-06": np.nan}, 2: {"2011-06": 60.0}})
    with caplog.at_level(logging.WARNING, logger="src.features.rfm"):
        out = rfm_segments(table, CUTS).set_index("user_id")
    assert out.attrs["n_nan_fee"] == 1
    assert "1 row(s) with a missing total_fee" in caplog.text
    assert (out.loc[1, "recency_months"], out.loc[1, "monetary_mean"], out.loc[1, "segment"]) == (
        1,
        30.0,
        "流失风险",
    )


@pytest.mark.parametrize("column", ["user_id", "month", "total_fee"])
def test_missing_column_is_named(column):
    table = _bills({1: {"2011-06": 60.0}}).drop(columns=column)
    with pytest.raises(DataValidationError, match=f"column '{column}': missing from the bills table"):
        rfm_segments(table, CUTS)


def test_negative_fee_is_an_error_naming_the_row():
    table = _bills({1: {"2011-06": 60.0}, 7: {"2011-05": 10.0, "2011-06": -3.5}})
    with pytest.raises(DataValidationError, match=r"column 'total_fee'.*negative in 1 row.*user_id 7"):
        rfm_segments(table, CUTS)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("total_fee", "abc", "total_fee is not a number"),
        ("total_fee", np.inf, "total_fee is infinite"),
        ("month", "not a month", "month is missing or not a date"),
        ("user_id", None, "user_id is missing"),
    ],
)
def test_unreadable_values_are_errors(column, value, message):
    table = _bills({1: {"2011-05": 60.0, "2011-06": 60.0}}).astype({column: object})
    table.loc[1, column] = value
    with pytest.raises(DataValidationError, match=f"column '{column}': {message}.*row 1"):
        rfm_segments(table, CUTS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"monetary": [30, 50, 120]}, "'monetary' must hold 4 strictly increasing"),
        ({"recency": [0, 2, 1, 5]}, "'recency' must hold 4 strictly increasing"),
        ({"frequency": None}, "'frequency' must be a list"),
        ({"segments": [{"name": "x", "min": {"q": 3}}]}, r"unknown score\(s\) \['q'\]"),
        ({"reference_month": "2011-13"}, "reference_month .2011-13. is not a month"),
    ],
)
def test_bad_config_is_named(change, message):
    with pytest.raises(ConfigError, match=message):
        rfm_segments(_bills({1: {"2011-06": 60.0}}), {**CUTS, **change})


def test_hydra_config_group_composes_and_scores():
    from src.config import compose

    cfg = compose(["+profile=rfm"])
    out = rfm_segments(_bills({1: {"2011-06": 130.0}}), cfg.profile)
    assert out.loc[0, "segment"] == "潜力" and out.loc[0, "m_score"] == 5


@pytest.mark.skipif(not (SIMULATED_DIR / "default/bills.parquet").exists(), reason="simulated data not built")
def test_monetary_cuts_give_the_documented_shares_on_simulated_bills():
    bills = pd.read_parquet(SIMULATED_DIR / "default/bills.parquet")
    shares = rfm_segments(bills, CUTS)["m_score"].value_counts(normalize=True).sort_index().round(3)
    assert shares.to_dict() == {1: 0.071, 2: 0.313, 3: 0.404, 4: 0.166, 5: 0.046}  # conf/profile/rfm.yaml
