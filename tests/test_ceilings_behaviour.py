"""The channel, churn and content ceilings given the window: calibration, convergence, below the oracle."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from src.config import compose
from src.data.simulate.block import clean_block
from src.data.simulate.contact_posterior import dissat_log_lik
from src.data.simulate.contacts import next_channel_probability
from src.data.simulate.corpora import Corpora, load_corpora
from src.data.simulate.labels import churn_probability
from src.data.simulate.params import CHANNELS, Params, build_params
from src.data.simulate.window import window_stats
from src.data.simulate.window_ceiling import WindowCeilings, window_ceilings
from src.data.simulate.window_posterior import gauss_hermite
from src.ranking import ranking_hits


@pytest.fixture(scope="module")
def params() -> Params:
    cfg = compose(["simulate=tiny"], config_name="simulation")
    return build_params(cfg.simulate, cfg.seed, list(cfg.content.categories))


@pytest.fixture(scope="module")
def corpora(params: Params) -> Corpora:
    cfg = compose(["simulate=tiny"], config_name="simulation")
    c = params.raw["corpora"]
    return load_corpora(
        c["demand_csv"],
        list(c["titles"]),
        dict(cfg.content.toutiao_to_category),
        list(cfg.content.categories),
    )


@pytest.fixture(scope="module")
def blocks(params: Params, corpora: Corpora) -> list:
    """The four blocks (2,000 users) of the tiny population: population, statistics, true probabilities."""
    out = []
    for b in range(4):
        pop, tables, extras, _ = clean_block(params, corpora, b)
        stats = window_stats(params, pop, tables, extras["web_counts"])
        truth = {
            "p_next": next_channel_probability(params, extras["summary"]),
            "p_churn": churn_probability(params, pop, extras["summary"]),
        }
        out.append((pop, stats, truth))
    return out


def _ceilings(params: Params, blocks: list, seed: int = 0, **ceiling: object) -> WindowCeilings:
    """window_ceilings of every block (optionally with other quadrature settings), rows concatenated."""
    p = copy.deepcopy(params)
    p.raw["ceiling"].update(ceiling)
    parts = [
        window_ceilings(p, pop, stats, np.random.default_rng(seed + b))
        for b, (pop, stats, _) in enumerate(blocks)
    ]
    return WindowCeilings(
        **{f: np.concatenate([getattr(c, f) for c in parts]) for f in WindowCeilings.__dataclass_fields__}
    )


@pytest.fixture(scope="module")
def ceilings(params: Params, blocks: list) -> WindowCeilings:
    return _ceilings(params, blocks)


@pytest.fixture(scope="module")
def truth(blocks: list) -> dict[str, np.ndarray]:
    keys = blocks[0][2]
    out = {k: np.concatenate([b[2][k] for b in blocks]) for k in keys}
    out["pref"] = np.concatenate([b[0].pref for b in blocks])
    out["occ"] = np.concatenate([b[0].occ for b in blocks])
    return out


def expected_roc_auc(score: np.ndarray, p_true: np.ndarray) -> float:
    """ROC-AUC of `score` expected over labels drawn as Bernoulli(p_true) (ties count half)."""
    order = np.argsort(score, kind="stable")
    s, pos = score[order], p_true[order]
    neg = 1.0 - pos
    below = np.cumsum(neg) - neg  # negatives ranked strictly before (ties resolved below)
    _, first, counts = np.unique(s, return_index=True, return_counts=True)
    tie_neg = np.add.reduceat(neg, first)
    start = np.repeat(below[first], counts)
    tie = np.repeat(tie_neg, counts)
    wins = (pos * (start + 0.5 * (tie - neg))).sum()
    pairs = pos.sum() * neg.sum() - (pos * neg).sum()
    return float(wins / pairs)


def test_expected_roc_auc_of_the_truth_beats_noise() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.6, 4000)
    assert expected_roc_auc(p, p) > expected_roc_auc(p + rng.normal(0, 0.2, 4000), p) > 0.5
    assert expected_roc_auc(np.zeros(4000), p) == pytest.approx(0.5)


def _binned_gap(prediction: np.ndarray, truth: np.ndarray, bins: int = 4) -> float:
    """Largest |mean truth - mean prediction| over quantile bins of the prediction."""
    edges = np.quantile(prediction, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, prediction, side="right") - 1, 0, bins - 1)
    return max(abs(truth[which == b].mean() - prediction[which == b].mean()) for b in range(bins))


def test_channel_ceiling_is_calibrated(ceilings: WindowCeilings, truth: dict) -> None:
    """E[true p_next | Bayes prediction] = the prediction, in quantile bins of every channel."""
    for j, ch in enumerate(CHANNELS):
        gap = _binned_gap(ceilings.p_next[:, j], truth["p_next"][:, j])
        assert gap < 0.02 + 0.1 * truth["p_next"][:, j].mean(), ch


def test_churn_ceiling_is_calibrated(ceilings: WindowCeilings, truth: dict) -> None:
    gap = _binned_gap(ceilings.p_churn, truth["p_churn"])
    assert gap < 0.2 * truth["p_churn"].mean()


def test_channel_and_churn_ceilings_stay_below_the_oracle(ceilings: WindowCeilings, truth: dict) -> None:
    """Expected ROC-AUC: informative, but not above the true probability's; the same for the Brier gap."""
    for j, ch in enumerate(CHANNELS):
        tight = expected_roc_auc(ceilings.p_next[:, j], truth["p_next"][:, j])
        oracle = expected_roc_auc(truth["p_next"][:, j], truth["p_next"][:, j])
        assert 0.5 < tight <= oracle + 0.002, ch
    tight = expected_roc_auc(ceilings.p_churn, truth["p_churn"])
    oracle = expected_roc_auc(truth["p_churn"], truth["p_churn"])
    assert 0.55 < tight <= oracle + 0.002
    assert oracle - tight > 0.01  # the window does not reveal price sensitivity or competitor offers


def test_content_ceiling_is_calibrated_and_below_the_oracle(ceilings: WindowCeilings, truth: dict) -> None:
    """P(top category) sums to one, its maximum matches the top-1 hit rate, and knowing occupation helps."""
    np.testing.assert_allclose(ceilings.content_top.sum(axis=1), 1.0)
    np.testing.assert_allclose(ceilings.content_mix.sum(axis=1), 1.0)
    tight = ranking_hits(ceilings.content_top, truth["pref"])
    oracle = ranking_hits(ceilings.content_top_oracle, truth["pref"])
    assert abs(ceilings.content_top.max(axis=1).mean() - tight["top1"].mean()) < 0.04
    assert tight["top1"].mean() <= oracle["top1"].mean() + 0.02
    assert tight["top3"].mean() <= oracle["top3"].mean() + 0.02
    spearman = ranking_hits(ceilings.content_mix, truth["pref"])["spearman"].mean()
    assert spearman <= ranking_hits(ceilings.content_mix_oracle, truth["pref"])["spearman"].mean() + 0.02
    assert tight["top1"].mean() > 0.5 and spearman > 0.5


def test_contact_quadrature_has_converged(params: Params, blocks: list, ceilings: WindowCeilings) -> None:
    """Three times finer grids change no channel or churn probability by more than 0.002."""
    fine = _ceilings(params, blocks, dissat_nodes=36, habit_grid=96, price_nodes=18)
    assert np.abs(fine.p_next - ceilings.p_next).max() < 0.002
    assert np.abs(fine.p_churn - ceilings.p_churn).max() < 0.002
    assert np.abs(fine.occupation - ceilings.occupation).max() < 0.002


def test_content_monte_carlo_has_converged(
    params: Params, blocks: list, ceilings: WindowCeilings, truth: dict
) -> None:
    """Eight times more draws move the content metrics and occupation accuracy by less than 0.015."""
    many = _ceilings(params, blocks, seed=100, content_draws=8 * params.raw["ceiling"]["content_draws"])
    # top-k ranks by P(top category), Spearman uses the posterior-mean mix
    for basis, metrics in (("content_top", ("top1", "top3")), ("content_mix", ("spearman",))):
        a = ranking_hits(getattr(ceilings, basis), truth["pref"])
        b = ranking_hits(getattr(many, basis), truth["pref"])
        for metric in metrics:
            assert abs(a[metric].mean() - b[metric].mean()) < 0.015, (basis, metric)
    accuracy = [np.mean(c.occupation.argmax(axis=1) == truth["occ"]) for c in (ceilings, many)]
    assert abs(accuracy[0] - accuracy[1]) < 0.01


def test_same_seed_gives_identical_ceilings(params: Params, blocks: list, ceilings: WindowCeilings) -> None:
    again = _ceilings(params, blocks)
    for field in WindowCeilings.__dataclass_fields__:
        assert np.array_equal(getattr(again, field), getattr(ceilings, field)), field


def test_complaints_raise_the_dissatisfaction_likelihood(params: Params, blocks: list) -> None:
    """Unresolved complaints and a usage decline point to high dissatisfaction, a quiet month to low."""
    pop, stats, _ = blocks[0]
    d, logw = gauss_hermite(24)
    n = pop.n
    angry = replace(
        stats,
        contacts=np.tile([0, 0, 0, 0, 3, 0], (n, 1)),
        complaints=np.full(n, 2),
        unresolved_complaints=np.full(n, 2),
        unresolved_other=np.zeros(n, dtype=np.int64),
    )
    quiet = replace(
        stats,
        contacts=np.zeros((n, 6), dtype=np.int64),
        complaints=np.zeros(n, dtype=np.int64),
        unresolved_complaints=np.zeros(n, dtype=np.int64),
        unresolved_other=np.zeros(n, dtype=np.int64),
    )

    def posterior_mean(stats: object) -> np.ndarray:
        log_post = dissat_log_lik(params, pop, stats, d) + logw
        weights = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        return weights @ d / weights.sum(axis=1)

    quiet_mean, declining = posterior_mean(quiet), pop.decline > 0
    assert (posterior_mean(angry) > 0.5).all()
    assert (quiet_mean[~declining] < 0.0).all() and (quiet_mean[declining] > 0.3).all()
