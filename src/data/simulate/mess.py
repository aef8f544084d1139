"""Deliberate mess in event tables: a few exact duplicates and out-of-order rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def add_mess(
    table: pa.Table, dup_fraction: float, swap_fraction: float, rng: np.random.Generator
) -> pa.Table:
    """Repeat a few rows right after themselves and swap a few neighbours, so time order breaks."""
    n = table.num_rows
    if n < 2:
        return table
    index = np.repeat(np.arange(n), 1 + (rng.random(n) < dup_fraction))
    swap = np.flatnonzero(rng.random(len(index) - 1) < swap_fraction)
    swap = swap[np.diff(np.concatenate([[-2], swap])) > 1]  # non-overlapping pairs
    index[swap], index[swap + 1] = index[swap + 1], index[swap].copy()
    return table.take(index)
