"""The behaviour features as one joined expression equal the family-by-family build, on DuckDB and Spark."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from src.config import compose
from src.features.backends import connect
from src.features.behaviour import build_behaviour_features, feature_families
from src.features.behaviour_joined import joined_features
from src.features.behaviour_spec import FeatureSpec
from src.features.titles import title_labeller

RTOL = 1e-9


def _spec_and_labeller(tiny: Path):
    """The profile's feature spec and the lookup title labeller (the labelled build joins categories too)."""
    cfg = compose([f"input={tiny}", "output=-", "features.titles.labeller=lookup"], config_name="profile")
    return FeatureSpec.from_config(cfg.features.pipeline), title_labeller(cfg).label


def _joined(tables: Path, spec: FeatureSpec, labeller, con: ibis.BaseBackend) -> pd.DataFrame:
    """The joined expression's rows, sorted by user_id."""
    with feature_families(tables, spec, labeller, con=con) as steps:
        frame = joined_features(steps).to_pandas()
    return frame.sort_values("user_id", ignore_index=True)


def test_joined_expression_equals_the_build_on_duckdb(tiny: Path) -> None:
    """Same columns, dtypes and values, bit for bit; a user without events gets the families' fills."""
    spec, labeller = _spec_and_labeller(tiny)
    built = build_behaviour_features(tiny, spec, labeller)
    con = connect("duckdb")
    try:
        joined = _joined(tiny, spec, labeller, con)
    finally:
        con.disconnect()
    pd.testing.assert_frame_equal(joined, built, check_exact=True)
    assert built["n_sp_orders"].eq(0).any()  # users without a row in a family: the fills were exercised


@pytest.mark.spark
@pytest.mark.slow
def test_joined_expression_on_spark_over_partitioned_tables_equals_duckdb(
    tiny: Path, tiny_partitioned: Path, spark
) -> None:
    """Spark reads the partitioned layout and its one job gives DuckDB's features (floats to 1e-9)."""
    spec, labeller = _spec_and_labeller(tiny)
    duck = build_behaviour_features(tiny, spec, labeller)
    on_spark = _joined(tiny_partitioned, spec, labeller, ibis.pyspark.connect(spark))
    assert list(on_spark.columns) == list(duck.columns)
    assert (on_spark.dtypes == duck.dtypes).all(), on_spark.dtypes[on_spark.dtypes != duck.dtypes]
    for column in duck.columns:
        if pd.api.types.is_integer_dtype(duck[column]):
            np.testing.assert_array_equal(on_spark[column], duck[column], err_msg=column)
        else:
            np.testing.assert_allclose(on_spark[column], duck[column], rtol=RTOL, atol=0, err_msg=column)
