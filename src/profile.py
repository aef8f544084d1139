"""Deployers' batch scoring: the unified customer profile, one row per subscriber, from the champions.

    python -m src.profile input=data/simulated/default output=outputs/profile.parquet
    python -m src.profile engine=spark input=data/simulated/default output=outputs/profile   (docs/spark.md)

The champions (conf/profile.yaml `champions`) are loaded once, by alias only. Subscribers are taken
in chunks of `chunk_users` (sorted by user_id), in two passes (src/scoring/passes.py):
1. features: `build_behaviour_features` of the chunk's user_id range (the champions' own pipeline
   and title labeller), spilled to a temporary Parquet file;
2. scores: every champion scores the chunk, the content rules are fused with the content champion,
   RFM segments come from the chunk's bills, and the chunk is appended to the output as a row group.
The content rules smooth towards the whole population's category mix, known only once every chunk's
features exist: hence two passes, and chunked output equal to unchunked output.

Output columns: user_id, no_events, p_<channel> and tier_<channel> per channel, content_<suffix>
(0-100) per category and content_top1..3, occupation and occupation_proba, churn_proba and
churn_risk, recency_months, frequency_months, monetary_mean and rfm_segment. The champions' names,
versions and run ids are in the file's key-value metadata (`profile.models`) and, with input
checksums, counts and timings, in the sidecar `<output>.json`.

Bad input is an error naming the file and column (missing folder, table or column, a column of the
wrong type, no subscribers). Extra columns are ignored and counted. A plan or gender the features do
not know is scored with every plan_<suffix> one-hot 0 (female = 0) and counted. Subscribers without
events are scored from zero counts (the features' documented defaults), flagged and counted. Every
distinct user_id of `subscribers` gets exactly one row.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver before Hydra composes)
from src.data.layout import table_path, table_sha256
from src.errors import ConfigError, ProfilingError
from src.io_atomic import atomic_output
from src.settings import ProfileSettings, check_settings

log = logging.getLogger("src.profile")

ENGINES = ("local", "spark")


def build_profile(cfg: DictConfig) -> dict[str, Any]:
    """Score every subscriber of `cfg.input` with the champions and write `cfg.output`; return the sidecar."""
    # imported here, not at the top: the scoring modules bring mlflow, sklearn and the feature backends
    # (seconds of imports), which a bad setting or `--cfg job` should not wait for
    from src.features import backends, behaviour
    from src.scoring import rfm, spark_passes
    from src.scoring import settings as scoring_settings
    from src.scoring.champions import load_champions, load_labeller
    from src.scoring.inputs import check_inputs, chunk_ranges, level_counts, pin_window, subscriber_ids
    from src.scoring.job import Job, timed
    from src.scoring.output import output_schema, sidecar_record, write_sidecar
    from src.scoring.passes import features_pass, scores_pass

    started = time.perf_counter()
    timings: dict[str, float] = {}
    folder, output = _paths(cfg)
    engine = _engine(cfg)
    settings = scoring_settings.load_settings(cfg)
    with timed(timings, "check_inputs"):
        check = check_inputs(folder)
        ids = subscriber_ids(folder)
        levels = level_counts(folder, settings)
    extras = sum(len(v) for v in check.extra_columns.values())
    if extras:
        log.warning("ignored %d extra column(s): %s", extras, check.extra_columns)
    with timed(timings, "load_champions"):
        champions = load_champions(cfg)
        labeller, labeller_record = load_labeller(cfg)
    with timed(timings, "checksums"):
        checksums = {name: table_sha256(table_path(folder, name)) for name in behaviour.INPUT_TABLES}
    with timed(timings, "window"):
        settings = dataclasses.replace(settings, spec=pin_window(folder, settings.spec))
        reference_month = rfm.rfm_reference_month(folder, settings.rfm)
    chunks = chunk_ranges(ids, settings.chunk_users)
    job = Job(folder, settings, champions, labeller, chunks, reference_month, timings)
    log.info(
        "profiling %d subscribers of %s in %d chunk(s); window ends %s; RFM as of %s",
        len(ids), folder, len(chunks), settings.spec.reference_date, reference_month,
    )  # fmt: skip

    models = {task: champion.record() for task, champion in champions.items()}
    models["titles"] = labeller_record
    output.parent.mkdir(parents=True, exist_ok=True)
    if engine == "spark":  # a folder of Parquet files, one block of user_ids each
        written, no_events = spark_passes.spark_passes(job, cfg.spark, output_schema(job, models), output)
    else:
        with tempfile.TemporaryDirectory(prefix=".profile-", dir=output.parent) as spill:
            spilled, totals = features_pass(job, Path(spill), con=backends.configured_backend(cfg))
            with atomic_output(output) as partial:
                written, no_events = scores_pass(
                    job, spilled, totals, output_schema(job, models), partial, threads=int(cfg.n_jobs)
                )
    if written != len(ids):  # never drop a user
        raise RuntimeError(f"{written} profile rows for {len(ids)} subscribers")

    counts = {
        "users_scored": written,
        "users_no_events": no_events,
        "unknown_plan_levels": levels["plan"],
        "unknown_gender_levels": levels["gender"],
        "users_unknown_plan": sum(levels["plan"].values()),
        "users_unknown_gender": sum(levels["gender"].values()),
        "extra_columns_ignored": extras,
    }
    timings["total"] = time.perf_counter() - started
    sidecar = sidecar_record(job, output, models, check, checksums, counts)
    write_sidecar(output, sidecar)
    for step, seconds in timings.items():
        log.info("time %-15s %8.2f s", step, seconds)
    log.info(
        "profiled %d subscribers (%d without events, %d with an unknown plan, %d with an unknown gender, "
        "%d extra columns ignored) -> %s",
        written, no_events, counts["users_unknown_plan"], counts["users_unknown_gender"], extras, output,
    )  # fmt: skip
    return sidecar


def _paths(cfg: DictConfig) -> tuple[Path, Path]:
    """input and output as absolute paths (relative ones from the working directory)."""
    if cfg.get("input") in (None, ""):
        raise ConfigError("set input=<folder with the warehouse tables>, e.g. input=data/simulated/default")
    if cfg.get("output") in (None, ""):
        raise ConfigError("set output=<Parquet file to write>, e.g. output=outputs/profile.parquet")
    return Path(str(cfg.input)).absolute(), Path(str(cfg.output)).absolute()


def _engine(cfg: DictConfig) -> str:
    """`engine`: local (DuckDB and pandas in this process) or spark (conf/spark); Spark must be runnable."""
    from src.features.backends import check_backend, require_spark  # ibis: imported once a profile is built

    engine = str(cfg.get("engine") or "local")
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {list(ENGINES)}, got '{engine}'")
    if engine == "spark":
        require_spark()
    check_backend(str(cfg.features.get("backend") or "duckdb"))
    return engine


@hydra.main(version_base="1.3", config_path="../conf", config_name="profile")
def main(cfg: DictConfig) -> None:
    """Write the profile, print where, and turn user-fixable errors into one line."""
    try:
        check_settings(cfg, ProfileSettings)  # every bad setting is one line before any work starts
        sidecar = build_profile(cfg)
    except ProfilingError as err:
        raise SystemExit(f"error: {err}") from None
    counts = sidecar["counts"]
    print(
        f"{counts['users_scored']} subscribers profiled ({counts['users_no_events']} without events) "
        f"-> {sidecar['output']}"
    )


if __name__ == "__main__":
    main()
