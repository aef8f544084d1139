"""Every behaviour ceiling from one joint posterior over occupation and dissatisfaction, given the window.

The joint is log P(k) p(window | k, d) on occupations k x dissatisfaction nodes d: the count terms
of `window_posterior`, the contact terms of `contact_posterior` and the content evidence of
`content_posterior`. Its marginals and the expectations stored beside it give

- occupation: P(k | window);
- channel: P(next-period contact per channel | window), habits integrated per (k, d);
- churn: P(churn next period | window), price sensitivity and a competitor offer integrated;
- content: P(category is the top one | window) and the posterior-mean mix.

Each is the Bayes prediction given what the tables reveal, so no model of the tables beats it in
expectation. Oracles (`*_oracle`) condition on the latents instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from src.data.simulate.contact_posterior import contact_terms
from src.data.simulate.content_posterior import content_draws, content_summary
from src.data.simulate.params import Params
from src.data.simulate.population import Population
from src.data.simulate.window import WindowStats
from src.data.simulate.window_posterior import count_log_terms


@dataclass
class WindowCeilings:
    """Per-user Bayes predictions given the window (rows follow `pop.user_id`)."""

    occupation: np.ndarray  # (n, n_occ)
    p_next: np.ndarray  # (n, 6) channels in params.CHANNELS order
    p_churn: np.ndarray  # (n,)
    content_top: np.ndarray  # (n, categories): P(category is the user's top one)
    content_mix: np.ndarray  # (n, categories): posterior-mean content mix
    content_top_oracle: np.ndarray  # (n, categories): the same given the true occupation
    content_mix_oracle: np.ndarray  # (n, categories)


def occupation_before_content(counts: np.ndarray, contact_evidence: np.ndarray) -> np.ndarray:
    """P(occupation | window without the content evidence), (n, k): picks the content proposal."""
    shifted = contact_evidence - contact_evidence.max(axis=(1, 2), keepdims=True)
    log_post = counts + np.log(np.exp(shifted).sum(axis=2))
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    return post / post.sum(axis=1, keepdims=True)


def window_ceilings(
    p: Params, pop: Population, stats: WindowStats, rng: np.random.Generator
) -> WindowCeilings:
    """The joint posterior over (occupation, dissatisfaction) and every ceiling it implies."""
    q = p.raw["ceiling"]
    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only contend
        contacts = contact_terms(p, pop, stats)
        counts = count_log_terms(p, pop, stats)
        plausible = occupation_before_content(counts, contacts.log_evidence) >= q["plausible"]
        draws = content_draws(p, pop, stats, q["content_draws"], rng, plausible)
    log_joint = (counts + draws.log_evidence)[:, :, None] + contacts.log_evidence
    flat = log_joint.reshape(pop.n, -1)
    joint = np.exp(flat - flat.max(axis=1, keepdims=True))
    joint = (joint / joint.sum(axis=1, keepdims=True)).reshape(log_joint.shape)  # (n, k, d)
    occupation = joint.sum(axis=2)
    content_top, content_mix = content_summary(draws, occupation)
    oracle_top, oracle_mix = content_summary(draws, np.eye(len(p.occupations))[pop.occ])
    return WindowCeilings(
        occupation=occupation,
        p_next=np.einsum("nkd,nkdc->nc", joint, contacts.p_next),
        p_churn=np.einsum("nkd,nkd->n", joint, contacts.p_churn),
        content_top=content_top,
        content_mix=content_mix,
        content_top_oracle=oracle_top,
        content_mix_oracle=oracle_mix,
    )


def window_posterior(p: Params, pop: Population, stats: WindowStats, rng: np.random.Generator) -> np.ndarray:
    """P(occupation | registration, directly acting latents, the window's realised counts), (n, n_occ)."""
    return window_ceilings(p, pop, stats, rng).occupation
