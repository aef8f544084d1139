"""Targets and their true probabilities: observed (noisy) occupation, next-period channels, churn."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from src.data.simulate.contacts import ContactSummary, next_channel_probability
from src.data.simulate.params import CHANNELS, Params
from src.data.simulate.population import Population, _sigmoid
from src.data.simulate.posterior import observed_label_posterior
from src.data.simulate.window_ceiling import WindowCeilings
from src.data.warehouse import labels_schema


def churn_probability(p: Params, pop: Population, summary: ContactSummary) -> np.ndarray:
    """True next-period churn hazard (logistic in satisfaction, price, tenure, decline, offers)."""
    c = p.raw["churn"]
    logit = (
        c["intercept"]
        + c["dissatisfaction"] * pop.dissat
        + c["complaints"] * summary.complaints
        + c["unresolved"] * summary.unresolved
        + c["price_sens"] * pop.z[:, p.idx("price_sens")]
        + c["log_tenure"] * (pop.z[:, p.idx("tenure")] - np.log(24.0))
        + c["decline"] * pop.decline
        + c["competitor_offer"] * pop.offer
        + c["prepaid"] * pop.prepaid
    )
    return _sigmoid(logit)


def observe_occupation(p: Params, pop: Population, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which users have a surveyed/registered occupation, and that (noisy) label as a class index."""
    obs = p.raw["observation"]
    p_obs = np.where(pop.prepaid, obs["p_observed_prepaid"], obs["p_observed_postpaid"])
    observed = rng.random(pop.n) < p_obs
    noisy = rng.random(pop.n) < obs["label_noise"]
    pick = rng.random(pop.n)
    label = pop.occ.copy()
    for k, options in enumerate(p.confusable):
        hit = noisy & (pop.occ == k)
        if options:
            label[hit] = np.array(options)[np.floor(pick[hit] * len(options)).astype(int)]
    return observed, label


def labels_table(
    p: Params,
    pop: Population,
    summary: ContactSummary,
    explicit: np.ndarray,
    ceilings: WindowCeilings,
    rng: np.random.Generator,
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """The labels table (with the Bayes predictions given the window) and the arrays the ceilings need."""
    posterior = ceilings.occupation
    occ_names = pa.array(list(p.occupations), type=pa.string())
    observed, noisy = observe_occupation(p, pop, rng)
    p_next = next_channel_probability(p, summary)
    next_ = (rng.random(p_next.shape) < p_next).astype(np.int8)
    p_churn = churn_probability(p, pop, summary)
    churned = (rng.random(pop.n) < p_churn).astype(np.int8)
    bayes = posterior.argmax(axis=1)
    bayes_observed = observed_label_posterior(p, posterior).argmax(axis=1)  # decision for the noisy label
    cols: dict[str, pa.Array] = {
        "user_id": pa.array(pop.user_id),
        "occupation": occ_names.take(pa.array(pop.occ)),
        "occupation_observed": pa.array(observed),
        "observed_occupation": occ_names.take(pa.array(noisy, mask=~observed)),
    }
    for j, c in enumerate(p.categories):
        cols[f"pref_{c}"] = pa.array(pop.pref[:, j])
    cols["explicit_content"] = pa.array(explicit)
    for j, ch in enumerate(CHANNELS):
        cols[f"next_{ch}"] = pa.array(next_[:, j])
    for j, ch in enumerate(CHANNELS):
        cols[f"p_next_{ch}"] = pa.array(p_next[:, j])
    cols["churned_next_period"] = pa.array(churned)
    cols["p_churn"] = pa.array(p_churn)
    cols["bayes_occupation"] = occ_names.take(pa.array(bayes))
    cols["p_bayes_occupation"] = pa.array(posterior.max(axis=1))
    cols["bayes_observed_occupation"] = occ_names.take(pa.array(bayes_observed))
    for j, ch in enumerate(CHANNELS):
        cols[f"bayes_p_next_{ch}"] = pa.array(ceilings.p_next[:, j])
    cols["bayes_p_churn"] = pa.array(ceilings.p_churn)
    for j, c in enumerate(p.categories):
        cols[f"bayes_top_{c}"] = pa.array(ceilings.content_top[:, j])
    for j, c in enumerate(p.categories):
        cols[f"bayes_pref_{c}"] = pa.array(ceilings.content_mix[:, j])
    cols["latent_age"] = pa.array(pop.age_raw)
    cols["latent_female"] = pa.array(pop.female)
    cols["latent_nonlocal"] = pa.array(pop.nonlocal_)
    cols["latent_activity"] = pa.array(pop.activity)
    cols["latent_dissatisfaction"] = pa.array(pop.dissat)
    cols["latent_decline"] = pa.array(pop.decline)
    cols["latent_competitor_offer"] = pa.array(pop.offer)
    for j, name in enumerate(p.latent_names):
        cols[f"latent_{name}"] = pa.array(pop.z[:, j])
    schema = labels_schema(p.categories, p.latent_names)
    table = pa.Table.from_arrays([cols[f.name] for f in schema], schema=schema)
    truth = {
        "occ": pop.occ.astype(np.int8),
        "bayes": bayes.astype(np.int8),
        "bayes_observed": bayes_observed.astype(np.int8),
        "observed": observed,
        "noisy": noisy.astype(np.int8),
        "p_next": p_next.astype(np.float32),
        "next": next_,
        "p_churn": p_churn.astype(np.float32),
        "churned": churned,
        "explicit": explicit,
        "bayes_p_next": ceilings.p_next.astype(np.float32),
        "bayes_p_churn": ceilings.p_churn.astype(np.float32),
    }
    return table, truth
