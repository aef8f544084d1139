"""Tier grading at exact boundaries, and the share table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.features.tiers import grade, tier_shares

BOUNDS = [0.2, 0.4, 0.6, 0.8]
LABELS = ["基本不接触", "偶尔接触", "普通依赖", "较依赖", "依赖"]


def test_exact_boundaries_belong_to_the_upper_tier():
    p = [0.0, 0.19999, 0.2, 0.39999, 0.4, 0.6, 0.8, 0.99999, 1.0]
    assert list(grade(p, BOUNDS, LABELS)) == [
        "基本不接触",
        "基本不接触",
        "偶尔接触",
        "偶尔接触",
        "普通依赖",
        "较依赖",
        "依赖",
        "依赖",
        "依赖",
    ]


@pytest.mark.parametrize("bad", [-0.01, 1.01, np.nan, np.inf])
def test_out_of_range_probability_is_an_error(bad):
    with pytest.raises(ValueError, match="position 1"):
        grade([0.5, bad], BOUNDS, LABELS)


def test_boundaries_and_labels_must_fit():
    with pytest.raises(ValueError, match="need 5 labels"):
        grade([0.5], BOUNDS, LABELS[:4])
    with pytest.raises(ValueError, match="increase strictly"):
        grade([0.5], [0.4, 0.2, 0.6, 0.8], LABELS)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_grading_is_monotone(values):
    order = np.argsort(values, kind="stable")
    ranks = [LABELS.index(t) for t in grade(np.asarray(values)[order], BOUNDS, LABELS)]
    assert ranks == sorted(ranks)


def test_shares_sum_to_one_per_channel_and_keep_empty_tiers():
    tiers = pd.DataFrame(
        {"store": grade([0.1, 0.1, 0.5, 0.9], BOUNDS, LABELS), "app": grade([0.9] * 4, BOUNDS, LABELS)}
    )
    shares = tier_shares(tiers, LABELS)
    assert len(shares) == 10
    assert shares.groupby("channel")["share"].sum().round(12).eq(1.0).all()
    store = shares[shares.channel == "store"].set_index("tier")["share"]
    assert store["基本不接触"] == 0.5 and store["较依赖"] == 0.0
