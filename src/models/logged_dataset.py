"""MLflow dataset inputs of a run, with their schema worked out in vectorised time.

`mlflow.data.from_pandas` infers the schema lazily, and it decides whether a column is required by
testing every value for None/NaN in a Python loop: about 14 s of a behaviour run for the 12 million
values of its 100,000 training rows. `pandas_dataset` gives the same dataset with the same schema
(checked against MLflow's own inference in tests/test_logged_dataset.py), computed from a few rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.data import from_pandas
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.types import Schema

# The function PandasDataset.schema calls; private in MLflow, so its output is tested against the
# public path on every pinned version.
from mlflow.types.utils import _infer_schema

# numpy kinds whose MLflow type follows the dtype alone: bool, ints, floats, datetimes
DTYPE_TYPED_KINDS = frozenset("biufM")


def pandas_dataset(
    frame: pd.DataFrame, *, source: str, name: str, targets: str | None = None
) -> PandasDataset:
    """`mlflow.data.from_pandas(frame, ...)` with its schema already set (see the module docstring)."""
    dataset = from_pandas(frame, source=source, name=name, targets=targets)
    dataset.__dict__["schema"] = dataset_schema(frame)  # the slot of the `schema` cached_property
    return dataset


def dataset_schema(frame: pd.DataFrame) -> Schema | None:
    """The schema `PandasDataset.schema` infers for `frame` (None where it fails, as MLflow's does).

    A column whose numpy dtype fixes its type is required unless it holds a missing value, so one row
    per such column tells MLflow the same as all of them: the first row, plus the first missing row of
    each column that has one. Other columns (text, objects, pandas extension types) are read whole.
    """
    try:
        if frame.empty:
            return _infer_schema(frame)
        typed = [c for c in frame.columns if _dtype_typed(frame[c])]
        others = frame.columns.difference(typed, sort=False)
        specs = {}
        if typed:
            missing = frame[typed].isna().to_numpy()
            rows = sorted({0, *(int(np.argmax(col)) for col in missing.T if col.any())})
            specs.update({s.name: s for s in _infer_schema(frame[typed].iloc[rows]).inputs})
        if len(others):
            specs.update({s.name: s for s in _infer_schema(frame[others]).inputs})
        return Schema([specs[c] for c in frame.columns])
    except Exception:  # as PandasDataset.schema: a frame MLflow cannot describe has no schema
        return None


def _dtype_typed(column: pd.Series) -> bool:
    return isinstance(column.dtype, np.dtype) and column.dtype.kind in DTYPE_TYPED_KINDS
