"""Paired gaps to the ceiling: the weighted ROC-AUC and the bootstrap of paired differences."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from src.tasks.ceiling_gap import (
    Bootstrap,
    WeightedRocAuc,
    brier,
    paired_hit_gap,
    paired_loss_gap,
    paired_roc_auc_gap,
)


def test_weighted_roc_auc_matches_sklearn_with_ties_and_weights() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, size=500) / 20  # many ties
    positive = rng.random(500) < 0.3 + 0.4 * scores
    weights = rng.integers(0, 3, size=500).astype(float)
    auc = WeightedRocAuc(scores, positive)
    assert auc(np.ones(500)) == pytest.approx(roc_auc_score(positive, scores))
    assert auc(weights) == pytest.approx(roc_auc_score(positive, scores, sample_weight=weights))
    assert np.isnan(auc(np.where(positive, 0.0, 1.0)))  # no positive drawn: undefined, not 0.5


def test_paired_roc_auc_gap_is_zero_for_the_same_scores_and_positive_for_a_better_ceiling() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random((2, 2000))
    positives = [rng.random(2000) < t for t in truth]
    noisy = [t + rng.normal(0, 0.5, 2000) for t in truth]
    boot = Bootstrap(200, 0.95, 0)
    same = paired_roc_auc_gap(noisy, noisy, positives, boot)
    assert same.gap == 0.0 and same.low == 0.0 and same.high == 0.0
    better = paired_roc_auc_gap(list(truth), noisy, positives, boot)
    expected = np.mean(
        [roc_auc_score(p, t) - roc_auc_score(p, n) for p, t, n in zip(positives, truth, noisy, strict=True)]
    )
    assert better.gap == pytest.approx(expected)
    assert 0.0 < better.low <= better.gap <= better.high
    # paired: the gap's interval is narrower than the spread of either score alone would suggest
    assert better.high - better.low < 0.06


def test_paired_hit_gap_and_brier_on_known_values() -> None:
    gap = paired_hit_gap(np.array([1, 1, 1, 0] * 25), np.array([1, 0, 0, 0] * 25), Bootstrap(300, 0.95, 0))
    assert (gap.ceiling, gap.model, gap.gap) == pytest.approx((0.75, 0.25, 0.5))
    assert gap.low < 0.5 < gap.high
    assert set(gap.metrics("top1")) == {
        "test_ceiling_top1",
        "test_gap_to_ceiling_top1",
        "test_gap_to_ceiling_top1_lo",
        "test_gap_to_ceiling_top1_hi",
    }
    assert brier(np.array([0.0, 1.0, 0.5]), np.array([0, 0, 1])) == pytest.approx((0 + 1 + 0.25) / 3)


def test_paired_loss_gap_is_the_models_excess_loss_with_an_interval_around_it() -> None:
    rng = np.random.default_rng(3)
    truth = rng.random(3000)
    positive = rng.random(3000) < truth
    noisy = np.clip(truth + rng.normal(0, 0.2, 3000), 0, 1)
    ceiling_loss, model_loss = (truth - positive) ** 2, (noisy - positive) ** 2
    gap = paired_loss_gap(ceiling_loss, model_loss, Bootstrap(200, 0.95, 0))
    assert gap.gap == pytest.approx(brier(noisy, positive) - brier(truth, positive))
    assert 0.0 < gap.low <= gap.gap <= gap.high  # the noisy model is worse: positive
    assert gap.metrics("brier")["test_gap_to_ceiling_brier"] == gap.gap
    same = paired_loss_gap(model_loss, model_loss, Bootstrap(50, 0.95, 0))
    assert same.gap == 0.0 and same.low == 0.0 and same.high == 0.0
