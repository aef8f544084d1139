"""The behaviour features as one joined expression equal the family-by-family build on DuckDB.

The same expression on Spark, over the partitioned tables, is tested in tests/test_spark.py (one Spark
session per test worker).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from src.features.backends import connect
from src.features.behaviour import build_behaviour_features
from tests.helpers.joined import joined_rows, spec_and_labeller


def test_joined_expression_equals_the_build_on_duckdb(tiny: Path) -> None:
    """Same columns, dtypes and values, bit for bit; a user without events gets the families' fills."""
    spec, labeller = spec_and_labeller(tiny)
    built = build_behaviour_features(tiny, spec, labeller)
    con = connect("duckdb")
    try:
        joined = joined_rows(tiny, spec, labeller, con)
    finally:
        con.disconnect()
    pd.testing.assert_frame_equal(joined, built, check_exact=True)
    assert built["n_sp_orders"].eq(0).any()  # users without a row in a family: the fills were exercised
