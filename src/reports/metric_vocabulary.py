"""The report tables' metrics and their figure labels: one list, read from conf/report/metrics.yaml."""

from __future__ import annotations

from functools import cache

from omegaconf import OmegaConf

from src.paths import CONF_DIR

METRICS_FILE = CONF_DIR / "report" / "metrics.yaml"


@cache
def _vocabulary() -> dict:
    """conf/report/metrics.yaml, read once."""
    return OmegaConf.to_container(OmegaConf.load(METRICS_FILE), resolve=True)


@cache
def metric_labels() -> dict[str, str]:
    """metric -> the label figures give it, in the tables' column order (the name when no label is set)."""
    found = _vocabulary()["table_metrics"]
    return {str(metric): str(label or metric) for metric, label in found.items()}


def table_metrics() -> tuple[str, ...]:
    """The test metrics the report tables show, in column order."""
    return tuple(metric_labels())


def evaluation_metrics() -> tuple[str, ...]:
    """Run-level figures on an evaluation set of the run's own (the spam challenge set), in column order."""
    return tuple(str(metric) for metric in _vocabulary().get("evaluation_metrics") or [])


def evaluation_note() -> str:
    """What a page says under its comparison table when it shows an evaluation metric."""
    return str(_vocabulary().get("evaluation_note") or "")
