"""Content-preference math: rule scores from content evidence, the stage-2 scores and their fusion.

Shared by the content task (training, evaluation) and scoring (the deployed profile), so a chunk
of users is scored exactly as the task scored them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src.features.content_fusion import LearnedFusion

# the attribute of the registered content pipeline that holds its learned fusion (LearnedFusion.to_dict)
FUSION_ATTRIBUTE = "content_fusion_"


def rule_scores(
    features: pd.DataFrame, rules: DictConfig, suffixes: dict[str, str], *, prior: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """(0-100 rule score per category, weighted evidence per user) from the content-bearing columns.

    The scores are smoothed towards `prior` (one share per category), by default the category mix of
    the given rows; a chunk of a larger population passes the population's (see `category_mix`).
    """
    evidence = weighted_evidence(features, rules, suffixes)
    amount = evidence.sum(axis=1)
    if prior is None:
        prior = category_mix(evidence.sum(axis=0).to_numpy())
    else:
        prior = np.asarray(prior, dtype=float)
        if prior.shape != (len(suffixes),):
            raise ValueError(f"prior has shape {prior.shape}, not one share per category ({len(suffixes)})")
    alpha = float(rules.smoothing)
    numerator = evidence.to_numpy() + alpha * prior[None, :]
    denominator = np.broadcast_to(amount.to_numpy()[:, None] + alpha, numerator.shape)
    # no evidence and no smoothing: the population mix
    shares = np.divide(
        numerator, denominator, out=np.broadcast_to(prior, numerator.shape).copy(), where=denominator > 0
    )
    return pd.DataFrame(100.0 * shares, columns=list(suffixes), index=features.index), amount


def weighted_evidence(features: pd.DataFrame, rules: DictConfig, suffixes: dict[str, str]) -> pd.DataFrame:
    """Evidence per user and category: rules.weights x the <prefix><suffix> columns, missing as 0."""
    evidence = pd.DataFrame(index=features.index)
    for category, suffix in suffixes.items():
        total = np.zeros(len(features))
        for prefix, weight in rules.weights.items():
            column = f"{prefix}{suffix}"
            if column in features:
                total = total + float(weight) * features[column].fillna(0.0).to_numpy(dtype=float)
        evidence[category] = total
    return evidence


def category_mix(evidence_sums: np.ndarray) -> np.ndarray:
    """Each category's share of the summed evidence (uniform when there is none): the rules' prior."""
    total = evidence_sums.sum()
    if total > 0:
        return evidence_sums / total
    return np.full(len(evidence_sums), 1.0 / len(evidence_sums))


def fuse(
    rule_scores: np.ndarray, model_scores: np.ndarray, evidence: np.ndarray, shrink: float
) -> np.ndarray:
    """w x rules + (1 - w) x model per user, w = evidence / (evidence + shrink): evidence earns trust."""
    weight = (evidence / (evidence + shrink))[:, None]
    return weight * rule_scores + (1.0 - weight) * model_scores


def model_scores(pipeline: Any, X: pd.DataFrame, categories: list[str]) -> np.ndarray:
    """Stage-2 class probabilities x 100 in category order (a category never seen in training scores 0)."""
    proba = pipeline.predict_proba(X)
    out = np.zeros((len(X), len(categories)))
    for position, label in enumerate(pipeline.classes_):
        out[:, categories.index(label)] = 100.0 * proba[:, position]
    return out


def content_columns(columns: list[str], rules: DictConfig) -> list[str]:
    """Columns that carry content evidence (kept out of stage 2, which must work without it)."""
    prefixes = tuple(rules.exclude_prefixes)
    return [c for c in columns if c.startswith(prefixes)]


def attach_fusion(pipeline: Any, fusion: LearnedFusion) -> None:
    """Store the learned fusion on the fitted content model, so scoring fuses as the task did."""
    setattr(pipeline, FUSION_ATTRIBUTE, fusion.to_dict())


def attached_fusion(pipeline: Any) -> LearnedFusion | None:
    """The fusion learned with this content model, or None for models trained before it was learned."""
    values = getattr(pipeline, FUSION_ATTRIBUTE, None)
    return None if values is None else LearnedFusion.from_dict(values)
