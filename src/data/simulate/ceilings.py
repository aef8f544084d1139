"""Ceilings: what the best possible model reaches on each simulated task, on the realised labels."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    roc_auc_score,
)

from src.data.simulate.params import CHANNELS, Params


def _binary(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier, log-loss and accuracy at 0.5 of a true probability."""
    prob = prob.astype(np.float64)
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, prob)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, prob)) if both else float("nan"),
        "brier": float(brier_score_loss(y, prob)),
        "log_loss": float(log_loss(y, np.clip(prob, 1e-12, 1 - 1e-12), labels=[0, 1])),
        "accuracy": float(accuracy_score(y, prob >= 0.5)),
        "prevalence": float(y.mean()),
    }


def compute_ceilings(p: Params, truth: dict[str, np.ndarray]) -> dict:
    """All ceilings from the per-user truth arrays of the whole population."""
    occ, observed, noisy = truth["occ"], truth["observed"], truth["noisy"]
    labels = list(range(len(p.occupations)))

    def scores(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
        return (
            float(accuracy_score(true, predicted)),
            float(f1_score(true, predicted, average="macro", labels=labels)),
        )

    bayes, bayes_obs = truth["bayes"], truth["bayes_observed"]
    oracle, oracle_obs = truth["oracle"], truth["oracle_observed"]
    accuracy, macro_f1 = scores(occ, bayes)
    accuracy_obs, macro_f1_obs = scores(noisy[observed], bayes_obs[observed])
    oracle_accuracy, oracle_macro_f1 = scores(occ, oracle)
    oracle_accuracy_obs, oracle_macro_f1_obs = scores(noisy[observed], oracle_obs[observed])
    occupation = {
        "method": (
            "Bayes posterior given registration data, the latents that act on events directly and the "
            "window's realised counts for the others (window_posterior; upper bound for event models)"
        ),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "f1_per_class": dict(
            zip(p.occupations, map(float, f1_score(occ, bayes, average=None, labels=labels)), strict=True)
        ),
        "observed_share": float(observed.mean()),
        # observed labels: the Bayes decision for the noisy label (posterior through the noise channel)
        "accuracy_vs_observed_label": accuracy_obs,
        "macro_f1_vs_observed_label": macro_f1_obs,
        "oracle_method": "Bayes posterior given every latent parameter (looser upper bound)",
        "oracle_accuracy": oracle_accuracy,
        "oracle_macro_f1": oracle_macro_f1,
        "oracle_accuracy_vs_observed_label": oracle_accuracy_obs,
        "oracle_macro_f1_vs_observed_label": oracle_macro_f1_obs,
        "observed_label_accuracy": float(accuracy_score(occ[observed], noisy[observed])),
        "majority_class_accuracy": float(np.bincount(occ).max() / len(occ)),
    }
    channel = {"method": "true p_next_<channel> scored against realised next_<channel>"}
    for j, ch in enumerate(CHANNELS):
        channel[ch] = _binary(truth["next"][:, j], truth["p_next"][:, j])
    channel["mean_roc_auc"] = float(np.nanmean([channel[ch]["roc_auc"] for ch in CHANNELS]))
    churn = {"method": "true p_churn scored against realised churned_next_period"}
    churn.update(_binary(truth["churned"], truth["p_churn"]))
    explicit = truth["explicit"]
    content = {
        "method": (
            "top-k hit of the true top category by the Bayes posterior-mean mix given the prior "
            "(occupation, age) and the user's web-visit category counts; prior_* without visits"
        ),
        "explicit_share": float(explicit.mean()),
    }
    for key in ("posterior_top1", "posterior_top3", "prior_top1", "prior_top3"):
        hits = truth[f"content_{key}"]
        content[key] = float(hits.mean())
        content[f"{key}_explicit"] = float(hits[explicit].mean()) if explicit.any() else float("nan")
    return {"occupation": occupation, "channel": channel, "churn": churn, "content": content}
