"""Every profile column of one chunk but RFM: channel tiers, content preference, occupation, churn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.errors import ConfigError
from src.features.behaviour import ID
from src.features.tiers import grade
from src.models.pyfunc import proba_column
from src.scoring.champions import Champion
from src.scoring.preference import content_scores
from src.scoring.settings import Settings

# Event counts of the features: all 0 means the subscriber had no event in the window.
EVENT_COUNTS = (
    "n_calls",
    "n_sms_in",
    "n_sms_out",
    "n_data_sessions",
    "n_web_visits",
    "n_sp_orders",
    "n_contacts",
)


def score_chunk(
    features: pd.DataFrame, champions: dict[str, Champion], settings: Settings, prior: np.ndarray
) -> pd.DataFrame:
    """Profile columns (all but RFM) of one chunk; `prior` is the population's content mix."""
    out = pd.DataFrame({ID: features[ID].to_numpy()})
    present = [c for c in EVENT_COUNTS if c in features]
    out["no_events"] = features[present].sum(axis=1).to_numpy() == 0

    channel = champions["channel"].predict(features)
    tiers = settings.tiers
    for name in champions["channel"].classes():
        p = channel[proba_column(name)].to_numpy(dtype=float)
        out[f"p_{name}"] = p
        out[f"tier_{name}"] = grade(p, tiers["boundaries"], tiers["labels"])

    fused = content_scores(features, champions["content"], settings, prior)
    for position, suffix in enumerate(settings.suffixes.values()):
        out[f"content_{suffix}"] = fused[:, position]
    order = np.argsort(-fused, axis=1, kind="stable")
    names = np.asarray(list(settings.suffixes), dtype=object)
    for rank in range(3):
        out[f"content_top{rank + 1}"] = names[order[:, rank]]

    occupation = champions["occupation"].predict(features)
    classes = champions["occupation"].classes()
    proba = occupation[[proba_column(c) for c in classes]].to_numpy(dtype=float)
    chosen = pd.Index(classes).get_indexer(occupation["prediction"].astype(str))
    out["occupation"] = occupation["prediction"].astype(str).to_numpy()
    out["occupation_proba"] = np.take_along_axis(proba, chosen[:, None], axis=1)[:, 0]

    churn = champions["churn"].predict(features)
    column = proba_column(settings.churn_class)
    if column not in churn:
        raise ConfigError(
            f"{champions['churn'].uri} has no class '{settings.churn_class}' "
            f"(classes {champions['churn'].classes()}); set churn_class"
        )
    out["churn_proba"] = churn[column].to_numpy(dtype=float)
    bands = settings.churn_bands
    out["churn_risk"] = grade(out["churn_proba"], bands["boundaries"], bands["labels"])
    return out
