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
    return {
        "occupation": occupation,
        "channel": channel_ceiling(truth),
        "churn": churn_ceiling(truth),
        "content": content_ceiling(truth),
    }


def _with_oracle(tight: dict[str, float], oracle: dict[str, float]) -> dict[str, float]:
    """The tight ceiling's metrics, then the oracle's as `oracle_<metric>`."""
    return {**tight, **{f"oracle_{k}": v for k, v in oracle.items() if k != "prevalence"}}


def channel_ceiling(truth: dict[str, np.ndarray]) -> dict:
    """Per channel and mean ROC-AUC of the Bayes P(next contact | window); the true p_next as oracle."""
    channel: dict = {
        "method": (
            "Bayes P(next-period contact | window): habits and dissatisfaction integrated given the "
            "contact counts, complaints and their resolution (window_ceiling; bayes_p_next_<channel>)"
        ),
        "oracle_method": "true p_next_<channel> (given every latent) scored against realised next_<channel>",
    }
    for j, ch in enumerate(CHANNELS):
        y = truth["next"][:, j]
        channel[ch] = _with_oracle(_binary(y, truth["bayes_p_next"][:, j]), _binary(y, truth["p_next"][:, j]))
    for key in ("mean_roc_auc", "oracle_mean_roc_auc"):
        channel[key] = float(np.nanmean([channel[ch][key.replace("mean_", "")] for ch in CHANNELS]))
    channel["mean_brier"] = float(np.mean([channel[ch]["brier"] for ch in CHANNELS]))
    channel["oracle_mean_brier"] = float(np.mean([channel[ch]["oracle_brier"] for ch in CHANNELS]))
    return channel


def churn_ceiling(truth: dict[str, np.ndarray]) -> dict:
    """The Bayes P(churn | window) scored against realised churn; the true p_churn as oracle."""
    churn = {
        "method": (
            "Bayes P(churn next period | window): dissatisfaction, price sensitivity and a competitor "
            "offer integrated (window_ceiling; bayes_p_churn)"
        ),
        "oracle_method": "true p_churn (given every latent) scored against realised churned_next_period",
    }
    y = truth["churned"]
    churn.update(_with_oracle(_binary(y, truth["bayes_p_churn"]), _binary(y, truth["p_churn"])))
    return churn


def content_ceiling(truth: dict[str, np.ndarray]) -> dict:
    """Top-1/top-3 hits and Spearman of the Bayes content posterior, for all, explicit and latent users."""
    explicit = truth["explicit"]
    content: dict = {
        "method": (
            "Bayes posterior of the content mix given the window (visited categories, SP services, "
            "occupation evidence): top-k by P(category is the top one) (bayes_top_<category>), "
            "Spearman of the posterior-mean mix (bayes_pref_<category>)"
        ),
        "oracle_method": "the same posterior given the true occupation (and latent age)",
        "prior_method": "top-k of the prior mean mix given the true occupation and age, no evidence",
        "explicit_share": float(explicit.mean()),
    }
    groups = {"": slice(None), "_explicit": explicit, "_latent": ~explicit}
    for prefix, source in (("", "bayes"), ("oracle_", "oracle")):
        for metric in ("top1", "top3", "spearman"):
            values = truth[f"content_{source}_{metric}"]
            for suffix, rows in groups.items():
                chosen = values[rows]
                content[f"{prefix}{metric}{suffix}"] = float(chosen.mean()) if chosen.size else float("nan")
    for metric in ("top1", "top3"):
        content[f"prior_{metric}"] = float(truth[f"content_prior_{metric}"].mean())
    return content
