"""The RFM columns of a chunk: recency, frequency, monetary mean and segment from its bills."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from src.data.layout import table_files, table_path
from src.data.warehouse import EVENT_SCHEMAS
from src.features.behaviour import ID
from src.features.rfm import rfm_segments


def rfm_reference_month(folder: Path, cuts: dict[str, Any]) -> str | None:
    """The RFM config's reference month, else the latest month of the whole bills table (YYYY-MM)."""
    if cuts.get("reference_month") is not None:
        return str(cuts["reference_month"])
    import pyarrow.compute as pc

    latest = pc.max(pq.read_table(_bills(folder), columns=["month"])["month"]).as_py()
    return None if latest is None else f"{latest.year:04d}-{latest.month:02d}"


def read_bills(folder: Path, first: int, last: int) -> pd.DataFrame:
    """The bills of user_id first..last, exact duplicate rows once (as in the behaviour features)."""
    table = pq.read_table(
        _bills(folder),
        columns=list(EVENT_SCHEMAS["bills"].names),
        filters=[(ID, ">=", first), (ID, "<=", last)],
    )
    return table.to_pandas().drop_duplicates(ignore_index=True)


def _bills(folder: Path) -> list[str]:
    """The bills table's Parquet files in row order (one file, or a partitioned folder's parts)."""
    return [str(path) for path in table_files(table_path(folder, "bills"))]


def rfm_columns(
    bills: pd.DataFrame, users: pd.Series, cuts: dict[str, Any], reference_month: str | None
) -> pd.DataFrame:
    """recency_months, frequency_months, monetary_mean and rfm_segment for every user in `users`.

    Users without a bill row get recency and monetary missing, frequency 0 and `no_bills_segment`.
    """
    frame = pd.DataFrame({ID: users.to_numpy()})
    if len(bills):
        scored = rfm_segments(bills, cuts, reference_month)
        scored = scored[[ID, "recency_months", "frequency_months", "monetary_mean", "segment"]]
        frame = frame.merge(scored.rename(columns={"segment": "rfm_segment"}), on=ID, how="left")
    else:
        frame = frame.assign(recency_months=pd.NA, frequency_months=0, monetary_mean=np.nan, rfm_segment=None)
    frame["recency_months"] = frame["recency_months"].astype("Int64")
    frame["frequency_months"] = frame["frequency_months"].fillna(0).astype("int64")
    frame["monetary_mean"] = frame["monetary_mean"].astype("float64")
    frame["rfm_segment"] = frame["rfm_segment"].astype(object).fillna(str(cuts["no_bills_segment"]))
    return frame
