"""The two passes over the chunks: features spilled to Parquet, then scores appended to the output.

The content rules smooth towards the whole population's category mix, known only once every
chunk's features exist: pass 1 sums the evidence columns, pass 2 scores with the population's mix.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from src.data.errors import DataValidationError
from src.features.behaviour import ID, build_behaviour_features, population_inputs
from src.scoring.champions import predict_on_threads
from src.scoring.chunk import score_chunk
from src.scoring.job import Job, timed
from src.scoring.preference import evidence_columns, population_prior
from src.scoring.rfm import read_bills, rfm_columns

log = logging.getLogger(__name__)


def features_pass(job: Job, spill: Path, con: ibis.BaseBackend | None = None) -> tuple[list[Path], pd.Series]:
    """Pass 1: each chunk's features to a Parquet file in `spill`; the population's content evidence sums.

    `con` is the Ibis backend the features run on (None: a private DuckDB per chunk, so its memory goes
    with the chunk). The trip cells come from every subscriber's calls: they are worked out once, not
    once per chunk (`population_inputs`).
    """
    shared = population_inputs(job.folder, job.settings.spec)
    spilled: list[Path] = []
    totals: pd.Series | None = None
    chunks = job.chunks
    for number, (first, last, expected) in enumerate(
        tqdm(chunks, desc="profile features", unit="chunk", disable=None)
    ):
        began = time.perf_counter()
        with timed(job.timings, "features"):
            features = build_behaviour_features(
                job.folder, job.settings.spec, job.labeller, user_range=(first, last), con=con, shared=shared
            )
        if len(features) != expected:  # never lose a subscriber silently
            raise DataValidationError(
                f"user_id {first}..{last}: {expected} subscribers but {len(features)} feature rows",
                file=job.folder / "subscribers.parquet",
                column=ID,
            )
        path = spill / f"chunk-{number:05d}.parquet"
        features.to_parquet(path, index=False)
        spilled.append(path)
        chunk_totals = features[evidence_columns(features, job.settings)].sum()
        totals = chunk_totals if totals is None else totals + chunk_totals
        log.info(
            "features of chunk %d/%d (user_id %d..%d, %d users): %.2f s",
            number + 1, len(chunks), first, last, expected, time.perf_counter() - began,
        )  # fmt: skip
    assert totals is not None  # check_inputs guarantees at least one subscriber
    return spilled, totals


def scores_pass(
    job: Job, spilled: list[Path], totals: pd.Series, schema: pa.Schema, target: Path, threads: int = 1
) -> tuple[int, int]:
    """Pass 2: score each spilled chunk, add RFM, append it to `target`; (rows, users without events).

    The champions' LightGBM models predict on `threads` threads (one process scores every chunk;
    on Spark each task keeps one thread, `spark_passes`).
    """
    predict_on_threads(job.champions, threads)
    written = no_events = 0
    prior = population_prior(totals, job.settings)
    with pq.ParquetWriter(target, schema) as writer:
        for number, (path, (first, last, _)) in enumerate(
            tqdm(
                list(zip(spilled, job.chunks, strict=True)), desc="profile scores", unit="chunk", disable=None
            )
        ):
            began = time.perf_counter()
            features = pd.read_parquet(path)
            with timed(job.timings, "scoring"):
                scored = score_chunk(features, job.champions, job.settings, prior)
            with timed(job.timings, "rfm"):
                bills = read_bills(job.folder, first, last)
                try:
                    rfm = rfm_columns(bills, features[ID], job.settings.rfm, job.reference_month)
                except DataValidationError as err:  # rfm_segments knows the column, not the file
                    raise DataValidationError(str(err), file=job.folder / "bills.parquet") from None
                scored = scored.merge(rfm, on=ID, how="left", validate="one_to_one")
            with timed(job.timings, "write"):
                writer.write_table(pa.Table.from_pandas(scored, schema=schema, preserve_index=False))
            written += len(scored)
            no_events += int(scored["no_events"].sum())
            log.info(
                "scores of chunk %d/%d: %.2f s", number + 1, len(job.chunks), time.perf_counter() - began
            )
    return written, no_events
