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


@pytest.mark.parametrize("scale", [True, False])
def test_direct_encoding_equals_the_column_transformer_bit_for_bit(scale):
    """The numpy path that serves requests gives exactly the matrix of scikit-learn's own transformers."""
    rng = np.random.default_rng(0)
    n = 300
    train = pd.DataFrame(
        {
            "charges": np.where(rng.random(n) < 0.1, " ", rng.normal(50, 20, n).round(2).astype(str)),
            "months": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 72, n).astype(float)),
            "plan": rng.choice(["basic", "plus", "pro", None], n),
            "y": rng.choice(["no", "yes"], n),
        }
    ).assign(id=[f"u{i}" for i in range(n)])
    pre = TabularPreprocessor(COLUMNS, blank_means={"charges": 0.0}, drop=["id", "y"], scale_numeric=scale)
    pre.fit(train)
    rows = train.assign(plan=rng.choice(["basic", "pro", "unheard-of", None], n))  # unknown levels too
    assert pre.encodes_directly()
    direct = pre.transform(rows)
    reference = pre.transformer_.transform(pre._coerce(rows))
    np.testing.assert_array_equal(direct, reference)
    assert pre.count_unknown_categories(rows) == int((rows["plan"] == "unheard-of").sum())
    np.testing.assert_array_equal(pre.transform(rows.head(1)), reference[:1])  # one served row
