"""Where the occupation ceiling's accuracy comes from, and how much of it the features can recover.

1. R² of each latent per-user parameter predicted from the behaviour feature table (LightGBM on the
   first `gap.users` users of the simulated population, scored on a held-out share).
2. The Bayes accuracy of the simulator's occupation posterior conditioned on more and more: the
   registration data, then the latents in tiers of that R², then the content mix (= the latent
   oracle). A tier the features barely reveal adds accuracy that no event model can reach.
3. The ceiling the tasks use (`ceilings.json`): the posterior given the window's realised counts
   instead of the latents that act only through them (`window_posterior`), which lies below the oracle.

The occupation part of the behaviour gap analysis (`python -m src.gap`, src/gap.py).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src.data.simulate.ceiling_probe import learner, split
from src.data.simulate.params import Params
from src.data.simulate.population import draw_population
from src.data.simulate.posterior import occupation_posterior

LATENT_PREFIX = "latent_"


def latent_r2(features: pd.DataFrame, labels: pd.DataFrame, names: list[str], cfg: DictConfig) -> pd.Series:
    """Held-out R² of each latent `names[i]` (labels column latent_<name>) predicted from the features."""
    rows = features.merge(labels, on="user_id", validate="one_to_one").head(int(cfg.gap.users))
    X = rows[[c for c in features.columns if c != "user_id"]].to_numpy(dtype=float)
    train, test = split(len(rows), int(cfg.seed), float(cfg.gap.train_share))
    r2 = {}
    for name in names:
        y = rows[LATENT_PREFIX + name].to_numpy(dtype=float)
        pred = learner(cfg, "learner", False).fit(X[train], y[train]).predict(X[test])
        r2[name] = 1.0 - np.sum((y[test] - pred) ** 2) / np.sum((y[test] - y[test].mean()) ** 2)
    return pd.Series(r2, name="r2").sort_values(ascending=False, kind="stable")


def tiers(r2: pd.Series, bounds: list[float]) -> list[tuple[str, list[str]]]:
    """Latents grouped by R² tier, best revealed first: (label, names)."""
    cuts = sorted(bounds, reverse=True)
    edges = [float("inf"), *cuts, float("-inf")]
    out = []
    for i, (hi, lo) in enumerate(itertools.pairwise(edges)):
        names = [n for n, v in r2.items() if lo <= v < hi]
        label = f"R² ≥ {lo:g}" if i == 0 else (f"R² < {hi:g}" if i == len(cuts) else f"{lo:g} ≤ R² < {hi:g}")
        out.append((label, names))
    return out


def ablation(p: Params, n_users: int, seed: int, steps: list[tuple[str, list[str]]]) -> pd.DataFrame:
    """Bayes accuracy (true occupation) given registration data, then each tier, then the content mix."""
    pop = draw_population(p, np.random.default_rng(seed), 1, n_users)
    rows, latents = [], []

    def accuracy(**flags: bool) -> float:
        post = occupation_posterior(p, pop, latents, use_age=True, use_demographics=True, **flags)
        return float(np.mean(post.argmax(axis=1) == pop.occ))

    rows.append(("registration data (age, gender, prepaid, province)", "", accuracy(use_content_mix=False)))
    for label, names in steps:
        latents = latents + names
        rows.append((f"+ latents with {label}", ", ".join(names), accuracy(use_content_mix=False)))
    rows.append(("+ content mix (= the latent oracle)", "", accuracy(use_content_mix=True)))
    return pd.DataFrame(rows, columns=["conditioning on", "latents added", "Bayes accuracy"])


def report(r2: pd.Series, table: pd.DataFrame, ceiling: dict | None = None) -> str:
    """Markdown: the R² table, the cumulative ablation and (if given) ceilings.json's occupation entry."""
    lines = ["### Where the occupation ceiling comes from", "", "| latent | R² from features |", "|---|---:|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in r2.items()]
    lines += ["", "| conditioning on | latents added | Bayes accuracy (true label) |", "|---|---|---:|"]
    lines += [f"| {a} | {b} | {c:.3f} |" for a, b, c in table.itertuples(index=False)]
    if ceiling is not None:
        lines += [
            "",
            "| ceiling of the simulated population (`ceilings.json`) | true label | observed label |",
            "|---|---:|---:|",
            f"| latent oracle (every latent) | {ceiling['oracle_accuracy']:.3f} "
            f"| {ceiling['oracle_accuracy_vs_observed_label']:.3f} |",
            f"| the ceiling: posterior given the window's realised counts | {ceiling['accuracy']:.3f} "
            f"| {ceiling['accuracy_vs_observed_label']:.3f} |",
        ]
    return "\n".join(lines) + "\n"
