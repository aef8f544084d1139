"""Scores of a spam model on the generated challenge set (src.data.sms_challenge); evaluation only.

`challenge_false_positive_rate` is the share of legitimate messages called spam,
`challenge_spam_recall` the share of spam caught; each with a seeded percentile bootstrap
interval over messages. Per-family rates show which kind of message fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from src.data.sms_challenge import CHALLENGE_SEED, PER_TEMPLATE, challenge_frame
from src.models.bootstrap import mean_interval


def score_challenge(
    model: Any,
    positive_label: Any,
    seed: int = CHALLENGE_SEED,
    per_template: int = PER_TEMPLATE,
    n_boot: int = 1000,
    level: float = 0.95,
) -> tuple[dict[str, float], pd.DataFrame]:
    """(metrics, per-family table) of a fitted text classifier on the challenge set."""
    frame = challenge_frame(seed, per_template)
    called_spam = np.asarray(model.predict(frame[["text"]])) == positive_label
    is_spam = frame["label"].to_numpy() == "spam"
    flagged_ham = called_spam[~is_spam].astype(float)
    caught_spam = called_spam[is_spam].astype(float)
    metrics = {
        "challenge_n_legitimate": float(len(flagged_ham)),
        "challenge_n_spam": float(len(caught_spam)),
        "challenge_false_positive_rate": float(flagged_ham.mean()),
        "challenge_spam_recall": float(caught_spam.mean()),
    }
    for name, values in (("false_positive_rate", flagged_ham), ("spam_recall", caught_spam)):
        low, high = mean_interval(values, n_boot, level, seed)
        metrics[f"challenge_{name}_lo"], metrics[f"challenge_{name}_hi"] = float(low), float(high)
    table = (
        frame.assign(called_spam=called_spam)
        .groupby(["label", "family"], sort=True)
        .agg(n=("text", "size"), called_spam=("called_spam", "mean"))
        .reset_index()
    )
    return metrics, table
