"""What a report was made from: git state, a machine-independent config hash, data checksums of the runs."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src.identity import COMMIT_TAG, LEGACY_COMMIT_TAG
from src.reports import store

# machine-specific keys (absolute paths, store URIs) left out so the hash is the same on every checkout
MACHINE_KEYS = ("paths", "mlflow", "hydra")


def config_hash(config: DictConfig | dict[str, Any]) -> str:
    """sha256 (first 12 hex digits) of a composed config without its machine-specific keys."""
    if isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    portable = {k: v for k, v in config.items() if k not in MACHINE_KEYS}
    text = json.dumps(portable, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def run_config_hash(run_id: str) -> str:
    """config_hash of the config.yaml a run logged, or '–' if the run has none."""
    text = store.config_text(run_id)
    if text is None:
        return "–"
    return config_hash(OmegaConf.to_container(OmegaConf.create(text)) or {})


def data_checksums(run_ids: list[str]) -> pd.DataFrame:
    """file, sha256 and how many runs read it, from the runs' lineage.json (one row per digest)."""
    counts: dict[tuple[str, str], int] = {}
    for run_id in run_ids:
        found = store.lineage(run_id) or {}
        for name, digest in (found.get("data_sha256") or {}).items():
            counts[(name, digest)] = counts.get((name, digest), 0) + 1
    rows = [{"file": f, "sha256": d, "runs": n} for (f, d), n in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["file", "sha256", "runs"])


def commit_text(git: dict[str, str]) -> str:
    """'abc123def456 (dirty: false)' from tracking.git_state()."""
    return f"{git.get('git_commit', 'unknown')[:12]} (dirty: {git.get('git_dirty', 'unknown')})"


def commit_column(runs: pd.DataFrame) -> pd.Series:
    """Each run's commit: MLflow's `mlflow.source.git.commit`, else the legacy `git_commit` tag."""
    missing = pd.Series(pd.NA, index=runs.index, dtype="object")
    ours = runs.get(f"tags.{COMMIT_TAG}", missing)
    legacy = runs.get(f"tags.{LEGACY_COMMIT_TAG}", missing)
    return ours.where(ours.notna(), legacy).fillna("unknown").astype(str)


def run_commits(runs: pd.DataFrame) -> str:
    """The distinct commits (with dirty flags) that the runs were made at."""
    if runs.empty:
        return "–"
    dirty = runs.get("tags.git_dirty", pd.Series(["unknown"] * len(runs), index=runs.index))
    pairs = sorted({(c[:12], str(d)) for c, d in zip(commit_column(runs), dirty, strict=True)})
    return ", ".join(f"{c} (dirty: {d})" for c, d in pairs)
