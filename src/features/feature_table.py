"""In-model preprocessing of a numeric feature table: column checks, floats, median imputation, scaling."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from src.data.errors import DataValidationError

log = logging.getLogger(__name__)


class FeatureTableTransformer(TransformerMixin, BaseEstimator):
    """Select the columns seen at fit (id column and extras ignored), coerce to float, impute, scale.

    Missing learnt columns and non-numeric values raise DataValidationError naming the column.
    NaN is imputed with the training median (0 for a column that was all NaN in training).
    Extra columns are ignored and logged (`extra_columns` lists them); nothing is stored at transform.
    """

    def __init__(self, id_column: str | None = "user_id", scale: bool = False) -> None:
        self.id_column = id_column
        self.scale = scale

    def _coerce(self, X: pd.DataFrame, columns: list[str]) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame feature table, got {type(X).__name__}")
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise DataValidationError(f"feature table lacks column(s) {missing}", column=missing[0])
        if all(_is_number(X[column]) for column in columns):  # one block copy instead of a column loop
            return np.ascontiguousarray(X[columns].to_numpy(dtype=np.float64, na_value=np.nan))
        out = np.empty((len(X), len(columns)), dtype=np.float64)
        for j, column in enumerate(columns):
            values = X[column]
            if _is_number(values):
                out[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
                continue
            numbers = pd.to_numeric(values, errors="coerce")
            bad = numbers.isna() & values.notna()
            if bad.any():
                position = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataValidationError(
                    f"expected a number, got '{values.iloc[position]}'", row=position + 1, column=column
                )
            out[:, j] = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def extra_columns(self, X: pd.DataFrame) -> list[str]:
        """The columns of `X` that are neither learnt features nor the id column (ignored)."""
        check_is_fitted(self)
        known = {*self.feature_names_in_, self.id_column}
        return [str(c) for c in X.columns if c not in known]

    def fit(self, X: pd.DataFrame, y=None) -> FeatureTableTransformer:
        """Learn the columns, their medians and (with scale) means and standard deviations."""
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame feature table, got {type(X).__name__}")
        self.feature_names_in_ = np.array([str(c) for c in X.columns if c != self.id_column], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        values = self._coerce(X, list(self.feature_names_in_))
        with warnings.catch_warnings():  # all-NaN columns are handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(values, axis=0) if len(values) else np.full(values.shape[1], np.nan)
        empty = np.isnan(medians)
        if empty.any():
            log.warning(
                "columns %s are all NaN in training; imputed with 0", list(self.feature_names_in_[empty])
            )
        self.medians_ = np.where(empty, 0.0, medians)
        imputed = np.where(np.isnan(values), self.medians_, values)
        self.mean_ = imputed.mean(axis=0) if self.scale else np.zeros(values.shape[1])
        std = imputed.std(axis=0) if self.scale else np.ones(values.shape[1])
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The learnt columns as a float64 matrix, NaN imputed and optionally standardised."""
        check_is_fitted(self)
        values = self._coerce(X, list(self.feature_names_in_))
        extras = self.extra_columns(X)
        if extras:
            log.info("ignored %d column(s) not seen in training", len(extras))
        np.copyto(values, np.broadcast_to(self.medians_, values.shape), where=np.isnan(values))
        values -= self.mean_  # in place: the same arithmetic as (imputed - mean) / scale, no copies
        values /= self.scale_
        return values

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns (the learnt feature columns)."""
        return self.feature_names_in_.copy()


def _is_number(values: pd.Series) -> bool:
    """True for numeric and boolean columns (read as float64 directly)."""
    return pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values)
