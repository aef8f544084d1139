"""Content fusion: one rules/model weight per user group, never worse than its parts on validation."""

from __future__ import annotations

import numpy as np
import pytest

from src.features.content_fusion import (
    METRICS,
    FusionWeights,
    evidence_groups,
    fusion_report,
    learn_fusion,
    normalise_rows,
)
from src.ranking import ranking_hits

N_CAT = 8


def _users(seed: int, n: int = 1500) -> dict[str, np.ndarray]:
    """Synthetic users: explicit ones carry evidence the rules read well, latent ones carry none."""
    rng = np.random.default_rng(seed)
    truth = rng.dirichlet(np.full(N_CAT, 0.7), n)
    evidence = np.where(rng.random(n) < 0.6, rng.poisson(6, n) + 1, 0)
    counts = np.array([rng.multinomial(e, t) for e, t in zip(evidence, truth, strict=True)])
    rules = 100.0 * (counts + 0.3) / (counts + 0.3).sum(axis=1, keepdims=True)
    model = 100.0 * normalise_rows(np.exp(np.log(truth) + rng.normal(0, 1.2, truth.shape)))
    groups = np.where(evidence > 0, "explicit", "latent").astype(object)
    return {"truth": truth, "rules": rules, "model": model, "groups": groups, "evidence": evidence}


@pytest.fixture(scope="module")
def val() -> dict[str, np.ndarray]:
    return _users(0)


@pytest.fixture(scope="module")
def test_users() -> dict[str, np.ndarray]:
    return _users(1)


def test_fused_is_never_below_its_parts_on_validation(val: dict) -> None:
    """The learned fusion is at least as good as rules-only and model-only, per group and overall."""
    for metric in METRICS:
        fusion = learn_fusion(val["rules"], val["model"], val["truth"], val["groups"], metric=metric)
        report = fusion_report(val["rules"], val["model"], val["truth"], val["groups"], fusion)
        for group in ("explicit", "latent", "all"):
            parts = max(report[f"{metric}_{group}_rules"], report[f"{metric}_{group}_model"])
            assert report[f"{metric}_{group}_fused"] >= parts - 1e-12, (metric, group)


def test_weights_follow_where_the_evidence_is(val: dict) -> None:
    """Latent users' rules hold no signal, so their weight is low; explicit users lean on the rules."""
    fusion = learn_fusion(val["rules"], val["model"], val["truth"], val["groups"])
    assert fusion.weights["latent"] <= 0.2
    assert fusion.weights["explicit"] > fusion.weights["latent"]


def test_fusion_generalises_to_test_users(val: dict, test_users: dict) -> None:
    """Weights learned on validation users keep the fused score near the better part on other users."""
    fusion = learn_fusion(val["rules"], val["model"], val["truth"], val["groups"])
    report = fusion_report(
        test_users["rules"], test_users["model"], test_users["truth"], test_users["groups"], fusion
    )
    for group in ("explicit", "latent"):
        best = max(report[f"top1_{group}_rules"], report[f"top1_{group}_model"])
        assert report[f"top1_{group}_fused"] >= best - 0.03, group


def test_weight_one_is_rules_only_and_zero_is_model_only(val: dict) -> None:
    """The grid's end points reproduce the parts' rankings exactly (scaling a row keeps its ranks)."""
    for weight, source in ((1.0, "rules"), (0.0, "model")):
        fixed = FusionWeights({"explicit": weight, "latent": weight}, "top1")
        fused = fixed.fuse(val["rules"], val["model"], val["groups"])
        expected = ranking_hits(val[source], val["truth"])
        for metric, values in ranking_hits(fused, val["truth"]).items():
            np.testing.assert_allclose(values, expected[metric], err_msg=metric)


def test_grid_must_hold_both_ends(val: dict) -> None:
    with pytest.raises(ValueError, match="hold both 0"):
        learn_fusion(val["rules"], val["model"], val["truth"], val["groups"], grid=(0.0, 0.5))
    with pytest.raises(ValueError, match="unknown fusion metric"):
        learn_fusion(val["rules"], val["model"], val["truth"], val["groups"], metric="auc")


def test_unseen_group_is_an_error(val: dict) -> None:
    fusion = learn_fusion(val["rules"], val["model"], val["truth"], val["groups"])
    with pytest.raises(ValueError, match="no fusion weight"):
        fusion.fuse(val["rules"][:2], val["model"][:2], np.array(["other", "latent"], dtype=object))


def test_evidence_groups_bin_counts() -> None:
    labels = evidence_groups(np.array([0, 1, 2, 5, 9]), [1, 5])
    assert list(labels) == ["<1", "[1,5)", "[1,5)", ">=5", ">=5"]


def test_evidence_bins_also_fuse_no_worse(val: dict) -> None:
    groups = evidence_groups(val["evidence"], [1, 4, 8])
    fusion = learn_fusion(val["rules"], val["model"], val["truth"], groups)
    report = fusion_report(val["rules"], val["model"], val["truth"], groups, fusion)
    for group in np.unique(groups):
        best = max(report[f"top1_{group}_rules"], report[f"top1_{group}_model"])
        assert report[f"top1_{group}_fused"] >= best - 1e-12
