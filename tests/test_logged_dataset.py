"""The run's dataset inputs: the fast schema equals the one MLflow infers value by value."""

from __future__ import annotations

import mlflow.data
import numpy as np
import pandas as pd
import pytest

from src.models.logged_dataset import dataset_schema, pandas_dataset

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # MLflow's hints on sources and integers


def mixed_frame(n: int, missing_at: int) -> pd.DataFrame:
    """Every kind of column a task logs, with one missing value at row `missing_at` in some of them."""
    rng = np.random.default_rng(missing_at)
    floats = rng.normal(size=n)
    floats[missing_at] = np.nan
    text = np.array([f"t{i}" for i in range(n)], dtype=object)
    text[missing_at] = None
    stamps = pd.Series(pd.date_range("2011-03-01", periods=n, freq="h"))
    stamps.iloc[missing_at] = pd.NaT
    nullable = pd.array(rng.integers(0, 5, n), dtype="Int64")
    nullable[missing_at] = pd.NA
    return pd.DataFrame(
        {
            "count": rng.integers(0, 9, n),
            "share": rng.random(n),
            "age": floats,
            "female": rng.random(n) < 0.5,
            "text": text,
            "ts": stamps,
            "plan": pd.Categorical(rng.choice(["a", "b"], n)),
            "nullable": nullable,
            "__target__": rng.choice(["yes", "no"], n).astype(object),
        }
    )


@pytest.mark.parametrize("missing_at", [0, 1, 57, 199])
def test_the_fast_schema_and_the_logged_dataset_equal_mlflows_own(missing_at):
    frame = mixed_frame(200, missing_at)
    ours = pandas_dataset(frame, source="data/x.parquet", name="x-train", targets="__target__")
    theirs = mlflow.data.from_pandas(frame, source="data/x.parquet", name="x-train", targets="__target__")
    assert ours.to_dict() == theirs.to_dict()
    required = {spec.name: spec.required for spec in ours.schema.inputs}
    assert required["age"] is False and required["count"] is True  # the check is not vacuous


def test_a_column_missing_only_in_its_last_row_is_not_required():
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [1.0, np.nan, 3.0], "c": [1.0, 2.0, 3.0]})
    assert [spec.required for spec in dataset_schema(frame).inputs] == [False, False, True]


def test_an_empty_frame_gets_mlflows_schema():
    frame = pd.DataFrame({"count": np.array([], dtype="int64"), "age": np.array([], dtype="float64")})
    ours = pandas_dataset(frame, source="x.parquet", name="x-test")
    assert ours.to_dict() == mlflow.data.from_pandas(frame, source="x.parquet", name="x-test").to_dict()
