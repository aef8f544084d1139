"""What the profile run writes: the Parquet schema, the file itself atomically, and the JSON sidecar.

The champions' names, versions and run ids are in the file's key-value metadata (`profile.models`)
and, with input checksums, counts, settings, timings and lineage, in the sidecar `<output>.json`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from omegaconf import OmegaConf

from src import tracking
from src.features.behaviour import ID, INPUT_TABLES
from src.scoring.inputs import InputCheck
from src.scoring.job import Job

METADATA_KEY = b"profile.models"


def output_schema(job: Job, models: dict[str, Any]) -> pa.Schema:
    """The profile's columns, in order, with the models' versions in the key-value metadata."""
    fields = [pa.field(ID, pa.int64()), pa.field("no_events", pa.bool_())]
    for name in job.champions["channel"].classes():
        fields += [pa.field(f"p_{name}", pa.float64()), pa.field(f"tier_{name}", pa.string())]
    fields += [pa.field(f"content_{suffix}", pa.float64()) for suffix in job.settings.suffixes.values()]
    fields += [pa.field(f"content_top{rank}", pa.string()) for rank in (1, 2, 3)]
    fields += [
        pa.field("occupation", pa.string()),
        pa.field("occupation_proba", pa.float64()),
        pa.field("churn_proba", pa.float64()),
        pa.field("churn_risk", pa.string()),
        pa.field("recency_months", pa.int64()),
        pa.field("frequency_months", pa.int64()),
        pa.field("monetary_mean", pa.float64()),
        pa.field("rfm_segment", pa.string()),
    ]
    return pa.schema(fields, metadata={METADATA_KEY: json.dumps(models, ensure_ascii=False).encode()})


def sidecar_record(
    job: Job,
    output: Path,
    models: dict[str, Any],
    check: InputCheck,
    checksums: dict[str, str],
    counts: dict[str, Any],
) -> dict[str, Any]:
    """The run's record: models, input checksums, counts, settings, timings and lineage."""
    settings = job.settings
    tables = {
        name: {
            "sha256": checksums[name],
            "rows": check.rows[name],
            "extra_columns": check.extra_columns[name],
        }
        for name in INPUT_TABLES
    }
    return {
        "output": str(output),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "models": models,
        "input": {"folder": str(job.folder), "tables": tables},
        "counts": counts,
        "settings": {
            "chunk_users": settings.chunk_users,
            "chunks": len(job.chunks),
            "window_end": settings.spec.reference_date,
            "window_days": settings.spec.window_days,
            "rfm_reference_month": job.reference_month,
            "tiers": settings.tiers,
            "churn_bands": settings.churn_bands,
            "content_rules": OmegaConf.to_container(settings.rules, resolve=True),
        },
        "timings_s": {step: round(seconds, 3) for step, seconds in job.timings.items()},
        "lineage": _lineage(),
    }


def sidecar_path(output: Path) -> Path:
    """`<output>.json`: versions, input checksums, counts and timings of the profile run."""
    return output.with_name(output.name + ".json")


def write_sidecar(output: Path, record: dict[str, Any]) -> None:
    """Write the run record as `<output>.json`."""
    sidecar_path(output).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")


def _lineage() -> dict[str, Any]:
    return {**tracking.git_state(), "packages": tracking.package_versions()}
