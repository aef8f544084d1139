"""Occupation gap analysis: the conditioned posterior, R² tiers and the cumulative ablation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from src.config import compose
from src.data.simulate.occupation_gap import ablation, latent_r2, report, tiers
from src.data.simulate.params import Params, build_params
from src.data.simulate.population import draw_population
from src.data.simulate.posterior import occupation_posterior


@pytest.fixture(scope="module")
def params() -> Params:
    cfg = compose([], config_name="gap")
    return build_params(cfg.simulate, cfg.seed, list(cfg.content.categories))


def test_conditioning_on_every_latent_is_the_ceilings_posterior(params: Params) -> None:
    pop = draw_population(params, np.random.default_rng(1), 1, 500)
    full = occupation_posterior(params, pop)
    np.testing.assert_allclose(occupation_posterior(params, pop, list(params.latent_names)), full)
    assert not np.allclose(occupation_posterior(params, pop, ["call_rate"]), full)


def test_conditioning_on_nothing_gives_the_population_shares(params: Params) -> None:
    pop = draw_population(params, np.random.default_rng(2), 1, 50)
    post = occupation_posterior(params, pop, [], use_age=False, use_content_mix=False, use_demographics=False)
    np.testing.assert_allclose(post, np.tile(params.shares / params.shares.sum(), (50, 1)))


def test_unknown_latent_is_an_error(params: Params) -> None:
    pop = draw_population(params, np.random.default_rng(3), 1, 10)
    with pytest.raises(ValueError, match="unknown latent"):
        occupation_posterior(params, pop, ["call_rate", "shoe_size"])


def test_tiers_put_exact_boundaries_in_the_better_tier() -> None:
    r2 = pd.Series({"a": 0.9, "b": 0.6, "c": 0.5999, "d": 0.3, "e": 0.1, "f": -0.2})
    assert tiers(r2, [0.3, 0.6]) == [
        ("R² ≥ 0.6", ["a", "b"]),
        ("0.3 ≤ R² < 0.6", ["c", "d"]),
        ("R² < 0.3", ["e", "f"]),
    ]


def test_ablation_gains_accuracy_as_it_conditions_on_more(params: Params) -> None:
    steps = [("R² ≥ 0.6", ["call_rate", "arpu", "n_cells"]), ("rest", [n for n in params.latent_names
             if n not in ("call_rate", "arpu", "n_cells")])]  # fmt: skip
    table = ablation(params, 4000, 7, steps)
    acc = table["Bayes accuracy"].to_numpy()
    assert len(acc) == 4 and acc[0] < acc[-1] and 0.2 < acc[0] < 0.95
    majority = params.shares.max() / params.shares.sum()
    assert acc[0] > majority  # age and demographics alone beat the majority class
    assert "| registration data" in report(pd.Series({"call_rate": 0.9}), table)


def test_latent_r2_is_high_for_a_revealed_latent_and_low_for_noise() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    labels = pd.DataFrame({"user_id": np.arange(n), "latent_seen": rng.normal(size=n),
                           "latent_hidden": rng.normal(size=n)})  # fmt: skip
    features = pd.DataFrame({"user_id": np.arange(n), "x": labels["latent_seen"] + 0.1 * rng.normal(size=n),
                             "noise": rng.normal(size=n)})  # fmt: skip
    cfg = OmegaConf.create(
        {"seed": 0, "n_jobs": 1, "gap": {"users": n, "train_share": 0.7,
         "learner": {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 15}}}
    )  # fmt: skip
    r2 = latent_r2(features, labels, ["hidden", "seen"], cfg)
    assert list(r2.index) == ["seen", "hidden"]
    assert r2["seen"] > 0.9 and r2["hidden"] < 0.05


def test_report_lists_the_oracle_and_the_window_ceiling() -> None:
    table = pd.DataFrame([("registration data", "", 0.7)], columns=["conditioning on", "latents added", "x"])
    ceiling = {
        "oracle_accuracy": 0.9,
        "oracle_accuracy_vs_observed_label": 0.79,
        "accuracy": 0.834,
        "accuracy_vs_observed_label": 0.729,
    }
    text = report(pd.Series({"call_rate": 0.9}), table, ceiling)
    assert "| latent oracle (every latent) | 0.900 | 0.790 |" in text
    assert "window's realised counts | 0.834 | 0.729 |" in text
