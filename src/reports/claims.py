"""The study's published figures (conf/report/claims.yaml) and the verdict of our runs on each."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from src.paths import CONF_DIR

CLAIMS_FILE = CONF_DIR / "report" / "claims.yaml"

BEATEN, REPRODUCED, NOT_REACHED, NO_RUN, NO_INTERVAL = (
    "beaten",
    "reproduced",
    "not reached",
    "no run yet",
    "undecided (no interval)",
)
VERDICT_RULE = (
    "beaten if the lower bound of our 95% interval is above the study's figure, not reached if the upper "
    "bound is below it, reproduced otherwise (the study's figure lies inside our interval)"
)


@dataclass(frozen=True)
class Claim:
    """One published figure: the study's value of a metric for a task and model."""

    task: str
    model: str
    metric: str
    value: float
    source: str


def load_claims(path: Path = CLAIMS_FILE) -> list[Claim]:
    """Every claim of the claims file (an empty list if the file is absent)."""
    if not Path(path).is_file():
        return []
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=True) or {}
    return [
        Claim(str(c["task"]), str(c["model"]), str(c["metric"]), float(c["value"]), str(c.get("source", "")))
        for c in data.get("claims") or []
    ]


def verdict(claim: float, low: float | None, high: float | None) -> str:
    """beaten / not reached / reproduced from our interval [low, high] around the claim."""
    if low is None or high is None or _missing(low) or _missing(high):
        return NO_INTERVAL
    if low > claim:
        return BEATEN
    if high < claim:
        return NOT_REACHED
    return REPRODUCED


def _missing(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)
