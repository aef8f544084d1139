"""Preprocessing of a raw tabular frame, kept inside the logged model so deployers pass raw rows."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from src.data.errors import DataValidationError

log = logging.getLogger(__name__)


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Coerce declared numeric columns (blanks per `blank_means`), impute, scale and one-hot encode.

    `columns` maps column -> kind (numeric, integer, categorical, text); text columns and
    `drop` columns (id, target) are not features. Unknown categories at predict time
    encode as all zeros and are logged with their count (`count_unknown_categories`).
    """

    def __init__(
        self,
        columns: Mapping[str, str],
        blank_means: Mapping[str, float] | None = None,
        drop: list[str] | None = None,
        scale_numeric: bool = True,
    ) -> None:
        self.columns = columns
        self.blank_means = blank_means
        self.drop = drop
        self.scale_numeric = scale_numeric

    def _feature_columns(self) -> tuple[list[str], list[str]]:
        dropped = set(self.drop or [])
        numeric = [c for c, k in self.columns.items() if k in ("numeric", "integer") and c not in dropped]
        categorical = [c for c, k in self.columns.items() if k == "categorical" and c not in dropped]
        return numeric, categorical

    def _coerce(self, X: pd.DataFrame) -> pd.DataFrame:
        """The feature columns typed: numeric as float64 (blanks per `blank_means`), categorical as text."""
        numeric, categorical = self._feature_columns()
        matrix, texts = self._coerced_arrays(X)
        out = pd.DataFrame(matrix, columns=numeric, index=X.index)
        for column, values in zip(categorical, texts, strict=True):
            out[column] = values
        return out

    def _coerced_arrays(self, X: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
        """The numeric feature matrix (float64) and one array of category text per categorical column."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame of raw rows, got {type(X).__name__}")
        numeric, categorical = self._feature_columns()
        missing = [c for c in numeric + categorical if c not in X.columns]
        if missing:
            raise DataValidationError(f"input lacks column(s) {missing}", column=missing[0])
        blanks = dict(self.blank_means or {})
        matrix = np.empty((len(X), len(numeric)), dtype=np.float64)
        for position, column in enumerate(numeric):
            matrix[:, position] = numeric_column(X[column], column, blanks.get(column))
        texts = [category_text(X[column]) for column in categorical]
        return matrix, texts

    def fit(self, X: pd.DataFrame, y=None) -> TabularPreprocessor:
        """Learn imputation, scaling and category levels from the training rows."""
        numeric, categorical = self._feature_columns()
        numeric_steps = [("impute", SimpleImputer(strategy="median"))]
        if self.scale_numeric:
            numeric_steps.append(("scale", StandardScaler()))
        self.transformer_ = ColumnTransformer(
            [
                ("numeric", Pipeline(numeric_steps), numeric),
                (
                    "categorical",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
                    categorical,
                ),
            ],
            verbose_feature_names_out=False,
        )
        self.transformer_.fit(self._coerce(X))
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Encode raw rows into the model matrix (unknown categories are logged, nothing is stored)."""
        check_is_fitted(self)
        if not self.encodes_directly():
            coerced = self._coerce(X)
            unknown = self._unknown_categories(coerced)
            encoded = self.transformer_.transform(coerced)
        else:
            encoded, unknown = self._encode(*self._coerced_arrays(X))
        if unknown:
            log.warning("%d categorical value(s) not seen in training were encoded as all zeros", unknown)
        return encoded

    def count_unknown_categories(self, X: pd.DataFrame) -> int:
        """How many categorical values of the raw rows `X` were not seen in training."""
        check_is_fitted(self)
        return self._unknown_categories(self._coerce(X))

    def _unknown_categories(self, coerced: pd.DataFrame) -> int:
        _, categorical = self._feature_columns()
        encoder = self.transformer_.named_transformers_["categorical"]
        return sum(
            int((~coerced[column].isin(levels)).sum())
            for column, levels in zip(categorical, encoder.categories_, strict=True)
        )

    def encodes_directly(self) -> bool:
        """True when the fitted steps are plain enough to apply with numpy (the same arithmetic, faster).

        scikit-learn's ColumnTransformer validates and copies every column on every call, which costs
        milliseconds on a single row (most of a served request). The fitted imputer, scaler and encoder
        are applied here with their own learned values instead; `tests/test_tabular_features.py`
        checks that both ways give the same matrix, bit for bit.
        """
        numeric_steps = self.transformer_.named_transformers_["numeric"].named_steps
        encoder = self.transformer_.named_transformers_["categorical"]
        imputer = numeric_steps["impute"]
        return (
            not np.isnan(getattr(imputer, "statistics_", np.zeros(0))).any()  # an all-blank column is dropped
            and encoder.get_params()["drop"] is None
            and encoder.get_params()["min_frequency"] is None
            and encoder.get_params()["max_categories"] is None
            and all(levels.dtype == object and sorted_strictly(levels) for levels in encoder.categories_)
        )

    def _encode(self, matrix: np.ndarray, texts: list[np.ndarray]) -> tuple[np.ndarray, int]:
        """The model matrix of coerced arrays, and how many category values were unknown."""
        numeric_steps = self.transformer_.named_transformers_["numeric"].named_steps
        encoder = self.transformer_.named_transformers_["categorical"]
        imputer = numeric_steps["impute"]
        if matrix.shape[1]:
            blank = np.isnan(matrix)
            matrix[blank] = np.take(imputer.statistics_, np.nonzero(blank)[1])
            if "scale" in numeric_steps:
                matrix -= numeric_steps["scale"].mean_
                matrix /= numeric_steps["scale"].scale_
        blocks, unknown = [matrix], 0
        for values, levels in zip(texts, encoder.categories_, strict=True):
            position = np.minimum(np.searchsorted(levels, values), len(levels) - 1)
            known = levels[position] == values
            block = np.zeros((len(values), len(levels)), dtype=np.float64)
            block[np.flatnonzero(known), position[known]] = 1.0
            blocks.append(block)
            unknown += int(len(values) - known.sum())
        return np.hstack(blocks), unknown

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the encoded columns, for feature importance."""
        return self.transformer_.get_feature_names_out()


def numeric_column(values: pd.Series, column: str, blank: float | None) -> np.ndarray:
    """float64 values of one numeric column: text is stripped and parsed, blanks take `blank` (else NaN)."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers if blank is None else np.where(np.isnan(numbers), blank, numbers)
    text = values.astype("str").str.strip()
    is_blank = text.eq("") | values.isna()
    if blank is not None:
        text = text.mask(is_blank, str(blank))
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & ~is_blank
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"expected a number, got '{values.iloc[position]}'", row=position + 1, column=column
        )
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def sorted_strictly(levels: np.ndarray) -> bool:
    """True when the category levels are in strictly increasing order (what searchsorted needs)."""
    return all(a < b for a, b in itertools.pairwise(levels))


def category_text(values: pd.Series) -> np.ndarray:
    """Each value as text (`str`), a missing one as 'missing': what the encoder learnt its levels from."""
    raw = values.to_numpy(dtype=object)
    return np.where(pd.isna(raw), "missing", raw.astype(str)).astype(object)
