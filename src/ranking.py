"""Per-user ranking metrics of category scores against a true preference vector (top-1, top-3, Spearman)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def top_hits(scores: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per user: is the true top category ranked first, and in the first three (stable order on ties)."""
    favourite = truth.argmax(axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")
    return {"top1": order[:, 0] == favourite, "top3": (order[:, :3] == favourite[:, None]).any(axis=1)}


def spearman_rows(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per user: Spearman correlation of the scores with the true preferences (0 where either is constant)."""
    ranks_s, ranks_t = rankdata(scores, axis=1), rankdata(truth, axis=1)
    ranks_s -= ranks_s.mean(axis=1, keepdims=True)
    ranks_t -= ranks_t.mean(axis=1, keepdims=True)
    norm = np.sqrt((ranks_s**2).sum(axis=1) * (ranks_t**2).sum(axis=1))
    return np.divide((ranks_s * ranks_t).sum(axis=1), norm, out=np.zeros(len(norm)), where=norm > 0)


def ranking_hits(scores: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per user, as floats: top-1 hit, top-3 hit and Spearman correlation."""
    hits = top_hits(scores, truth)
    return {
        "top1": hits["top1"].astype(float),
        "top3": hits["top3"].astype(float),
        "spearman": spearman_rows(scores, truth),
    }
