"""Paired gaps between a model and the simulator's tight ceiling on the same test users, with intervals.

Both are scored on the same users, so one bootstrap resample of the users moves both scores and the
interval of their difference is narrower than either's. Pure NumPy: no tracking, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from src.models.bootstrap import mean_interval


class Bootstrap(NamedTuple):
    """How to resample: draws, interval level, seed (from `evaluation.*` and `seed`)."""

    n_boot: int
    level: float
    seed: int


class WeightedRocAuc:
    """ROC-AUC of fixed scores and labels under row weights (one bootstrap draw), O(n) per call."""

    def __init__(self, scores: np.ndarray, positive: np.ndarray) -> None:
        _, self.group = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
        self.n_groups = int(self.group.max()) + 1 if len(self.group) else 0
        self.positive = np.asarray(positive, dtype=bool)

    def __call__(self, weights: np.ndarray) -> float:
        """Weighted probability that a positive outranks a negative (ties count half)."""
        pos = np.bincount(self.group, weights=weights * self.positive, minlength=self.n_groups)
        neg = np.bincount(self.group, weights=weights * ~self.positive, minlength=self.n_groups)
        total_pos, total_neg = pos.sum(), neg.sum()
        if total_pos == 0 or total_neg == 0:
            return float("nan")
        below = np.cumsum(neg) - neg
        return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


@dataclass(frozen=True)
class PairedGap:
    """Ceiling and model scores on the same users, the gap (ceiling - model) and its interval."""

    ceiling: float
    model: float
    gap: float
    low: float
    high: float

    def metrics(self, metric: str) -> dict[str, float]:
        """`test_ceiling_<metric>`, `test_gap_to_ceiling_<metric>` and its `_lo`/`_hi`."""
        return {
            f"test_ceiling_{metric}": self.ceiling,
            f"test_gap_to_ceiling_{metric}": self.gap,
            f"test_gap_to_ceiling_{metric}_lo": self.low,
            f"test_gap_to_ceiling_{metric}_hi": self.high,
        }


def paired_hit_gap(ceiling_hit: np.ndarray, model_hit: np.ndarray, boot: Bootstrap) -> PairedGap:
    """Gap of per-user scores (hits, accuracies): mean difference with a bootstrap over users."""
    ceiling_hit, model_hit = np.asarray(ceiling_hit, dtype=float), np.asarray(model_hit, dtype=float)
    difference = ceiling_hit - model_hit
    low, high = mean_interval(difference, *boot)
    return PairedGap(float(ceiling_hit.mean()), float(model_hit.mean()), float(difference.mean()), low, high)


def paired_loss_gap(ceiling_loss: np.ndarray, model_loss: np.ndarray, boot: Bootstrap) -> PairedGap:
    """Gap of per-user losses (squared errors): model - ceiling, positive when the model is worse."""
    ceiling_loss, model_loss = np.asarray(ceiling_loss, dtype=float), np.asarray(model_loss, dtype=float)
    excess = model_loss - ceiling_loss
    low, high = mean_interval(excess, *boot)
    return PairedGap(float(ceiling_loss.mean()), float(model_loss.mean()), float(excess.mean()), low, high)


def paired_roc_auc_gap(
    ceiling: list[np.ndarray], model: list[np.ndarray], positives: list[np.ndarray], boot: Bootstrap
) -> PairedGap:
    """Gap of the mean ROC-AUC over targets (channels) scored on the same users; users resampled once."""
    ceiling_auc = [WeightedRocAuc(s, p) for s, p in zip(ceiling, positives, strict=True)]
    model_auc = [WeightedRocAuc(s, p) for s, p in zip(model, positives, strict=True)]
    n = len(positives[0])

    def mean_aucs(weights: np.ndarray) -> tuple[float, float]:
        return (
            float(np.nanmean([auc(weights) for auc in ceiling_auc])),
            float(np.nanmean([auc(weights) for auc in model_auc])),
        )

    top, ours = mean_aucs(np.ones(n))
    rng = np.random.default_rng(boot.seed)
    draws = []
    for _ in range(boot.n_boot):
        weights = np.bincount(rng.integers(0, n, size=n), minlength=n).astype(float)
        draw_top, draw_ours = mean_aucs(weights)
        draws.append(draw_top - draw_ours)
    alpha = (1.0 - boot.level) / 2.0
    low, high = np.nanquantile(draws, [alpha, 1.0 - alpha])
    return PairedGap(top, ours, top - ours, float(low), float(high))


def brier(proba: np.ndarray, positive: np.ndarray) -> float:
    """Mean squared error of a probability against the 0/1 outcome."""
    return float(np.mean((np.asarray(proba, dtype=float) - np.asarray(positive, dtype=float)) ** 2))
