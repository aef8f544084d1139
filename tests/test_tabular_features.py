"""The tabular preprocessor inside every churn model: blanks, unknown levels, bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.data.errors import DataValidationError
from src.features.tabular import TabularPreprocessor

COLUMNS = {"id": "text", "charges": "numeric", "months": "integer", "plan": "categorical", "y": "categorical"}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "charges": ["10.5", " ", "30", "40"],
            "months": [1, 0, 3, 4],
            "plan": ["x", "y", "x", "y"],
            "y": ["no", "yes", "no", "yes"],
        }
    )


def _pre() -> TabularPreprocessor:
    return TabularPreprocessor(COLUMNS, blank_means={"charges": 0.0}, drop=["id", "y"], scale_numeric=False)


def test_blanks_take_their_declared_meaning_and_id_target_are_not_features():
    pre = _pre().fit(_frame())
    matrix = pre.transform(_frame())
    names = list(pre.get_feature_names_out())
    assert names == ["charges", "months", "plan_x", "plan_y"]
    np.testing.assert_allclose(matrix[:, 0], [10.5, 0.0, 30.0, 40.0])


def test_numeric_columns_read_as_numbers_are_accepted():
    frame = _frame().assign(charges=[10.5, np.nan, 30.0, 40.0])
    matrix = _pre().fit(frame).transform(frame)
    assert matrix[1, 0] == 0.0


def test_unknown_category_is_zeros_and_counted():
    pre = _pre().fit(_frame())
    new = _frame().assign(plan=["x", "z", "z", "y"])
    matrix = pre.transform(new)
    assert pre.count_unknown_categories(new) == 2
    assert "n_unknown_categories_" not in vars(pre)  # transform stores no diagnostics
    assert matrix[1, 2:].sum() == 0


def test_bad_numeric_value_names_row_and_column():
    pre = _pre().fit(_frame())
    with pytest.raises(DataValidationError, match=r"line 3, column 'charges': expected a number, got 'abc'"):
        pre.transform(_frame().assign(charges=["1", "2", "abc", "4"]))


def test_missing_column_at_predict_time_is_named():
    pre = _pre().fit(_frame())
    with pytest.raises(DataValidationError, match="column 'plan'"):
        pre.transform(_frame().drop(columns=["plan"]))
