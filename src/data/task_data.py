"""TaskData: what a task's loader hands to the experiment lifecycle, and the checks on its targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src.data.errors import DataValidationError


@dataclass
class TaskData:
    """Everything the lifecycle needs from a task.

    X is the raw model input (what a deployer passes to `predict`), y the labels as
    they appear in the data. `split` optionally fixes rows to "train"/"val"/"test"
    (official splits); `groups` keeps related rows in one split. `quarantine`
    counts rows set aside with the reason as key; the rows themselves go to
    `quarantined` so they are logged, never silently dropped.

    Tasks with several labels per row (one model each, e.g. one per contact channel) put them in
    `targets`; `y` then only stratifies the split. `learn_rows` (a boolean mask) keeps the rows a
    model may learn from and be scored on.
    `lineage` holds tags that say where the inputs came from (e.g. the model that labelled titles).
    """

    X: pd.DataFrame
    y: pd.Series
    input_files: list[Path]
    split: pd.Series | None = None
    groups: pd.Series | None = None
    positive_label: Any = None
    quarantine: dict[str, int] = field(default_factory=dict)
    quarantined: pd.DataFrame | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, pd.Series] = field(default_factory=dict)
    learn_rows: np.ndarray | None = None
    lineage: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")
        if len(self.X) == 0:
            raise DataValidationError("the task has no rows left to learn from")

    def labels(self) -> dict[str, pd.Series]:
        """One label series per model: `targets`, or y alone under the empty name."""
        return dict(self.targets) if self.targets else {"": self.y}


def label_counts(y: pd.Series) -> str:
    """'No: 5174, Yes: 1869': every label with its count, for error messages."""
    counts = y.astype("str").value_counts(sort=False).sort_index()
    return ", ".join(f"{label}: {count}" for label, count in counts.items())


def check_targets(data: TaskData, source: str) -> None:
    """Reject missing labels and, for a binary task (it has a positive label), anything but two labels."""
    for name, y in data.labels().items():
        where = f"{source}: target{f' {name!r}' if name else ''}"
        missing = y.isna()
        if missing.any():
            rows = np.flatnonzero(missing.to_numpy())[:5].tolist()
            raise DataValidationError(
                f"{where} has {int(missing.sum())} missing label(s) (rows {rows}...)",
                hint="quarantine them in the loader",
            )
        if data.positive_label is None:
            continue
        found = set(y.astype("str"))
        if len(found) != 2 or str(data.positive_label) not in found:
            raise DataValidationError(
                f"{where} of a binary task (positive label {data.positive_label!r}) must hold exactly two "
                f"labels; found {len(found)}: {label_counts(y)}"
            )


def quarantine_missing_targets(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with a label, rows whose label is missing or blank): quarantined, never a class."""
    values = frame[target]
    missing = values.isna() | values.astype("str").str.strip().eq("")
    return frame[~missing].reset_index(drop=True), frame[missing].reset_index(drop=True)
