"""The MLflow pyfunc that deployers load: raw rows in, label and class probabilities out."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import INVALID_PARAMETER_VALUE, MlflowException

from src.features.contract import InputContract, InputContractError, label_text
from src.models.single_pass import labels_and_proba
from src.models.text_output import text_prediction_frame


def proba_column(label: Any) -> str:
    """Output column holding the probability of one class."""
    return f"proba_{label}"


class ProfilingModel(mlflow.pyfunc.PythonModel):
    """Wraps a fitted scikit-learn pipeline (preprocessing included).

    `predict` returns one row per input row: `prediction` and, for probabilistic
    models, `proba_<class>` for every class, classes named as the data config names them.
    With a tabular input contract, rows are checked and typed by the declared column kinds first.
    Text models (`no_text_label` set) also return the `no_text` and `truncated` flags.
    """

    def __init__(
        self,
        pipeline: Any,
        task: str,
        contract: InputContract | None = None,
        no_text_label: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.task = task
        self.contract = contract
        self.no_text_label = no_text_label
        self.classes = [label_text(c) for c in pipeline.classes_]

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Score raw rows; rows that break the input contract are refused with one clear message."""
        no_text_label = getattr(self, "no_text_label", None)  # models pickled before text flags existed
        if no_text_label is not None:
            return text_prediction_frame(self.pipeline, model_input, no_text_label)
        contract = getattr(self, "contract", None)  # models pickled before the contract existed
        frame = model_input
        if contract is not None:
            try:
                frame = contract.coerce(model_input)
            except InputContractError as err:
                raise MlflowException(f"error: {err}", error_code=INVALID_PARAMETER_VALUE) from None
        names = [contract.label(c) for c in self.classes] if contract is not None else self.classes
        return predict_frame(self.pipeline, names, frame)


def predict_frame(pipeline: Any, classes: list, frame: pd.DataFrame) -> pd.DataFrame:
    """`prediction` plus `proba_<class>` columns of a fitted pipeline; no rows in, no rows out."""
    probabilistic = hasattr(pipeline, "predict_proba")  # False when the pipeline's last step has none
    columns = ["prediction"] + ([proba_column(label) for label in classes] if probabilistic else [])
    if len(frame) == 0:
        return pd.DataFrame(
            {c: pd.Series(dtype="object" if c == "prediction" else "float64") for c in columns}
        )
    raw, proba = labels_and_proba(pipeline, frame)
    own = [label_text(c) for c in pipeline.classes_]
    if own != list(classes):  # the data config renames the labels (`label_names`)
        named = dict(zip(own, classes, strict=True))
        raw = np.asarray([named.get(label_text(v), label_text(v)) for v in raw], dtype=object)
    out = pd.DataFrame({"prediction": raw})
    if proba is not None:
        for position, label in enumerate(classes):
            out[proba_column(label)] = proba[:, position]
    return out
