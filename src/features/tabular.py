"""Preprocessing of a raw tabular frame, kept inside the logged model so deployers pass raw rows."""

from __future__ import annotations

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
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame of raw rows, got {type(X).__name__}")
        numeric, categorical = self._feature_columns()
        missing = [c for c in numeric + categorical if c not in X.columns]
        if missing:
            raise DataValidationError(f"input lacks column(s) {missing}", column=missing[0])
        out = pd.DataFrame(index=X.index)
        blanks = dict(self.blank_means or {})
        for column in numeric:
            values = X[column]
            if not pd.api.types.is_numeric_dtype(values):
                text = values.astype("str").str.strip()
                is_blank = text.eq("") | values.isna()
                if column in blanks:
                    text = text.mask(is_blank, str(blanks[column]))
                values = pd.to_numeric(text, errors="coerce")
                bad = values.isna() & ~is_blank
                if bad.any():
                    position = int(np.flatnonzero(bad.to_numpy())[0])
                    raise DataValidationError(
                        f"expected a number, got '{X[column].iloc[position]}'",
                        row=position + 1,
                        column=column,
                    )
            elif column in blanks:
                values = values.fillna(blanks[column])
            out[column] = values.astype("float64")
        for column in categorical:
            out[column] = X[column].astype("object").where(X[column].notna(), "missing").astype(str)
        return out

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
        coerced = self._coerce(X)
        unknown = self._unknown_categories(coerced)
        if unknown:
            log.warning("%d categorical value(s) not seen in training were encoded as all zeros", unknown)
        return self.transformer_.transform(coerced)

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

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the encoded columns, for feature importance."""
        return self.transformer_.get_feature_names_out()
