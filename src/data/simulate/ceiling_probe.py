"""Does the feature table hold what each tight ceiling uses? A LightGBM fitted to the ceiling's own output.

For every behaviour task, a model learns the ceiling's per-user prediction (not the noisy outcome)
from the behaviour feature table and is scored like the task on held-out users. Then

- ceiling - probe: information the feature table does not carry (or that trees cannot read from it);
- probe - a task model: what learning from noisy outcomes on a finite sample costs.

Pure modelling on given frames: no tracking, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.metrics import roc_auc_score

from src.ranking import ranking_hits

CHANNELS: tuple[str, ...] = ("store", "web", "sms", "kiosk", "hotline", "app")


@dataclass(frozen=True)
class ProbeRow:
    """One task's ceiling and its probe, scored on the same held-out users."""

    task: str
    metric: str
    ceiling: float
    probe: float
    users: int


def _regressor(cfg: DictConfig) -> lgb.LGBMRegressor:
    return lgb.LGBMRegressor(
        **cfg.gap.regressor, deterministic=True, force_row_wise=True, num_threads=cfg.n_jobs,
        random_state=cfg.seed, verbose=-1,
    )  # fmt: skip


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    return float(roc_auc_score(positive, scores))


def _split(n: int, cfg: DictConfig) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(cfg.seed).permutation(n)
    cut = int(n * float(cfg.gap.train_share))
    return order[:cut], order[cut:]


def probe_ceilings(features: pd.DataFrame, labels: pd.DataFrame, cfg: DictConfig) -> list[ProbeRow]:
    """Channel mean ROC-AUC, churn ROC-AUC, content top-1/top-3, occupation accuracy: ceiling vs probe."""
    rows = features.merge(labels, on="user_id", validate="one_to_one").head(int(cfg.gap.users))
    X = rows[[c for c in features.columns if c != "user_id"]].to_numpy(dtype=float)
    train, test = _split(len(rows), cfg)
    out = []

    def fitted(target: str) -> np.ndarray:
        y = rows[target].to_numpy(dtype=float)
        return _regressor(cfg).fit(X[train], y[train]).predict(X[test])

    ceiling_auc, probe_auc = [], []
    for channel in CHANNELS:
        used = rows[f"next_{channel}"].to_numpy()[test] == 1
        ceiling_auc.append(_auc(rows[f"bayes_p_next_{channel}"].to_numpy()[test], used))
        probe_auc.append(_auc(fitted(f"bayes_p_next_{channel}"), used))
    out.append(
        ProbeRow("channel", "mean roc_auc", float(np.mean(ceiling_auc)), float(np.mean(probe_auc)), len(test))
    )

    churned = rows["churned_next_period"].to_numpy()[test] == 1
    out.append(
        ProbeRow(
            "churn_sim", "roc_auc", _auc(rows["bayes_p_churn"].to_numpy()[test], churned),
            _auc(fitted("bayes_p_churn"), churned), len(test),
        )
    )  # fmt: skip

    categories = [c.removeprefix("pref_") for c in rows.columns if c.startswith("pref_")]
    truth = rows[[f"pref_{c}" for c in categories]].to_numpy(dtype=float)[test]
    ceiling_hits = ranking_hits(
        rows[[f"bayes_top_{c}" for c in categories]].to_numpy(dtype=float)[test], truth
    )
    probe_hits = ranking_hits(np.column_stack([fitted(f"bayes_top_{c}") for c in categories]), truth)
    for metric in ("top1", "top3"):
        out.append(
            ProbeRow(
                "content",
                metric,
                float(ceiling_hits[metric].mean()),
                float(probe_hits[metric].mean()),
                len(test),
            )
        )

    out.append(occupation_probe(rows, X, cfg))
    return out


def occupation_probe(rows: pd.DataFrame, X: np.ndarray, cfg: DictConfig) -> ProbeRow:
    """Observed users: a classifier of the ceiling's decision, scored against the observed labels."""
    observed = rows["occupation_observed"].astype(bool).to_numpy()
    X, target = X[observed], rows.loc[observed, "bayes_observed_occupation"].astype(str).to_numpy()
    labels = rows.loc[observed, "observed_occupation"].astype(str).to_numpy()
    train, test = _split(len(target), cfg)
    model = lgb.LGBMClassifier(
        **cfg.gap.regressor, deterministic=True, force_row_wise=True, num_threads=cfg.n_jobs,
        random_state=cfg.seed, verbose=-1,
    )  # fmt: skip
    predicted = model.fit(X[train], target[train]).predict(X[test])
    ceiling = float(np.mean(target[test] == labels[test]))
    return ProbeRow("occupation", "accuracy", ceiling, float(np.mean(predicted == labels[test])), len(test))


def probe_report(rows: list[ProbeRow]) -> list[str]:
    """Markdown lines: per task, the ceiling, the probe, and the gap the feature table leaves."""
    lines = [
        "",
        "# Every task: does the feature table hold what the ceiling uses?",
        "",
        "A LightGBM learns each ceiling's own per-user prediction from the feature table; both are",
        "scored against the outcomes on the same held-out users. ceiling - probe is what the features",
        "do not carry; probe - a task's model is the cost of learning from noisy outcomes.",
        "",
        "| task | metric | held-out users | ceiling | probe (features -> ceiling) | ceiling - probe |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        gap = r.ceiling - r.probe
        lines.append(
            f"| {r.task} | {r.metric} | {r.users:,} | {r.ceiling:.3f} | {r.probe:.3f} | {gap:+.3f} |"
        )
    return lines
