"""Train/validation/test row positions: stratified from the seed, or a fixed (official) split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SPLITS = ("train", "val", "test")


@dataclass
class Split:
    """Row positions of each split."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        """Rows per split."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def make_split(
    y: pd.Series,
    seed: int,
    val_size: float,
    test_size: float,
    fixed: pd.Series | None = None,
) -> Split:
    """Stratified train/val/test positions from the seed, or the fixed (official) split if given."""
    if fixed is not None:
        fixed = pd.Series(np.asarray(fixed), dtype="str")
        unknown = sorted(set(fixed) - set(SPLITS))
        if unknown:
            raise ValueError(f"fixed split has unknown values {unknown}; use {SPLITS}")
        parts = {name: np.flatnonzero(fixed.to_numpy() == name) for name in SPLITS}
        if len(parts["val"]) == 0:
            # published as train + test only: validation comes out of train, stratified with the seed
            labels = np.asarray(y)[parts["train"]]
            parts["train"], parts["val"] = train_test_split(
                parts["train"], test_size=val_size / (1.0 - test_size), stratify=labels, random_state=seed
            )
            parts["train"], parts["val"] = np.sort(parts["train"]), np.sort(parts["val"])
        return Split(**parts)
    positions = np.arange(len(y))
    labels = np.asarray(y)
    rest, test = train_test_split(positions, test_size=test_size, stratify=labels, random_state=seed)
    train, val = train_test_split(
        rest, test_size=val_size / (1.0 - test_size), stratify=labels[rest], random_state=seed
    )
    return Split(train=np.sort(train), val=np.sort(val), test=np.sort(test))
