"""Where each behaviour task's distance to its ceiling comes from: oracle, ceiling, probe, outcome model.

On the same held-out users of the simulated population, four predictions are scored as the task is:

- oracle: the simulator's prediction given every latent (`p_next_<channel>`, `p_churn`); content and
  occupation have no per-user oracle column, so theirs is the population figure of `ceilings.json`;
- ceiling: the tight ceiling's per-user prediction (`bayes_*`), the best any model of the tables can do;
- probe: a LightGBM fitted to the ceiling's own prediction from the behaviour feature table;
- outcome model: a LightGBM fitted to the realised outcomes the task is graded on, from the same table.

So oracle - ceiling is what the window does not reveal, ceiling - probe what the feature table does not
carry (in a form trees read), and probe - outcome model what learning from noisy outcomes on a finite
sample costs. Pure modelling on given frames: no tracking, no I/O.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.metrics import average_precision_score, roc_auc_score

from src.errors import ConfigError
from src.ranking import ranking_hits

log = logging.getLogger(__name__)
CHANNELS: tuple[str, ...] = ("store", "web", "sms", "kiosk", "hotline", "app")
TASKS: tuple[str, ...] = ("channel", "churn_sim", "content", "occupation")
SOURCES: tuple[str, ...] = ("oracle", "ceiling", "probe", "outcome model")
LOWER_IS_BETTER = frozenset({"brier"})
# consecutive sources and what the distance between them is attributed to
STEPS: tuple[tuple[str, str, str], ...] = (
    ("oracle", "ceiling", "the window does not reveal it (latents integrated out)"),
    ("ceiling", "probe", "the feature table does not carry it (new features could close it)"),
    ("probe", "outcome model", "learning from noisy outcomes on this many users (tuning, calibration, data)"),
)

Scorer = Callable[[Any, np.ndarray], float]


@dataclass(frozen=True)
class TaskGap:
    """One task's four sources scored on the same held-out users, and the distance between them."""

    task: str
    headline: str
    scores: pd.DataFrame  # index SOURCES, one column per metric; NaN where a source has no score
    steps: pd.DataFrame  # one row per step and metric: distance (> 0: lost), interval on per-user sources
    held_out: int
    fitted_on: int
    notes: tuple[str, ...] = ()
    per_target: pd.DataFrame | None = None


@dataclass
class Sources:
    """Per-user predictions of each source on the held-out users, and how to score them."""

    predictions: dict[str, Any]
    scorers: dict[str, Scorer]
    population: dict[str, dict[str, float]] = field(default_factory=dict)  # source -> metric -> value
    notes: tuple[str, ...] = ()


def check_tasks(tasks: list[str]) -> list[str]:
    """The requested tasks in the analysis's order; an unknown name is a config error."""
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"gap.tasks: unknown task '{unknown[0]}' (choose from {', '.join(TASKS)})")
    if not tasks:
        raise ConfigError(f"gap.tasks is empty: name at least one of {', '.join(TASKS)}")
    return [t for t in TASKS if t in tasks]


def learner(cfg: DictConfig, key: str, classifier: bool) -> lgb.LGBMModel:
    """LightGBM with the settings `gap.<key>`, deterministic, seeded and single-purpose."""
    kind = lgb.LGBMClassifier if classifier else lgb.LGBMRegressor
    return kind(
        **cfg.gap[key], deterministic=True, force_row_wise=True, num_threads=cfg.n_jobs,
        random_state=cfg.seed, verbose=-1,
    )  # fmt: skip


def split(n: int, seed: int, train_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Seeded permutation cut into fitted and held-out positions."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(n * float(train_share))
    return order[:cut], order[cut:]


def channel_sources(
    rows: pd.DataFrame, X: np.ndarray, fit: np.ndarray, held: np.ndarray, cfg: DictConfig
) -> Sources:
    """Per channel: true P(contact), the ceiling's, the probe's and the outcome model's, held-out users."""
    used = {c: rows[f"next_{c}"].to_numpy()[held] == 1 for c in CHANNELS}
    predictions: dict[str, dict[str, np.ndarray]] = {s: {} for s in SOURCES}
    for channel in CHANNELS:
        ceiling = rows[f"bayes_p_next_{channel}"].to_numpy(dtype=float)
        outcome = rows[f"next_{channel}"].to_numpy() == 1
        predictions["oracle"][channel] = rows[f"p_next_{channel}"].to_numpy(dtype=float)[held]
        predictions["ceiling"][channel] = ceiling[held]
        predictions["probe"][channel] = np.clip(
            learner(cfg, "learner", False).fit(X[fit], ceiling[fit]).predict(X[held]), 0.0, 1.0
        )
        model = learner(cfg, "outcome_learner", True).fit(X[fit], outcome[fit])
        predictions["outcome model"][channel] = model.predict_proba(X[held])[
            :, list(model.classes_).index(True)
        ]

    def mean_over_channels(metric: Callable[[np.ndarray, np.ndarray], float]) -> Scorer:
        return lambda p, idx: float(np.mean([metric(used[c][idx], p[c][idx]) for c in CHANNELS]))

    scorers = {"roc_auc": mean_over_channels(roc_auc_score), "brier": mean_over_channels(squared_error)}
    return Sources(predictions, scorers)


def churn_sources(
    rows: pd.DataFrame, X: np.ndarray, fit: np.ndarray, held: np.ndarray, cfg: DictConfig
) -> Sources:
    """True P(churn), the ceiling's, the probe's and the outcome model's on held-out users."""
    churned = rows["churned_next_period"].to_numpy() == 1
    ceiling = rows["bayes_p_churn"].to_numpy(dtype=float)
    model = learner(cfg, "outcome_learner", True).fit(X[fit], churned[fit])
    predictions = {
        "oracle": rows["p_churn"].to_numpy(dtype=float)[held],
        "ceiling": ceiling[held],
        "probe": np.clip(learner(cfg, "learner", False).fit(X[fit], ceiling[fit]).predict(X[held]), 0.0, 1.0),
        "outcome model": model.predict_proba(X[held])[:, list(model.classes_).index(True)],
    }
    truth = churned[held]
    scorers = {
        "roc_auc": lambda p, idx: float(roc_auc_score(truth[idx], p[idx])),
        "pr_auc": lambda p, idx: float(average_precision_score(truth[idx], p[idx])),
        "brier": lambda p, idx: squared_error(truth[idx], p[idx]),
    }
    return Sources(predictions, scorers)


def content_sources(
    rows: pd.DataFrame,
    X: np.ndarray,
    fit: np.ndarray,
    held: np.ndarray,
    cfg: DictConfig,
    oracle: dict[str, float],
) -> Sources:
    """Category scores ranked against the true mix: ceiling, probe, a classifier of the true favourite."""
    categories = [c.removeprefix("pref_") for c in rows.columns if c.startswith("pref_")]
    truth = rows[[f"pref_{c}" for c in categories]].to_numpy(dtype=float)
    ceiling = rows[[f"bayes_top_{c}" for c in categories]].to_numpy(dtype=float)
    probe = np.column_stack(
        [
            learner(cfg, "learner", False).fit(X[fit], ceiling[fit, j]).predict(X[held])
            for j in range(len(categories))
        ]
    )
    favourite = truth.argmax(axis=1)
    model = learner(cfg, "outcome_learner", True).fit(X[fit], favourite[fit])
    outcome = np.zeros((len(held), len(categories)))
    outcome[:, model.classes_] = model.predict_proba(X[held])
    held_truth = truth[held]

    def hits(metric: str) -> Scorer:
        return lambda p, idx: float(ranking_hits(p[idx], held_truth[idx])[metric].mean())

    return Sources(
        {"ceiling": ceiling[held], "probe": probe, "outcome model": outcome},
        {"top1": hits("top1"), "top3": hits("top3")},
        population={"oracle": {"top1": oracle["oracle_top1"], "top3": oracle["oracle_top3"]}},
        notes=(
            "oracle: population figure of ceilings.json (the posterior given the true occupation and age; "
            "no per-user column)",
            "outcome model: a classifier of the true favourite category (more than the task sees: it learns "
            "from rule labels of explicit users)",
        ),
    )


def occupation_sources(
    rows: pd.DataFrame, X: np.ndarray, cfg: DictConfig, oracle: dict[str, float]
) -> tuple[Sources, int, int]:
    """Observed users: the ceiling's decision, a classifier of it, a classifier of the observed labels."""
    observed = rows["occupation_observed"].astype(bool).to_numpy()
    X = X[observed]
    target = rows.loc[observed, "bayes_observed_occupation"].astype(str).to_numpy()
    labels = rows.loc[observed, "observed_occupation"].astype(str).to_numpy()
    fit, held = split(len(target), int(cfg.seed), float(cfg.gap.train_share))
    probe = learner(cfg, "learner", True).fit(X[fit], target[fit]).predict(X[held])
    outcome = learner(cfg, "outcome_learner", True).fit(X[fit], labels[fit]).predict(X[held])
    truth = labels[held]
    sources = Sources(
        {"ceiling": target[held], "probe": probe, "outcome model": outcome},
        {"accuracy": lambda p, idx: float(np.mean(p[idx] == truth[idx]))},
        population={"oracle": {"accuracy": oracle["oracle_accuracy_vs_observed_label"]}},
        notes=("oracle: population figure of ceilings.json (posterior given every latent, observed label)",),
    )
    return sources, len(fit), len(held)


def squared_error(positive: np.ndarray, proba: np.ndarray) -> float:
    """Brier score: mean squared error of a probability against the 0/1 outcome."""
    return float(np.mean((np.asarray(proba, dtype=float) - np.asarray(positive, dtype=float)) ** 2))


def distance(metric: str, upper: float, lower: float) -> float:
    """How much is lost from `upper` to `lower` (positive = lost), whichever way the metric points."""
    return lower - upper if metric in LOWER_IS_BETTER else upper - lower


def score_sources(task: str, sources: Sources, n_held: int, n_fit: int, cfg: DictConfig) -> TaskGap:
    """Every source on every metric, and each step's distance with a paired bootstrap over held-out users."""
    metrics = list(sources.scorers)
    every = np.arange(n_held)
    scores = pd.DataFrame(index=list(SOURCES), columns=metrics, dtype=float)
    for source in SOURCES:
        for metric in metrics:
            if source in sources.predictions:
                scores.loc[source, metric] = sources.scorers[metric](sources.predictions[source], every)
            else:
                scores.loc[source, metric] = sources.population.get(source, {}).get(metric, np.nan)
    rng = np.random.default_rng(int(cfg.seed))
    n_boot, level = int(cfg.gap.n_bootstrap), float(cfg.gap.ci_level)
    draws = [rng.integers(0, n_held, size=n_held) for _ in range(n_boot)]
    rows = []
    for upper, lower, reason in STEPS:
        paired = upper in sources.predictions and lower in sources.predictions
        for metric in metrics:
            low = high = np.nan
            if paired and n_boot > 0:
                score = sources.scorers[metric]
                resampled = [
                    distance(
                        metric, score(sources.predictions[upper], d), score(sources.predictions[lower], d)
                    )
                    for d in draws
                ]
                low, high = np.quantile(resampled, [(1 - level) / 2, (1 + level) / 2])
            gap = distance(metric, scores.loc[upper, metric], scores.loc[lower, metric])
            rows.append({"step": f"{upper} -> {lower}", "reason": reason, "metric": metric,
                         "distance": gap, "low": low, "high": high, "paired": paired})  # fmt: skip
    return TaskGap(task, metrics[0], scores, pd.DataFrame(rows), n_held, n_fit, sources.notes)


def channel_table(sources: Sources, used: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per channel: ROC-AUC and Brier of every per-user source on the held-out users."""
    rows = []
    for channel in CHANNELS:
        row: dict[str, Any] = {"channel": channel, "prevalence": float(used[channel].mean())}
        for source in SOURCES:
            proba = sources.predictions[source][channel]
            row[f"{source} roc_auc"] = float(roc_auc_score(used[channel], proba))
            row[f"{source} brier"] = squared_error(used[channel], proba)
        rows.append(row)
    return pd.DataFrame(rows)


def task_gaps(
    features: pd.DataFrame, labels: pd.DataFrame, ceilings: dict[str, Any], tasks: list[str], cfg: DictConfig
) -> list[TaskGap]:
    """The four sources of every requested task on the first `gap.users` users (seeded fit / held-out cut)."""
    rows = features.merge(labels, on="user_id", validate="one_to_one").head(int(cfg.gap.users))
    X = rows[[c for c in features.columns if c != "user_id"]].to_numpy(dtype=float)
    fit, held = split(len(rows), int(cfg.seed), float(cfg.gap.train_share))
    out = []
    for task in check_tasks(tasks):
        began = time.perf_counter()
        if task == "channel":
            sources = channel_sources(rows, X, fit, held, cfg)
            gap = score_sources(task, sources, len(held), len(fit), cfg)
            used = {c: rows[f"next_{c}"].to_numpy()[held] == 1 for c in CHANNELS}
            gap = TaskGap(**{**gap.__dict__, "per_target": channel_table(sources, used)})
        elif task == "churn_sim":
            gap = score_sources(task, churn_sources(rows, X, fit, held, cfg), len(held), len(fit), cfg)
        elif task == "content":
            sources = content_sources(rows, X, fit, held, cfg, ceilings["content"])
            gap = score_sources(task, sources, len(held), len(fit), cfg)
        else:
            sources, n_fit, n_held = occupation_sources(rows, X, cfg, ceilings["occupation"])
            gap = score_sources(task, sources, n_held, n_fit, cfg)
        log.info("gap analysis: %s in %.1f s", task, time.perf_counter() - began)
        out.append(gap)
    return out
