"""Run the simulator: chunks of user blocks, optionally in worker processes, streamed to Parquet."""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from src.data.simulate.block import generate_chunk
from src.data.simulate.ceilings import compute_ceilings
from src.data.simulate.corpora import Corpora, load_corpora
from src.data.simulate.params import Params, build_params
from src.data.simulate.writer import ParquetTables, file_checksums, file_sizes, write_json
from src.io_atomic import atomic_folder

log = logging.getLogger(__name__)

_STATE: dict[str, Any] = {}


def _init_worker(p: Params, corpora: Corpora) -> None:
    """Keep parameters and corpora in the worker process."""
    _STATE["p"], _STATE["corpora"] = p, corpora


def _work(first_block: int, n_blocks: int) -> tuple[dict, dict]:
    """Generate one chunk inside a worker."""
    return generate_chunk(_STATE["p"], _STATE["corpora"], first_block, n_blocks)


def chunk_plan(p: Params) -> list[tuple[int, int]]:
    """(first block, number of blocks) per chunk."""
    size, n = p.raw["block_size"], p.raw["n_users"]
    n_blocks = -(-n // size)
    per_chunk = p.raw["chunk_size"] // size
    return [(b, min(per_chunk, n_blocks - b)) for b in range(0, n_blocks, per_chunk)]


def simulate(cfg: DictConfig) -> dict[str, Any]:
    """Generate every table of the configured population; returns the manifest."""
    t0 = time.perf_counter()
    p = build_params(cfg.simulate, cfg.seed, list(cfg.content.categories))
    corpora = load_corpora(
        p.raw["corpora"]["demand_csv"],
        list(p.raw["corpora"]["titles"]),
        dict(cfg.content.toutiao_to_category),
        list(cfg.content.categories),
    )
    # built beside the target and swapped in once the manifest (written last) is there: a failed or
    # killed run leaves the previous population as it was
    with atomic_folder(Path(cfg.paths.simulated_dir) / p.raw["name"]) as out_dir:
        return _generate(cfg, p, corpora, out_dir, t0)


def _generate(cfg: DictConfig, p: Params, corpora: Corpora, out_dir: Path, t0: float) -> dict[str, Any]:
    """Write every table, the ceilings and, last, the manifest into `out_dir`."""
    plan = chunk_plan(p)
    writers = ParquetTables(
        out_dir, p.raw["row_group_size"], p.raw["compression"], bool(p.raw.get("partitioned", False))
    )
    truth_parts: list[dict[str, np.ndarray]] = []
    workers = max(1, int(p.raw["workers"]))
    log.info(
        "simulating %d users x %d days in %d chunks (%d workers) -> %s",
        p.raw["n_users"],
        p.raw["days"],
        len(plan),
        workers,
        out_dir,
    )
    progress = tqdm(total=p.raw["n_users"], unit="user", desc="simulate", mininterval=1.0)
    try:
        for tables, truth in _chunks(p, corpora, plan, workers):
            writers.write(tables)
            truth_parts.append(truth)
            progress.update(tables["subscribers"].num_rows)
    finally:
        progress.close()
        writers.close()
    t_gen = time.perf_counter() - t0
    truth = {k: np.concatenate([part[k] for part in truth_parts]) for k in truth_parts[0]}
    ceilings = compute_ceilings(p, truth)
    write_json(out_dir / "ceilings.json", ceilings)
    events = sum(v for k, v in writers.rows.items() if k not in ("subscribers", "labels", "bills"))
    manifest = {
        "generator": "src.data.simulate",
        "generator_version": p.raw["version"],
        "seed": p.seed,
        "n_users": p.raw["n_users"],
        "days": p.raw["days"],
        "row_counts": writers.rows,
        "events": events,
        "files_sha256": file_checksums(out_dir),
        "files_bytes": file_sizes(out_dir),
        "corpora_sha256": corpora.sha256,
        "config": {"simulate": p.raw, "content": OmegaConf.to_container(cfg.content, resolve=True)},
        "ceilings_file": "ceilings.json",
    }
    write_json(out_dir / "manifest.json", manifest)
    log.info(
        "wrote %d events for %d users in %.1f s (%.0f users/s, %.0f events/s)",
        events,
        p.raw["n_users"],
        t_gen,
        p.raw["n_users"] / t_gen,
        events / t_gen,
    )
    log.info(
        "ceilings: occupation acc %.3f, churn AUC %.3f, channel mean AUC %.3f",
        ceilings["occupation"]["accuracy"],
        ceilings["churn"]["roc_auc"],
        ceilings["channel"]["mean_roc_auc"],
    )
    return manifest


def _chunks(p: Params, corpora: Corpora, plan: list[tuple[int, int]], workers: int):
    """Yield chunks in order; with workers, at most `workers` chunks are in flight (bounded memory)."""
    if workers == 1:
        for first, count in plan:
            yield generate_chunk(p, corpora, first, count)
        return
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(p, corpora)
    ) as pool:
        pending: deque[Future] = deque()
        todo = iter(plan)
        for first, count in todo:
            pending.append(pool.submit(_work, first, count))
            if len(pending) >= workers:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_work, *nxt))
            yield result
