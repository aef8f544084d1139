"""The content mix given the window: visited news categories and charged SP services, mix integrated.

Visits are multinomial in the mix, and each SP service is charged with probability
1 - exp(-take_up x SP propensity x (n_categories x mix[category]) ** pref_power). Given occupation
k the mix has the prior Dirichlet(alpha_k) (age-dependent). One set of Monte Carlo draws from
Dirichlet(beta + visits), beta = the smallest alpha_k per category, serves every occupation:
the importance weight of occupation k is prod mix ** (alpha_k - beta) x P(SP services | mix), which
is bounded because alpha_k >= beta. The same weighted draws give the occupation evidence and,
weighted by the occupation posterior, P(category is the user's top one) and the posterior-mean mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from src.data.simulate.params import Params
from src.data.simulate.population import Population, content_alpha
from src.data.simulate.window import WindowStats


@dataclass
class ContentDraws:
    """Weighted draws of each user's content mix."""

    log_evidence: np.ndarray  # (n, k): log p(visits, SP services | occupation), up to a per-user constant
    log_weights: np.ndarray  # (n, k, draws): normalised over draws, given the occupation
    mix: np.ndarray  # (n, draws, categories)
    proposal_mean: np.ndarray  # (n, categories): the exact mean of the proposal the draws come from


def sp_log_lik(p: Params, pop: Population, stats: WindowStats, log_mix: np.ndarray) -> np.ndarray:
    """log P(which SP services were charged | mix), (n, draws), from the log mix (n, draws, categories).

    Every service contributes -rate, and a charged one log(1 - exp(-rate)) + rate on top; the rates
    of services without a category do not depend on the mix.
    """
    sp = p.raw["sp"]
    services = sp["services"]
    n_cat = len(p.categories)
    scale = np.exp(pop.z[:, p.idx("sp_propensity")])[:, None] * np.array([s["take_up"] for s in services])
    affinity = np.exp(sp["pref_power"] * (np.log(n_cat) + log_mix))  # (n, draws, categories)
    by_category = np.zeros((len(scale), n_cat))
    flat_rate = np.zeros(len(scale))
    for i, service in enumerate(services):
        if service["category"] is None:
            flat_rate += scale[:, i]
        else:
            by_category[:, p.categories.index(service["category"])] += scale[:, i]
    ll = -np.matmul(affinity, by_category[:, :, None])[:, :, 0] - flat_rate[:, None]
    for i, service in enumerate(services):
        rows = np.flatnonzero(stats.sp_services[:, i])
        if service["category"] is None:
            rate = np.broadcast_to(scale[rows, i][:, None], (len(rows), ll.shape[1]))
        else:
            rate = scale[rows, i][:, None] * affinity[rows, :, p.categories.index(service["category"])]
        ll[rows] += np.log(-np.expm1(-np.maximum(rate, 1e-300))) + rate
    return ll


def charged_pull(p: Params, stats: WindowStats) -> np.ndarray:
    """pref_power per charged service with a category, summed by category (n, categories).

    P(charged | mix) = 1 - exp(-rate) <= rate, which is proportional to mix[category] ** pref_power: a
    Dirichlet factor. Drawing from a proposal that includes it bounds the remaining importance weight.
    """
    sp = p.raw["sp"]
    pull = np.zeros((len(stats.sp_services), len(p.categories)))
    for i, service in enumerate(sp["services"]):
        if service["category"] is not None:
            pull[:, p.categories.index(service["category"])] += sp["pref_power"] * stats.sp_services[:, i]
    return pull


def log_beta(alpha: np.ndarray) -> np.ndarray:
    """log of the multivariate Beta function along the last axis."""
    return gammaln(alpha).sum(axis=-1) - gammaln(alpha.sum(axis=-1))


def content_draws(
    p: Params,
    pop: Population,
    stats: WindowStats,
    draws: int,
    rng: np.random.Generator,
    plausible: np.ndarray | None = None,
) -> ContentDraws:
    """Importance-weighted draws of the mix for every occupation at once (see the module docstring).

    `plausible` (n, k) bool marks the occupations the proposal must cover with bounded weights (all
    by default); a narrower set gives a proposal closer to the likely targets.
    """
    n_occ = len(p.occupations)
    alpha = np.stack([content_alpha(p, np.full(pop.n, k), pop.age_raw) for k in range(n_occ)], axis=1)
    if plausible is None:
        plausible = np.ones((pop.n, n_occ), dtype=bool)
    beta = np.where(plausible[:, :, None], alpha, np.inf).min(axis=1)  # (n, categories)
    pull = charged_pull(p, stats)  # the SP likelihood's conjugate part, moved into the proposal
    gamma_shape = beta + stats.web_categories + pull
    shape = np.repeat(gamma_shape[:, None, :].astype(np.float32), draws, axis=1)
    g = rng.standard_gamma(shape, dtype=np.float32)
    mix = (g / g.sum(axis=2, keepdims=True)).astype(np.float64)
    log_mix = np.log(np.maximum(mix, 1e-12))
    # (n, k, draws): prod mix ** (alpha_k - beta) x P(SP services | mix) / prod mix ** pull
    log_w = np.matmul(alpha - beta[:, None, :], log_mix.transpose(0, 2, 1))
    log_w += (sp_log_lik(p, pop, stats, log_mix) - (log_mix * pull[:, None, :]).sum(axis=2))[:, None, :]
    top = log_w.max(axis=2, keepdims=True)
    total = np.exp(log_w - top).sum(axis=2, keepdims=True)
    log_mean = np.squeeze(top + np.log(total), axis=2) - np.log(draws)
    # p(visits | k) E_k[L_sp] = B(beta + visits + pull) / B(alpha_k) x E_q[weight]; B(...) is per user
    log_evidence = log_mean - log_beta(alpha)
    proposal_mean = gamma_shape / gamma_shape.sum(axis=1, keepdims=True)
    return ContentDraws(log_evidence, log_w - top - np.log(total), mix, proposal_mean)


def content_summary(draws: ContentDraws, occupation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(each category is the top one) and the posterior-mean mix, (n, categories) each.

    `occupation` (n, k) weights the occupations: the window posterior, or a one-hot oracle.
    """
    weight = np.matmul(occupation[:, None, :], np.exp(draws.log_weights))  # (n, 1, draws)
    top = draws.mix.argmax(axis=2)
    is_top = (top[:, :, None] == np.arange(draws.mix.shape[2])).astype(float)
    # difference estimator: the draws' own mean is replaced by the proposal's exact mean, which cancels
    # most of the Monte Carlo noise where the weights are even (e.g. the order of unvisited categories)
    mean = np.matmul(weight, draws.mix)[:, 0] - draws.mix.mean(axis=1) + draws.proposal_mean
    mean = np.maximum(mean, 1e-12)
    return np.matmul(weight, is_top)[:, 0], mean / mean.sum(axis=1, keepdims=True)
