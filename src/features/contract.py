"""The input contract of a tabular model, taken from the data config's declared columns, not from dtypes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src.identity import declared_input, schema_fingerprint


class InputContractError(ValueError):
    """Rows that break the input contract; the message names the column and the row."""


@dataclass(frozen=True)
class InputContract:
    """Feature columns (name -> numeric | integer | categorical), blank meanings and output label names."""

    columns: dict[str, str]
    blank_means: dict[str, float] = field(default_factory=dict)
    label_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data_config(cls, data: Mapping[str, Any]) -> InputContract | None:
        """The contract of a tabular data config (`columns:`), or None for data without declared columns."""
        declared = declared_input(data)
        if declared is None:
            return None
        names = {str(k): str(v) for k, v in (data.get("label_names") or {}).items()}
        return cls(columns=declared["columns"], blank_means=declared["blank_means"], label_names=names)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> InputContract | None:
        """The contract of a composed config's data, or None for data without declared columns."""
        data = cfg.get("data")
        return None if data is None else cls.from_data_config(OmegaConf.to_container(data, resolve=True))

    def fingerprint(self) -> str:
        """A short hash of the feature columns and their kinds: versions with equal hashes take equal rows."""
        return schema_fingerprint(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        """Plain mapping, for model metadata."""
        return {"columns": dict(self.columns), "blank_means": dict(self.blank_means)}

    def label(self, raw: Any) -> str:
        """The name of a class as the data config spells it (`label_names`), else its text."""
        text = label_text(raw)
        return self.label_names.get(text, text)

    def coerce(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Declared feature columns typed by kind; undeclared columns dropped, unsafe values refused."""
        if not isinstance(frame, pd.DataFrame):
            raise InputContractError(f"expected a table of rows (DataFrame), got {type(frame).__name__}")
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InputContractError(f"input lacks declared column(s) {missing}")
        out = {
            column: categorical_values(frame[column])
            if kind == "categorical"
            else numeric_values(frame[column], column, kind)
            for column, kind in self.columns.items()
        }
        return pd.DataFrame(out, columns=list(self.columns))  # a fresh 0..n-1 index


def label_text(raw: Any) -> str:
    """A label as text: numpy scalars unwrapped, integral floats without '.0'."""
    value = raw.item() if hasattr(raw, "item") else raw
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def categorical_values(values: pd.Series) -> pd.Series:
    """Text as training saw it: numbers read by pandas (415, 415.0, True) become '415', 'True'."""
    return pd.Series([None if _missing(v) else label_text(v) for v in values], dtype="object")


def numeric_values(values: pd.Series, column: str, kind: str) -> np.ndarray:
    """float64 of a numeric or integer column; blanks and missing become NaN (the pipeline imputes them).

    A blank-able column (`blank_means`) gets its declared value from the pipeline; any other blank or
    missing value is imputed like a missing number.
    """
    if pd.api.types.is_bool_dtype(values):
        raise InputContractError(f"column '{column}' is declared {kind} but holds true/false values")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = values.astype("object").map(lambda v: None if _missing(v) else str(v).strip())
        blank = text.isna() | text.eq("")
        parsed = pd.to_numeric(text.mask(blank, None), errors="coerce").astype("float64")
        bad = parsed.isna() & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputContractError(
                f"column '{column}', row {row + 1}: expected a number, got {values.iloc[row]!r}"
            )
        numbers = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    filled = np.nan_to_num(numbers, nan=0.0, posinf=np.inf, neginf=-np.inf)
    infinite = np.isinf(filled)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise InputContractError(f"column '{column}', row {row + 1}: expected a finite number")
    fractional = np.mod(filled, 1) != 0
    if kind == "integer" and fractional.any():
        row = int(np.flatnonzero(fractional)[0])
        raise InputContractError(
            f"column '{column}', row {row + 1}: expected an integer, got {float(numbers[row])}"
        )
    return numbers


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
