"""Content preference of a chunk: the rules, smoothed towards the whole population's category mix,
fused with the content champion exactly as the content task fuses them.

The population's mix is known only once every chunk's features exist (pass 1 sums the evidence
columns); with it as the rules' prior a chunk's scores equal those of the full table (exactly, for
integer counts and weights): hence two passes, and chunked output equal to unchunked output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.features.content_fusion import LearnedFusion
from src.features.content_preference import (
    attached_fusion,
    category_mix,
    fuse,
    model_scores,
    rule_scores,
    weighted_evidence,
)
from src.scoring.champions import PROBA, Champion
from src.scoring.settings import Settings


def evidence_columns(features: pd.DataFrame, settings: Settings) -> list[str]:
    """The feature columns the content rules read (<prefix><suffix> per rules.weights and category)."""
    return [
        f"{prefix}{suffix}"
        for prefix in settings.rules.weights
        for suffix in settings.suffixes.values()
        if f"{prefix}{suffix}" in features
    ]


def population_prior(totals: pd.Series, settings: Settings) -> np.ndarray:
    """The whole population's category mix, from the sums of its evidence columns (`totals`).

    The evidence is a weighted sum of the columns, so the evidence of their sums is the population's.
    """
    sums = weighted_evidence(totals.to_frame().T, settings.rules, settings.suffixes)
    return category_mix(sums.to_numpy()[0])


def population_rule_scores(
    features: pd.DataFrame, settings: Settings, totals: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """`rule_scores` of a chunk, smoothed towards the whole population's category mix (sums `totals`)."""
    scores, evidence = rule_scores(
        features, settings.rules, settings.suffixes, prior=population_prior(totals, settings)
    )
    return scores.to_numpy(), evidence.to_numpy()


def content_scores(
    features: pd.DataFrame, champion: Champion, settings: Settings, prior: np.ndarray
) -> np.ndarray:
    """0-100 scores (users x categories): rules and the champion fused with the weights learned with it.

    Champions trained before the learned fusion fall back to w = e / (e + shrink).
    """
    rules, evidence = rule_scores(features, settings.rules, settings.suffixes, prior=prior)
    model = model_scores(_Scored(champion.predict(features)), features, list(settings.suffixes))
    fusion = champion_fusion(champion)
    if fusion is not None:
        return fusion.scores(rules.to_numpy(), model, evidence.to_numpy())
    return fuse(rules.to_numpy(), model, evidence.to_numpy(), float(settings.rules.shrink))


def champion_fusion(champion: Champion) -> LearnedFusion | None:
    """The fusion the content champion was evaluated with (stored on its pipeline), if any."""
    python_model = champion.model.unwrap_python_model()
    return attached_fusion(getattr(python_model, "pipeline", None))


class _Scored:
    """A champion's pyfunc output seen as a fitted classifier (`classes_`, `predict_proba`)."""

    def __init__(self, output: pd.DataFrame) -> None:
        columns = [c for c in output.columns if c.startswith(PROBA)]
        self.classes_ = np.array([c[len(PROBA) :] for c in columns], dtype=object)
        self._proba = output[columns].to_numpy(dtype=float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The champion's probabilities (already computed for these rows)."""
        return self._proba
