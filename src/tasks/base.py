"""The contract between a task's loader and the shared experiment harness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class TaskData:
    """Everything the harness needs from a task.

    X is the raw model input (what a deployer passes to `predict`), y the labels as
    they appear in the data. `split` optionally fixes rows to "train"/"val"/"test"
    (official splits); `groups` keeps related rows in one split. `quarantine`
    counts rows set aside with the reason as key; the rows themselves go to
    `quarantined` so they are logged, never silently dropped.
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

    def __post_init__(self) -> None:
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")
        if len(self.X) == 0:
            raise ValueError("the task has no rows left to learn from")
