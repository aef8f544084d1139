"""What a deployer gets from a text model: label, probabilities and the `no_text` / `truncated` flags.

A text with no letter (missing, empty, whitespace, digits or symbols only) gets the task's
`no_text_label` (conf/task/*.yaml `task.no_text_label`), `no_text=True` and no probabilities,
never a confident class. A text longer than the model's `max_chars` is scored on its first
`max_chars` characters (the training cut) and flagged `truncated=True`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from src.features.text import TEXT_COLUMN, as_text_list, no_text_mask, truncated_mask
from src.models.single_pass import labels_and_proba

NO_TEXT_LABEL = "no_text"


def model_max_chars(pipeline: Any) -> int | None:
    """The `max_chars` a fitted text pipeline (or keyword matcher) cuts texts to, if any."""
    params = pipeline.get_params(deep=True) if hasattr(pipeline, "get_params") else {}
    limits = [int(v) for k, v in params.items() if k.split("__")[-1] == "max_chars" and v is not None]
    return min(limits) if limits else None


def text_prediction_frame(
    pipeline: Any,
    frame: pd.DataFrame,
    no_text_label: str = NO_TEXT_LABEL,
    column: str = TEXT_COLUMN,
) -> pd.DataFrame:
    """`prediction`, `proba_<class>` (NaN for no-text rows), `no_text` and `truncated` per input row."""
    texts = as_text_list(frame, column)
    no_text = no_text_mask(texts)
    truncated = truncated_mask(texts, model_max_chars(pipeline))
    classes = list(pipeline.classes_)
    prediction = np.full(len(texts), no_text_label, dtype=object)
    proba = np.full((len(texts), len(classes)), np.nan)
    scored = np.flatnonzero(~no_text)
    if len(scored):
        rows = pd.DataFrame({column: [texts[i] for i in scored]})
        labels, probabilities = labels_and_proba(pipeline, rows)  # the texts are tokenised once
        prediction[scored] = np.asarray(labels, dtype=object)
        if probabilities is not None:
            proba[scored] = probabilities
    out = pd.DataFrame({"prediction": prediction})
    if hasattr(pipeline, "predict_proba"):
        for position, label in enumerate(classes):
            out[f"proba_{label}"] = proba[:, position]
    out["no_text"] = no_text
    out["truncated"] = truncated
    return out
