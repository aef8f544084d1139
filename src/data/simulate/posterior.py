"""Exact Bayes posteriors under the simulator's own likelihood (the basis of the ceilings)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import gammaln

from src.data.simulate.params import Params
from src.data.simulate.population import Population, content_alpha


def _log_bernoulli(x: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """log P(x) for Bernoulli(prob), broadcast to (n, k)."""
    return np.where(x[:, None], np.log(prob)[None, :], np.log1p(-prob)[None, :])


def latent_log_joint(
    p: Params,
    pop: Population,
    latents: Sequence[str] | None = None,
    *,
    use_age: bool = True,
    use_content_mix: bool = True,
    use_demographics: bool = True,
) -> np.ndarray:
    """log P(occupation) + log p(conditioned latents | occupation), up to a per-user constant; (n, n_occ).

    `latents` (names of `p.latent_names`, all by default) and the `use_*` flags choose what is
    conditioned on; the other latents are integrated out (a Gaussian marginal).
    """
    names = list(p.latent_names) if latents is None else list(latents)
    unknown = sorted(set(names) - set(p.latent_names))
    if unknown:
        raise ValueError(f"unknown latent(s) {unknown}; known: {list(p.latent_names)}")
    keep = np.array([p.idx(name) for name in names], dtype=np.intp)
    n_occ = len(p.occupations)
    cov = np.diag(p.latent_sd**2) + np.outer(p.latent_loading, p.latent_loading)
    prec = np.linalg.inv(cov[np.ix_(keep, keep)])  # a Gaussian marginal: drop the other rows and columns
    logp = np.tile(np.log(p.shares), (pop.n, 1))
    female = pop.female.astype(float)
    for k in range(n_occ):
        r = (pop.z - p.latent_mean[k] - np.outer(female, p.female_shift))[:, keep]
        logp[:, k] += -0.5 * ((r @ prec) * r).sum(axis=1)
        if use_age:
            logp[:, k] += -np.log(p.age_sd[k]) - 0.5 * ((pop.age_raw - p.age_mean[k]) / p.age_sd[k]) ** 2
        if use_content_mix:
            alpha = content_alpha(p, np.full(pop.n, k), pop.age_raw)
            logp[:, k] += (
                gammaln(alpha.sum(axis=1))
                - gammaln(alpha).sum(axis=1)
                + ((alpha - 1.0) * np.log(pop.pref)).sum(axis=1)
            )
    if use_demographics:
        logp += _log_bernoulli(~pop.female, p.p_male)
        logp += _log_bernoulli(pop.prepaid, p.p_prepaid)
        logp += _log_bernoulli(pop.nonlocal_, p.p_nonlocal)
    return logp


def normalise(logp: np.ndarray) -> np.ndarray:
    """Rows of unnormalised log probabilities -> probabilities."""
    logp = logp - logp.max(axis=1, keepdims=True)
    post = np.exp(logp)
    return post / post.sum(axis=1, keepdims=True)


def occupation_posterior(
    p: Params, pop: Population, latents: Sequence[str] | None = None, **conditioning: bool
) -> np.ndarray:
    """P(occupation | every latent per-user parameter), shape (n, n_occ): the latent oracle.

    Occupation acts on the events only through these latents, so no model that sees the
    events can beat this posterior (occupation -> latents -> events is a Markov chain).
    `latents` and the `use_*` flags of `latent_log_joint` condition on a subset only:
    the others are integrated out, which the gap analysis (`src.data.simulate.occupation_gap`) uses.
    The tighter ceiling, given the window's realised statistics, is in `window_posterior`.
    """
    return normalise(latent_log_joint(p, pop, latents, **conditioning))


def observed_label_posterior(p: Params, post: np.ndarray) -> np.ndarray:
    """P(observed, noisy label | ...) from P(true occupation | ...), through the label-noise channel."""
    noise = float(p.raw["observation"]["label_noise"])
    channel = np.eye(len(p.occupations))
    for k, options in enumerate(p.confusable):
        if options:
            channel[k, k] = 1.0 - noise
            np.add.at(channel[k], list(options), noise / len(options))
    return post @ channel


def content_evidence_hits(p: Params, pop: Population, web_counts: np.ndarray) -> dict[str, np.ndarray]:
    """Does the posterior-mean mix given the web-visit categories find the user's true top category?

    The posterior of the mix given its prior (occupation, age) and the multinomial counts of
    visited categories is Dirichlet(alpha + counts); `prior_*` uses alpha alone.
    """
    alpha = content_alpha(p, pop.occ, pop.age_raw)
    truth = pop.pref.argmax(axis=1)
    out: dict[str, np.ndarray] = {}
    for name, score in (("posterior", alpha + web_counts), ("prior", alpha)):
        order = np.argsort(-score, axis=1, kind="stable")
        out[f"{name}_top1"] = order[:, 0] == truth
        out[f"{name}_top3"] = (order[:, :3] == truth[:, None]).any(axis=1)
    return out
