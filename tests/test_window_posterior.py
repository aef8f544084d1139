"""The occupation ceiling given the window's realised counts: statistics, quadrature, calibration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow.compute as pc
import pytest

from src.config import compose
from src.data.simulate.block import clean_block
from src.data.simulate.corpora import Corpora, load_corpora
from src.data.simulate.params import CHANNELS, Params, build_params
from src.data.simulate.posterior import normalise, observed_label_posterior, occupation_posterior
from src.data.simulate.window import hour_group_of_hour, window_stats
from src.data.simulate.window_ceiling import window_posterior
from src.data.simulate.window_posterior import (
    gauss_hermite,
    integrate_latent,
    product_rule,
    rhythm_term,
    trips_term,
)


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
    """The four blocks (2,000 users) of the tiny population, clean tables and their statistics."""
    out = []
    for b in range(4):
        pop, tables, extras, _ = clean_block(params, corpora, b)
        out.append((pop, tables, window_stats(params, pop, tables, extras["web_counts"])))
    return out


def test_hour_groups_follow_the_rhythm_masks(params: Params) -> None:
    group = hour_group_of_hour(params)
    assert [group[h] for h in (5, 10, 20, 0, 23, 8, 18, 3)] == [0, 1, 2, 3, 3, 4, 4, 4]


def test_statistics_count_the_tables(params: Params, blocks: list) -> None:
    """Every event lands in exactly one hour group; contacts, directions and trip days add up."""
    pop, tables, stats = blocks[0]
    timed = sum(tables[t].num_rows for t in ("calls", "sms", "data_sessions", "web_visits"))
    assert stats.hour_groups.sum() == timed
    assert (stats.trip_days.sum(axis=1) == params.raw["days"]).all()
    assert stats.contacts.sum() == tables["channel_contacts"].num_rows
    assert (
        stats.contacts[:, CHANNELS.index("hotline")].sum()
        == pc.sum(pc.equal(tables["channel_contacts"]["channel"], "hotline")).as_py()
    )
    assert stats.directed.sum() == tables["calls"].num_rows + tables["sms"].num_rows
    contacts = tables["channel_contacts"]
    complaint = pc.equal(contacts["purpose"], "投诉")
    assert stats.complaints.sum() == pc.sum(complaint).as_py()
    unresolved = pc.invert(contacts["resolved"])
    assert stats.unresolved_complaints.sum() == pc.sum(pc.and_(complaint, unresolved)).as_py()
    assert stats.unresolved_other.sum() == pc.sum(pc.and_(pc.invert(complaint), unresolved)).as_py()
    assert (stats.unresolved_complaints <= stats.complaints).all()
    assert (stats.outgoing <= stats.directed).all() and (stats.remote_peers <= stats.peers).all()
    pairs = {
        (u, s)
        for u, s in zip(*(tables["sp_orders"][c].to_pylist() for c in ("user_id", "service")), strict=True)
    }
    assert stats.sp_services.sum() == len(pairs)
    # trip days agree with the calls' roaming type on the days a call was recorded
    calls = tables["calls"]
    row = calls["user_id"].to_numpy() - pop.user_id[0]
    away = np.asarray(pc.not_equal(calls["roaming_type"], "本地"))
    assert (stats.trip_days[row[away], 0] < params.raw["days"]).all()


def test_gauss_hermite_integrates_a_lognormal_mean() -> None:
    t, logw = gauss_hermite(24)
    for c in (0.5, 1.0, 2.0):
        assert np.exp(logw) @ np.exp(c * t) == pytest.approx(np.exp(c**2 / 2), rel=1e-9)


def test_product_rule_integrates_moments_of_a_normal_vector() -> None:
    t, logw = product_rule([3, 5])
    w = np.exp(logw)
    assert t.shape == (15, 2) and w.sum() == pytest.approx(1.0)
    assert w @ (t**2).sum(axis=1) == pytest.approx(2.0)  # E[X1^2 + X2^2]
    assert w @ (t[:, 0] ** 2 * t[:, 1] ** 4) == pytest.approx(3.0)  # E[X1^2] E[X2^4]


def test_integrate_latent_matches_the_closed_form(params: Params) -> None:
    """log E[exp(z)] over z ~ N(mean[occ], sd) is mean + sd^2 / 2, for each occupation."""
    j = params.idx("out_share")
    got = integrate_latent(params, "out_share", lambda x: np.broadcast_to(x, (3, x.shape[1])), 24)
    expected = params.latent_mean[:, j] + params.latent_sd[j] ** 2 / 2
    np.testing.assert_allclose(got, np.tile(expected, (3, 1)), rtol=1e-8)


def test_trip_days_point_to_travelling_occupations(params: Params, blocks: list) -> None:
    """A month spent out of the province favours business people over students."""
    _, _, stats = blocks[0]
    days = params.raw["days"]
    away = replace(stats, trip_days=np.tile([days - 8, 2, 6], (len(stats.trip_days), 1)))
    home = replace(stats, trip_days=np.tile([days, 0, 0], (len(stats.trip_days), 1)))
    shift = trips_term(params, away, 20, 1.5) - trips_term(params, home, 20, 1.5)
    business, student = params.occupations.index("商务人士"), params.occupations.index("学生")
    assert (shift[:, business] > shift[:, student] + 1.0).all()


def test_rhythm_quadrature_has_converged(params: Params, blocks: list) -> None:
    """The configured grid agrees with a much finer one (posterior probabilities within 0.02)."""
    _, _, stats = blocks[0]
    q = params.raw["ceiling"]
    coarse = normalise(rhythm_term(params, stats, list(q["rhythm_nodes"]), q["rhythm_inflate"]))
    fine = normalise(rhythm_term(params, stats, [8, 12, 12, 8], q["rhythm_inflate"]))
    assert np.abs(coarse - fine).max() < 0.02


def test_window_posterior_is_calibrated_and_below_the_oracle(params: Params, blocks: list) -> None:
    """Its confidence matches its accuracy, and it is less accurate than conditioning on every latent."""
    post, truth, oracle = [], [], []
    for b, (pop, _, stats) in enumerate(blocks):
        post.append(window_posterior(params, pop, stats, np.random.default_rng(b)))
        oracle.append(occupation_posterior(params, pop))
        truth.append(pop.occ)
    post, oracle, truth = np.concatenate(post), np.concatenate(oracle), np.concatenate(truth)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    accuracy = np.mean(post.argmax(axis=1) == truth)
    assert abs(post.max(axis=1).mean() - accuracy) < 0.03
    assert accuracy < np.mean(oracle.argmax(axis=1) == truth) - 0.02
    assert accuracy > params.shares.max() + 0.3


def test_observed_label_posterior_spreads_the_label_noise(params: Params) -> None:
    post = np.eye(len(params.occupations))
    noisy = observed_label_posterior(params, post)
    np.testing.assert_allclose(noisy.sum(axis=1), 1.0)
    noise = params.raw["observation"]["label_noise"]
    for k, options in enumerate(params.confusable):
        assert noisy[k, k] == pytest.approx(1.0 - noise if options else 1.0)
        for o in options:
            assert noisy[k, o] == pytest.approx(noise / len(options))
