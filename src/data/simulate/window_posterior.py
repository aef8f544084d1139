"""Occupation terms of the window ceiling: P(window's timing, trip and peer counts | occupation).

The latent oracle (`posterior.occupation_posterior`) conditions on all 26 latents, including ones
no event shows (price sensitivity acts on next period's churn only) and ones the window shows only
through a few counts. The window ceiling (`window_ceiling`) conditions instead on

- the latents that act on the events directly (rates, cells, peers, durations, bills, tenure, SP
  propensity), registration data and latent age, as the oracle does;
- for the latents that act only through realised counts, on those counts (`window.WindowStats`),
  with each latent integrated out. This module holds the quadrature rules and the terms for rhythm
  (hour groups of all traffic), weekend ratio (weekend events), trips (days per location state),
  remote share (long-distance peers) and outgoing share; channel habits and dissatisfaction are in
  `contact_posterior`, the content mix in `content_posterior`;
- price sensitivity not at all.

The replaced latents have no activity loading, so given occupation they are independent of the rest
and of each other: Gauss-Hermite quadrature integrates them (a 4-D product rule for the rhythm
bumps, 2-D for the two trip shares).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from scipy.special import expit, log_expit, xlogy

from src.data.simulate.events import day_rates, weekend_days
from src.data.simulate.params import CHANNELS, Params
from src.data.simulate.population import Population
from src.data.simulate.posterior import latent_log_joint
from src.data.simulate.window import TIMED_STREAMS, WindowStats

RHYTHM = ("rhythm_early", "rhythm_work", "rhythm_evening", "rhythm_night")
TRIPS = ("trip_inprov", "trip_interprov")
HABITS = tuple(f"habit_{c}" for c in CHANNELS)
# latents replaced by their realised counts, or (price_sens) acting on no event of the window
INTEGRATED = (*RHYTHM, "weekend_ratio", *TRIPS, "remote_share", "out_share", *HABITS, "price_sens")


@cache
def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes t and log weights for E[f(X)], X ~ N(0, 1): E f ~ sum exp(logw) f(t) (read-only arrays)."""
    t, w = np.polynomial.hermite.hermgauss(n)
    t, logw = np.sqrt(2.0) * t, np.log(w / np.sqrt(np.pi))
    t.flags.writeable = logw.flags.writeable = False
    return t, logw


def product_rule(nodes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite product rule for a standard normal vector: points (g, d) and log weights (g,)."""
    rules = [gauss_hermite(int(m)) for m in nodes]
    t = np.stack(np.meshgrid(*[r[0] for r in rules], indexing="ij"), axis=-1).reshape(-1, len(rules))
    logw = sum(np.meshgrid(*[r[1] for r in rules], indexing="ij")).ravel()
    return t, logw


def log_sum_exp(x: np.ndarray, axis: int) -> np.ndarray:
    """log sum exp along one axis (finite inputs; plain NumPy, faster than scipy's general version)."""
    top = x.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.exp(x - top).sum(axis=axis))


def integrate_latent(
    p: Params, name: str, log_lik: Callable[[np.ndarray], np.ndarray], nodes: int
) -> np.ndarray:
    """log of E[L(z)] over z ~ N(mean[occ], sd) for each occupation; log_lik(x (1, m)) -> (n, m)."""
    t, logw = gauss_hermite(nodes)
    j = p.idx(name)
    cols = [
        log_sum_exp(log_lik((mean + p.latent_sd[j] * t)[None, :]) + logw, axis=1)
        for mean in p.latent_mean[:, j]
    ]
    return np.stack(cols, axis=1)


def _binomial(successes: np.ndarray, trials: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Log-likelihood of a logit-scale share (constants dropped)."""
    k, n = successes[:, None], trials[:, None]
    return lambda x: k * log_expit(x) + (n - k) * log_expit(-x)


def trips_term(p: Params, stats: WindowStats, nodes: int, inflate: float) -> np.ndarray:
    """Days per location state ~ categorical(home, in-province, out-of-province), both shares integrated."""
    shares, log_weights = shared_grid(p, TRIPS, [nodes, nodes], inflate)
    p_in = expit(shares[:, 0])
    p_out = np.minimum(expit(shares[:, 1]), 1.0 - p_in)  # day_state: p_in, p_in + p_inter
    p_home = np.maximum(1.0 - p_in - p_out, 0.0)
    home, inprov, outprov = (stats.trip_days[:, i][:, None] for i in range(3))
    ll = xlogy(home, p_home) + xlogy(inprov, p_in) + xlogy(outprov, p_out)
    return integrate_on_grid(ll, log_weights)


def weekend_term(p: Params, pop: Population, stats: WindowStats, nodes: int) -> np.ndarray:
    """Weekend events ~ Poisson(ratio * their weekday-rate expectation); the ratio integrated.

    Weekday events do not depend on the ratio, and given both totals the split over streams and
    days does not either.
    """
    weekend = weekend_days(p)
    r, fraction = p.raw["rates"], p.raw["record_fraction"]
    ratio = np.exp(pop.z[:, p.idx("weekend_ratio")])
    unit = (
        sum(
            day_rates(p, pop, r[base], latent, fraction[frac])[:, weekend].sum(axis=1)
            for _, _, base, latent, frac in TIMED_STREAMS
        )
        / ratio
    )
    n, lam = stats.hour_groups[:, 1].sum(axis=1)[:, None], unit[:, None]
    return integrate_latent(p, "weekend_ratio", lambda x: n * x - lam * np.exp(x), nodes)


def shared_grid(
    p: Params, names: tuple[str, ...], nodes: list[int], inflate: float
) -> tuple[np.ndarray, np.ndarray]:
    """One product grid for every occupation: points (g, d) and log weights (g, n_occ).

    Gauss-Hermite nodes of N(centre, inflate * sd) per latent, where centre is the population
    mean; each occupation's prior N(mean[occ], sd) enters through importance weights. The
    likelihood is then evaluated once per user instead of once per occupation.
    """
    js = [p.idx(n) for n in names]
    sd, centre = p.latent_sd[js], p.shares @ p.latent_mean[:, js]
    t, logw = product_rule(nodes)
    scale = inflate * sd
    points = centre + scale * t
    proposal = -0.5 * (t**2).sum(axis=1) - np.log(scale).sum()
    prior = np.stack(
        [-0.5 * (((points - mean[js]) / sd) ** 2).sum(axis=1) - np.log(sd).sum() for mean in p.latent_mean],
        axis=1,
    )
    return points, logw[:, None] + prior - proposal[:, None]


def integrate_on_grid(log_lik: np.ndarray, log_weights: np.ndarray) -> np.ndarray:
    """log sum_g w[g, k] L[i, g] for log-likelihoods (n, g) and log weights (g, n_occ) -> (n, n_occ)."""
    top = log_lik.max(axis=1, keepdims=True)
    wmax = log_weights.max(axis=0, keepdims=True)
    return top + wmax + np.log(np.exp(log_lik - top) @ np.exp(log_weights - wmax))


def hour_group_shares(p: Params) -> tuple[np.ndarray, float]:
    """Population hour-of-day share of each rhythm group (early, work, evening, night) and of the rest."""
    groups = np.array([p.hour_shares[m].sum() for m in p.rhythm_masks])
    return groups, float(p.hour_shares[~p.rhythm_masks.any(0)].sum())


def _rhythm_proposal(p: Params, stats: WindowStats, inflate: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-user centre and scale (n, 4) of the rhythm grid: a count-based estimate shrunk to the prior.

    Only where the grid sits depends on it; the integral is importance-weighted, so any centre gives
    the same answer with enough nodes, and a centre near the likelihood's peak needs few nodes.
    """
    js = [p.idx(n) for n in RHYTHM]
    sd, centre = p.latent_sd[js], p.shares @ p.latent_mean[:, js]
    share, other = hour_group_shares(p)
    weekday, weekend = stats.hour_groups[:, 0], stats.hour_groups[:, 1]
    counts = weekday[:, :4] + weekend[:, :4]
    counts[:, 1] = weekday[:, 1]  # the work bump shows on weekdays only
    base = weekday[:, 4:5] + weekend[:, 4:5]
    estimate = np.log((counts + 0.5) / share) - np.log((base + 0.5) / other)
    noise = 1.0 / (counts + 0.5) + 1.0 / (base + 0.5)
    precision = 1.0 / noise + 1.0 / sd**2
    mean = (estimate / noise + centre / sd**2) / precision
    return mean, inflate / np.sqrt(precision)


def grid_sum(parts: list[np.ndarray]) -> np.ndarray:
    """Per row, one value per dimension summed at every product-grid point: (c, n_j) each -> (c, g)."""
    c, d = len(parts[0]), len(parts)
    total = np.zeros((c,) + (1,) * d)
    for j, part in enumerate(parts):
        total = total + part.reshape((c,) + (1,) * j + (part.shape[1],) + (1,) * (d - j - 1))
    return total.reshape(c, -1)


def rhythm_term(
    p: Params, stats: WindowStats, nodes: list[int], inflate: float, chunk: int = 1000
) -> np.ndarray:
    """Hour groups of all traffic ~ multinomial(hour shares x exp(bump)); the four bumps integrated.

    Gauss-Hermite product rule on a per-user grid (`_rhythm_proposal`), importance-weighted by each
    occupation's prior. The weights factor over the four bumps, so the sum over the grid is a chain
    of one-dimensional contractions: the likelihood is exponentiated once per user and grid point,
    not once per occupation.
    """
    js = [p.idx(n) for n in RHYTHM]
    sd, scaled = p.latent_sd[js], p.latent_mean[:, js] / p.latent_sd[js]
    rules = [gauss_hermite(int(m)) for m in nodes]
    share, other = hour_group_shares(p)
    weekend_share = share.copy()
    weekend_share[1] = 0.0  # the office bump is a weekday habit (events.hour_cdf): its hours join `other`
    weekend_other = other + share[1]
    centre, scale = _rhythm_proposal(p, stats, inflate)
    out = np.empty((len(centre), len(scaled)))
    for lo in range(0, len(centre), chunk):
        hours = stats.hour_groups[lo : lo + chunk]
        m, s = centre[lo : lo + chunk], scale[lo : lo + chunk]
        bumps = [m[:, j, None] + s[:, j, None] * rules[j][0] for j in range(len(nodes))]  # (c, n_j) each
        exps = [np.exp(b) for b in bumps]
        # multinomial log-likelihood up to a per-user constant: sum_g n_g b_g - N log(sum_g share_g e^b_g)
        weekday_counts, weekend_counts = hours[:, 0, :4].copy(), hours[:, 1, :4].copy()
        weekend_counts[:, 1] = 0
        counts = weekday_counts + weekend_counts
        ll = grid_sum([counts[:, j, None] * b for j, b in enumerate(bumps)])
        ll -= hours[:, 0].sum(axis=1)[:, None] * np.log(
            other + grid_sum([share[j] * e for j, e in enumerate(exps)])
        )
        weekend = grid_sum([weekend_share[j] * e for j, e in enumerate(exps)])
        ll -= hours[:, 1].sum(axis=1)[:, None] * np.log(weekend_other + weekend)
        top = ll.max(axis=1, keepdims=True)
        shift = top + np.log(s).sum(axis=1, keepdims=True)  # + log s: dividing by the proposal density
        acc = np.exp(ll - top).reshape(len(m), -1, 1)  # (c, points, 1): the last bump varies fastest
        for j in reversed(range(len(nodes))):
            # per bump: Gauss-Hermite weight / proposal N(0, 1) x prior N(bump; mean_k, sd)
            tj, logwj = rules[j]
            z = (m[:, j, None] + s[:, j, None] * tj) / sd[j]  # (c, n_j)
            h = (logwj + 0.5 * tj**2)[None, :, None] - 0.5 * (z[:, :, None] - scaled[None, None, :, j]) ** 2
            h_top = h.max(axis=1, keepdims=True)
            shift = shift + h_top[:, 0, :]
            acc = acc.reshape(len(m), -1, nodes[j], acc.shape[-1])
            if j == len(nodes) - 1:
                acc = acc[..., 0] @ np.exp(h - h_top)  # (c, rest, k)
            else:
                acc = np.einsum("cxjk,cjk->cxk", acc, np.exp(h - h_top))
        acc = acc[:, 0, :]
        out[lo : lo + chunk] = shift + np.log(acc)
    return out


def count_log_terms(p: Params, pop: Population, stats: WindowStats) -> np.ndarray:
    """log P(occupation) + log p(direct latents, timing, trip and peer counts | occupation), (n, n_occ).

    Channel contacts and the content mix enter through `window_ceiling`, which shares them with
    the channel, churn and content ceilings.
    """
    q = p.raw["ceiling"]
    direct = [n for n in p.latent_names if n not in INTEGRATED]
    logp = latent_log_joint(p, pop, direct, use_content_mix=False)
    logp += rhythm_term(p, stats, list(q["rhythm_nodes"]), q["rhythm_inflate"])
    logp += weekend_term(p, pop, stats, q["nodes"])
    logp += trips_term(p, stats, q["trip_nodes"], q["trip_inflate"])
    logp += integrate_latent(p, "remote_share", _binomial(stats.remote_peers, stats.peers), q["nodes"])
    logp += integrate_latent(p, "out_share", _binomial(stats.outgoing, stats.directed), q["nodes"])
    return logp
