"""Channel contacts and dissatisfaction: the terms the channel, churn and occupation ceilings share.

A user's latent dissatisfaction reaches the window through the complaints among their contacts,
whether those were resolved, whether their usage declines, and (store, hotline) how often they
come. Each channel habit reaches it only through that channel's contact count. Both are
integrated out on a grid: dissatisfaction by Gauss-Hermite nodes of its N(0, 1) prior, and for
each channel the log contact rate's offset g = dissat_slope x dissatisfaction + habit on one
uniform grid shared by every user, occupation and dissatisfaction node, so that the integral over
the habit is one matrix product per channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

from src.data.simulate.params import CHANNELS, Params
from src.data.simulate.population import Population
from src.data.simulate.window import WindowStats
from src.data.simulate.window_posterior import gauss_hermite


@dataclass
class ContactTerms:
    """Per user (n), occupation (k) and dissatisfaction node (d): evidence and expected next-period risks."""

    log_evidence: np.ndarray  # (n, k, d): log p(contacts, complaints, resolution, decline | occupation, d)
    p_next: np.ndarray  # (n, k, d, 6): E[P(next-period contact per channel) | occupation, d, window]
    p_churn: np.ndarray  # (n, k, d): E[P(churn next period) | occupation, d, window]


def dissat_log_lik(p: Params, pop: Population, stats: WindowStats, d: np.ndarray) -> np.ndarray:
    """log p(complaints, their resolution, usage decline | dissatisfaction d), (n, len(d))."""
    ch, churn = p.raw["channels"], p.raw["churn"]
    c0, c1 = ch["complaint_logit"]
    r0, r1, r2 = ch["resolved_logit"]
    a0, a1 = churn["decliner_logit"]
    total = stats.contacts.sum(axis=1)[:, None]
    complaints = stats.complaints[:, None]
    open_complaints, open_other = stats.unresolved_complaints[:, None], stats.unresolved_other[:, None]
    complaint, resolved_c, resolved_o = c0 + c1 * d, r0 + r1 * d + r2, r0 + r1 * d
    ll = complaints * log_expit(complaint) + (total - complaints) * log_expit(-complaint)
    ll += (complaints - open_complaints) * log_expit(resolved_c) + open_complaints * log_expit(-resolved_c)
    others = total - complaints
    ll += (others - open_other) * log_expit(resolved_o) + open_other * log_expit(-resolved_o)
    decliner = (pop.decline > 0)[:, None]
    return ll + np.where(decliner, log_expit(a0 + a1 * d), log_expit(-(a0 + a1 * d)))


def habit_grid(p: Params, c: str, d: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform grid over g = dissat_slope x d + habit, and its prior weights (points, k, len(d))."""
    j = p.idx(f"habit_{c}")
    slope, sd, means = p.raw["channels"]["dissat_slope"][c], p.latent_sd[j], p.latent_mean[:, j]
    reach = 7.0 * sd + abs(slope) * np.abs(d).max()
    g = np.linspace(means.min() - reach, means.max() + reach, points)
    centre = means[:, None] + slope * d[None, :]  # (k, d)
    z = (g[:, None, None] - centre[None]) / sd
    weights = np.exp(-0.5 * z**2) * (g[1] - g[0]) / (sd * np.sqrt(2.0 * np.pi))
    return g, weights


def channel_terms(
    p: Params, pop: Population, stats: WindowStats, d: np.ndarray, points: int
) -> tuple[np.ndarray, np.ndarray]:
    """log p(contact counts | occupation, d) (n, k, d) and E[P(next contact)] (n, k, d, 6), habits out."""
    ch = p.raw["channels"]
    window_months, next_months = p.raw["days"] / 30.0, p.raw["next_period_days"] / 30.0
    age = (pop.age_raw - 35.0) / 10.0
    tenure = pop.z[:, p.idx("tenure")] - np.log(24.0)
    unresolved = stats.unresolved_complaints + stats.unresolved_other
    n_occ = len(p.occupations)
    log_evidence = np.zeros((pop.n, n_occ, len(d)))
    p_next = np.empty((pop.n, n_occ, len(d), len(CHANNELS)))
    for c_idx, c in enumerate(CHANNELS):
        g, weights = habit_grid(p, c, d, points)
        base = np.log(ch["base_rate"][c]) + ch["age_slope"][c] * age + ch["tenure_slope"][c] * tenure
        log_rate = base[:, None] + g[None, :]  # (n, points): log monthly contact rate
        count = stats.contacts[:, c_idx][:, None]
        log_lik = count * (log_rate + np.log(window_months)) - np.exp(log_rate) * window_months
        top = log_lik.max(axis=1, keepdims=True)
        lik = np.exp(log_lik - top)
        boost = 1.0 + ch["unresolved_boost"][c] * unresolved
        risk = -np.expm1(-np.exp(log_rate) * boost[:, None] * next_months)
        flat = weights.reshape(len(g), -1)
        den = (lik @ flat).reshape(pop.n, n_occ, len(d))
        num = ((lik * risk) @ flat).reshape(pop.n, n_occ, len(d))
        den = np.maximum(den, 1e-300)
        log_evidence += top[:, :, None] + np.log(den)
        p_next[..., c_idx] = num / den
    return log_evidence, p_next


def churn_risk(p: Params, pop: Population, stats: WindowStats, d: np.ndarray, nodes: int) -> np.ndarray:
    """E[P(churn) | occupation, d, window] (n, k, d): price sensitivity and a competitor offer integrated."""
    c = p.raw["churn"]
    j = p.idx("price_sens")
    base = (
        c["intercept"]
        + c["complaints"] * stats.complaints
        + c["unresolved"] * (stats.unresolved_complaints + stats.unresolved_other)
        + c["log_tenure"] * (pop.z[:, p.idx("tenure")] - np.log(24.0))
        + c["decline"] * pop.decline
        + c["prepaid"] * pop.prepaid
    )
    t, logw = gauss_hermite(nodes)
    price = p.latent_mean[:, j][:, None] + p.latent_sd[j] * t[None, :]  # (k, nodes)
    shift = c["price_sens"] * price[None, :, None, :] + c["dissatisfaction"] * d[None, None, :, None]
    logit = base[:, None, None, None] + shift  # (n, k, d, nodes)
    offer = c["p_competitor_offer"]
    risk = (1.0 - offer) * expit(logit) + offer * expit(logit + c["competitor_offer"])
    return risk @ np.exp(logw)


def contact_terms(p: Params, pop: Population, stats: WindowStats) -> ContactTerms:
    """The contact terms on the dissatisfaction nodes, their log prior weights included in the evidence."""
    q = p.raw["ceiling"]
    d, logw = gauss_hermite(q["dissat_nodes"])
    log_evidence, p_next = channel_terms(p, pop, stats, d, q["habit_grid"])
    log_evidence += (dissat_log_lik(p, pop, stats, d) + logw)[:, None, :]
    return ContactTerms(log_evidence, p_next, churn_risk(p, pop, stats, d, q["price_nodes"]))
