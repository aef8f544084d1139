"""RFM value segments (高价值, 潜力, 一般, 流失风险, 低价值) from the monthly `bills` table.

Scores come from fixed cut points in conf/profile/rfm.yaml, not from quantiles of the scored batch,
so a user's segment depends only on their own bills and the reference month.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src.data.errors import DataValidationError
from src.errors import ConfigError
from src.paths import CONF_DIR

log = logging.getLogger(__name__)

REQUIRED = ("user_id", "month", "total_fee")
SCORES = {"r": "r_score", "f": "f_score", "m": "m_score"}
N_CUTS = 4  # four cut points make five scores
DEFAULT_CONFIG = CONF_DIR / "profile" / "rfm.yaml"


def load_cuts(path: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """The RFM cut points and segment rules as a plain dict (conf/profile/rfm.yaml by default)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def rfm_segments(
    bills: pd.DataFrame, cuts: Mapping[str, Any], reference_month: str | None = None
) -> pd.DataFrame:
    """One row per user with bills: recency/frequency/monetary, their 1-5 scores and the segment.

    Rows of one user and month are summed; a NaN total_fee counts as 0 (the number of such rows is
    logged and kept in `result.attrs["n_nan_fee"]`); a negative one is an error. The reference month
    is `reference_month`, else `cuts["reference_month"]`, else the latest month in the table; rows
    after it are ignored. Users with rows but no positive fee get recency <NA> and r = f = 1.
    """
    recency_cuts = _cuts(cuts, "recency")
    frequency_cuts = _cuts(cuts, "frequency")
    monetary_cuts = _cuts(cuts, "monetary")
    rules = _rules(cuts)

    missing = [column for column in REQUIRED if column not in bills.columns]
    if missing:
        raise DataValidationError(
            f"missing from the bills table (it needs {', '.join(REQUIRED)})", column=missing[0]
        )
    no_user = bills["user_id"].isna()
    if no_user.any():
        raise DataValidationError(_where(bills, no_user, "user_id is missing"), column="user_id")
    month = _month_index(bills["month"], bills)
    fee, n_nan = _fees(bills)

    reference = reference_month if reference_month is not None else cuts.get("reference_month")
    if reference is None:
        ref = int(month.max()) if len(month) else 0
    else:
        ref = int(_month_index(pd.Series([reference]), None, what="reference_month").iloc[0])
    keep = month <= ref
    frame = pd.DataFrame({"user_id": bills["user_id"], "month": month, "fee": fee})[keep.to_numpy()]

    monthly = frame.groupby(["user_id", "month"], sort=True)["fee"].sum().reset_index()
    paid = monthly["fee"] > 0
    by_user = monthly.groupby("user_id", sort=True)
    last_paid = monthly["month"].where(paid).groupby(monthly["user_id"], sort=True).max()
    out = pd.DataFrame(
        {
            "recency_months": (ref - last_paid).astype("Int64"),
            "frequency_months": paid.groupby(monthly["user_id"], sort=True).sum().astype("int64"),
            "monetary_mean": by_user["fee"].mean().astype(float),
        }
    )
    recency = out["recency_months"].astype(float).fillna(np.inf).to_numpy()
    # recency: smaller is better, a value equal to a bound gets that bound's score
    out["r_score"] = 5 - np.searchsorted(recency_cuts, recency, side="left")
    out["f_score"] = 1 + np.searchsorted(frequency_cuts, out["frequency_months"].to_numpy(), side="right")
    out["m_score"] = 1 + np.searchsorted(monetary_cuts, out["monetary_mean"].to_numpy(), side="right")
    out["segment"] = _segment(out, rules, str(cuts.get("fallback", "低价值")))
    out = out.reset_index()
    out.attrs["n_nan_fee"] = n_nan
    out.attrs["reference_month"] = f"{ref // 12:04d}-{ref % 12 + 1:02d}"
    return out


def segment_names(cuts: Mapping[str, Any]) -> Sequence[str]:
    """Every segment the config can assign, in rule order, then the fallback."""
    return [name for name, _, _ in _rules(cuts)] + [str(cuts.get("fallback", "低价值"))]


def _segment(scores: pd.DataFrame, rules: list[tuple[str, dict, dict]], fallback: str) -> np.ndarray:
    """First matching rule wins; bounds are inclusive."""
    conditions = []
    for _, low, high in rules:
        mask = np.ones(len(scores), dtype=bool)
        for key, bound in low.items():
            mask &= scores[SCORES[key]].to_numpy() >= bound
        for key, bound in high.items():
            mask &= scores[SCORES[key]].to_numpy() <= bound
        conditions.append(mask)
    names = [name for name, _, _ in rules]
    return np.select(conditions, names, default=fallback) if rules else np.full(len(scores), fallback)


def _month_index(values: pd.Series, bills: pd.DataFrame | None, what: str = "month") -> pd.Series:
    """year * 12 + month - 1, so differences are whole months; unparseable months are an error."""
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        if bills is None:
            raise ConfigError(f"{what} {values.iloc[0]!r} is not a month (use YYYY-MM)")
        raise DataValidationError(_where(bills, bad, "month is missing or not a date"), column="month")
    return parsed.dt.year * 12 + parsed.dt.month - 1


def _fees(bills: pd.DataFrame) -> tuple[pd.Series, int]:
    """total_fee as float with NaN -> 0 (counted); non-numeric or negative fees are errors."""
    raw = bills["total_fee"]
    fee = pd.to_numeric(raw, errors="coerce").astype(float)
    unreadable = fee.isna() & raw.notna()
    if unreadable.any():
        raise DataValidationError(_where(bills, unreadable, "total_fee is not a number"), column="total_fee")
    if np.isinf(fee).any():
        raise DataValidationError(_where(bills, np.isinf(fee), "total_fee is infinite"), column="total_fee")
    negative = fee < 0
    if negative.any():
        raise DataValidationError(
            _where(bills, negative, f"total_fee is negative in {int(negative.sum())} row(s)"),
            column="total_fee",
            hint="fees must be >= 0; refunds belong in a separate column",
        )
    n_nan = int(fee.isna().sum())
    if n_nan:
        log.warning("bills: %d row(s) with a missing total_fee counted as 0 yuan", n_nan)
    return fee.fillna(0.0), n_nan


def _where(bills: pd.DataFrame, bad: pd.Series, message: str) -> str:
    """The message with the first offending row: its position, user and month."""
    position = int(np.flatnonzero(np.asarray(bad))[0])
    row = bills.iloc[position]
    return f"{message} (first at row {position}: user_id {row['user_id']}, month {row.get('month')})"


def _cuts(cuts: Mapping[str, Any], key: str) -> np.ndarray:
    values = cuts.get(key) if isinstance(cuts, Mapping) else None
    try:
        array = np.asarray(list(values), dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"rfm config '{key}' must be a list of {N_CUTS} numbers, got {values!r}") from None
    if len(array) != N_CUTS or np.any(np.diff(array) <= 0) or np.any(array < 0):
        raise ConfigError(
            f"rfm config '{key}' must hold {N_CUTS} strictly increasing numbers >= 0, got {list(values)}"
        )
    return array


def _rules(cuts: Mapping[str, Any]) -> list[tuple[str, dict, dict]]:
    rules = []
    for position, rule in enumerate(cuts.get("segments") or []):
        name = rule.get("name")
        if not name:
            raise ConfigError(f"rfm config segments[{position}] has no name")
        bounds = []
        for side in ("min", "max"):
            given = dict(rule.get(side) or {})
            unknown = sorted(set(given) - set(SCORES))
            if unknown:
                raise ConfigError(f"rfm segment '{name}' bounds unknown score(s) {unknown}; use r, f, m")
            bounds.append({key: int(value) for key, value in given.items()})
        rules.append((str(name), *bounds))
    return rules
