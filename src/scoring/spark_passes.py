"""The profile's two passes with Spark: features built by the Ibis PySpark backend as one expression
and written by Spark (no feature row passes through the driver), the content rules' population prior
as one Spark aggregation, and the scores computed in parallel with `mapInPandas`
(the same `score_chunk` and RFM functions as the single-machine profile) and written as Parquet
partitioned by user block (one range of user_id per file).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from src.data.errors import DataValidationError
from src.data.layout import table_path
from src.features.backends import spark_session
from src.features.behaviour import ID, feature_families, shared_inputs
from src.features.behaviour_joined import joined_features
from src.scoring.chunk import score_chunk
from src.scoring.job import Job, timed
from src.scoring.preference import evidence_columns, population_prior
from src.scoring.rfm import read_bills, rfm_columns

log = logging.getLogger(__name__)


def spark_passes(job: Job, spark: Mapping[str, Any], schema: pa.Schema, output: Path) -> tuple[int, int]:
    """Features on Spark, scores by mapInPandas, written to folder `output`; (rows, users without events)."""
    session = spark_session(spark)
    con = ibis.pyspark.connect(session)
    spill = output.with_name(f".{output.name}.{os.getpid()}.features")
    partial = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with timed(job.timings, "features"):
            spark_features(job, con, spill)
        features = session.read.parquet(str(spill / "block-*"))
        check_feature_rows(features, job)
        with timed(job.timings, "prior"):
            prior = spark_prior(features, job)
        with timed(job.timings, "scoring"):
            scored = score_frame(features, job, schema, prior)
            scored.write.mode("overwrite").parquet(str(partial))
        from pyspark.sql import functions as F

        counts = session.read.parquet(str(partial)).agg(
            F.count("*").alias("rows"), F.sum(F.col("no_events").cast("long")).alias("no_events")
        )
        rows, no_events = counts.first()
        if int(rows) != sum(n for _, _, n in job.chunks):  # never drop a user
            raise RuntimeError(f"{rows} profile rows for {sum(n for _, _, n in job.chunks)} subscribers")
        replace_folder(partial, output)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)
    return int(rows), int(no_events or 0)


def spark_features(job: Job, con: ibis.BaseBackend, spill: Path) -> None:
    """Each block's features as one Ibis expression (one Spark job), written by Spark under `spill`.

    Blocks of `chunk_users` subscribers bound the memory Spark's joins and caches need; every block
    has the same column types, so `spill/block-*` reads as one table. The window and the trip cells
    come from every call: they are worked out once and cached for all blocks.
    """
    spec = job.settings.spec
    with shared_inputs(job.folder, spec, con) as shared:
        for number, (first, last, _) in enumerate(job.chunks):
            began = time.perf_counter()
            with feature_families(
                job.folder, spec, job.labeller, user_range=(first, last), con=con, shared=shared
            ) as steps:
                con.to_parquet(joined_features(steps), spill / f"block-{number:05d}")
            log.info(
                "features of block %d/%d (user_id %d..%d) on Spark: %.2f s",
                number + 1, len(job.chunks), first, last, time.perf_counter() - began,
            )  # fmt: skip


def check_feature_rows(features: Any, job: Job) -> None:
    """One feature row per subscriber; a user_id with several different subscriber rows is named."""
    from pyspark.sql import functions as F

    expected = sum(n for _, _, n in job.chunks)
    if features.count() == expected:
        return
    repeated = features.groupBy(ID).count().filter(F.col("count") > 1).orderBy(ID).first()
    if repeated is None:
        raise RuntimeError(f"{features.count()} feature rows for {expected} subscribers")
    raise DataValidationError(
        f"user_id {repeated[ID]} appears in several different rows",
        file=table_path(job.folder, "subscribers"),
        column=ID,
    )


def spark_prior(features: Any, job: Job) -> np.ndarray:
    """The population's content mix from one Spark sum of the evidence columns over every subscriber."""
    from pyspark.sql import functions as F

    columns = evidence_columns(pd.DataFrame(columns=features.columns), job.settings)
    sums = features.agg(*[F.sum(c).alias(c) for c in columns]).toPandas().iloc[0]
    return population_prior(sums.fillna(0), job.settings)


def score_frame(features: Any, job: Job, schema: pa.Schema, prior: np.ndarray) -> Any:
    """The profile as a Spark DataFrame: `score_chunk` plus RFM on each batch of feature rows."""
    from pyspark.sql.pandas.types import from_arrow_schema

    champions, settings = job.champions, job.settings
    folder, reference_month = job.folder, job.reference_month
    names = schema.names

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if batch.empty:
                continue
            scored = score_chunk(batch, champions, settings, prior)
            bills = read_bills(folder, int(batch[ID].min()), int(batch[ID].max()))
            rfm = rfm_columns(bills, batch[ID], settings.rfm, reference_month)
            yield scored.merge(rfm, on=ID, how="left", validate="one_to_one")[names]

    blocks = features.repartitionByRange(len(job.chunks), ID).sortWithinPartitions(ID)
    return blocks.mapInPandas(score, from_arrow_schema(schema.remove_metadata()))


def replace_folder(partial: Path, output: Path) -> None:
    """Move the finished folder `partial` to `output`, replacing what was there (a file or a folder)."""
    old = output.with_name(f".{output.name}.{os.getpid()}.old")
    if output.exists():
        os.replace(output, old)
    os.replace(partial, output)
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink(missing_ok=True)
