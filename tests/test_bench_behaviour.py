"""The behaviour benchmark's floor and deduplication queries measure what they say they measure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.bench_behaviour import dedup, floor, scan
from src.data.warehouse import EVENT_SCHEMAS
from src.features.behaviour import INPUT_TABLES


def read(tables: Path, name: str) -> pd.DataFrame:
    """One input table over its declared columns, as the feature build reads it."""
    return pd.read_parquet(tables / f"{name}.parquet", columns=EVENT_SCHEMAS[name].names)


def test_the_deduplication_counts_the_distinct_rows_of_every_table(tiny: Path) -> None:
    distinct = dedup(tiny)
    assert set(distinct) == set(INPUT_TABLES)
    for name in INPUT_TABLES:
        assert distinct[name] == len(read(tiny, name).drop_duplicates()), name
    assert sum(scan(tiny).values()) > sum(distinct.values())  # the simulator's duplicates are there


def test_the_floor_returns_one_group_per_user_of_every_table(tiny: Path) -> None:
    groups = floor(tiny)
    assert groups == {name: read(tiny, name)["user_id"].nunique(dropna=False) for name in INPUT_TABLES}
