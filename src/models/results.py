"""RunResults: what an evaluation computed (metrics, tags, tables, frames), kept apart from logging it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class RunResults:
    """Values a run records; the experiment lifecycle alone writes them to MLflow.

    `tables` are logged as MLflow tables (JSON), `frames` as Parquet and `csvs` as CSV files,
    each keyed by its artifact path; `dicts` as JSON documents.
    """

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    csvs: dict[str, pd.DataFrame] = field(default_factory=dict)
    dicts: dict[str, dict] = field(default_factory=dict)

    def add(self, other: RunResults | None) -> RunResults:
        """Merge another result into this one (its values win on equal keys) and return self."""
        if other is None:
            return self
        for name in ("metrics", "params", "tags", "tables", "frames", "csvs", "dicts"):
            getattr(self, name).update(getattr(other, name))
        return self
