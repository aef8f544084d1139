"""The study's grading of a contact probability into 5 tiers (0-20% 基本不接触 … 80-100% 依赖)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def grade(
    probability: Sequence[float] | np.ndarray, boundaries: Sequence[float], labels: Sequence[str]
) -> np.ndarray:
    """Tier label per probability; intervals are closed on the left, so p = 0.2 is the second tier.

    The last tier also holds p = 1.0. Values outside [0, 1] or NaN are an error, not a silent clip.
    """
    p = np.asarray(probability, dtype=float)
    if len(labels) != len(boundaries) + 1:
        raise ValueError(f"{len(boundaries)} boundaries need {len(boundaries) + 1} labels, got {len(labels)}")
    if list(boundaries) != sorted(boundaries) or not all(0.0 < b < 1.0 for b in boundaries):
        raise ValueError(f"boundaries must increase strictly inside (0, 1), got {list(boundaries)}")
    bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(f"probability at position {position} is {p[position]!r}; expected a value in [0, 1]")
    index = np.searchsorted(np.asarray(boundaries, dtype=float), p, side="right")
    return np.asarray(labels, dtype=object)[index]


def tier_shares(tiers: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Share of users per tier for every channel column of a (user x channel) tier table."""
    rows = []
    for channel in tiers.columns:
        counts = tiers[channel].value_counts()
        for label in labels:
            rows.append(
                {
                    "channel": channel,
                    "tier": label,
                    "users": int(counts.get(label, 0)),
                    "share": float(counts.get(label, 0) / max(len(tiers), 1)),
                }
            )
    return pd.DataFrame(rows)
