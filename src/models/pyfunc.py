"""The MLflow pyfunc that deployers load: raw rows in, label and class probabilities out."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd


def proba_column(label: Any) -> str:
    """Output column holding the probability of one class."""
    return f"proba_{label}"


class ProfilingModel(mlflow.pyfunc.PythonModel):
    """Wraps a fitted scikit-learn pipeline (preprocessing included).

    `predict` returns one row per input row: `prediction` and, for probabilistic
    models, `proba_<class>` for every class.
    """

    def __init__(self, pipeline: Any, task: str) -> None:
        self.pipeline = pipeline
        self.task = task
        self.classes = [c.item() if hasattr(c, "item") else c for c in pipeline.classes_]

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Score raw rows."""
        return predict_frame(self.pipeline, self.classes, model_input)


def predict_frame(pipeline: Any, classes: list, frame: pd.DataFrame) -> pd.DataFrame:
    """`prediction` plus `proba_<class>` columns for a fitted pipeline."""
    out = pd.DataFrame({"prediction": np.asarray(pipeline.predict(frame))}, index=frame.index)
    if hasattr(pipeline, "predict_proba"):
        proba = pipeline.predict_proba(frame)
        for position, label in enumerate(classes):
            out[proba_column(label)] = proba[:, position]
    return out.reset_index(drop=True)
