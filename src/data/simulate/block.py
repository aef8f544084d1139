"""Generate every table of one user block, and of a chunk of consecutive blocks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from src.data.simulate.bills import bills_table
from src.data.simulate.contacts import contacts_table
from src.data.simulate.corpora import Corpora
from src.data.simulate.events import calls_table, data_table, hour_cdf, sms_table, web_table
from src.data.simulate.labels import labels_table
from src.data.simulate.mess import add_mess
from src.data.simulate.params import Params
from src.data.simulate.population import Population, draw_population, subscribers_table
from src.data.simulate.posterior import content_evidence_hits, observed_label_posterior, occupation_posterior
from src.data.simulate.services import sp_orders_table
from src.data.simulate.streams import block_streams
from src.data.simulate.window import window_stats
from src.data.simulate.window_ceiling import window_ceilings
from src.ranking import spearman_rows, top_hits

MESSY_TABLES: tuple[str, ...] = ("calls", "sms", "data_sessions", "web_visits")


def clean_block(
    p: Params, corpora: Corpora, block: int
) -> tuple[Population, dict[str, pa.Table], dict[str, Any], dict[str, np.random.Generator]]:
    """Users of block `block` (users block*size+1 ...) and their event tables before any mess.

    Also returns the generator's by-products the labels need: web-visit category counts, the
    explicit-content flag and the contact summary (under "web_counts", "explicit", "summary"),
    and the block's random streams.
    """
    size = p.raw["block_size"]
    first = block * size
    n = min(size, p.raw["n_users"] - first)
    rng = block_streams(p.seed, block)
    pop = draw_population(p, rng["population"], first + 1, n)
    cdf = hour_cdf(p, pop)
    tables: dict[str, pa.Table] = {"subscribers": subscribers_table(p, pop, rng["population"])}
    tables["calls"] = calls_table(p, pop, cdf, rng["calls"])
    tables["sms"] = sms_table(p, pop, cdf, rng["sms"])
    tables["data_sessions"] = data_table(p, pop, cdf, rng["data_sessions"])
    tables["web_visits"], web_counts = web_table(p, pop, cdf, corpora, rng["web_visits"])
    tables["sp_orders"], explicit = sp_orders_table(p, pop, rng["sp_orders"])
    tables["channel_contacts"], summary = contacts_table(p, pop, corpora, rng["channel_contacts"])
    tables["bills"] = bills_table(p, pop, rng["bills"])
    extras = {"web_counts": web_counts, "explicit": explicit, "summary": summary}
    return pop, tables, extras, rng


def generate_block(
    p: Params, corpora: Corpora, block: int
) -> tuple[dict[str, pa.Table], dict[str, np.ndarray]]:
    """All tables of user block `block`, plus the arrays behind the ceilings."""
    pop, tables, extras, rng = clean_block(p, corpora, block)
    stats = window_stats(p, pop, tables, extras["web_counts"])
    ceilings = window_ceilings(p, pop, stats, rng["ceiling"])
    tables["labels"], truth = labels_table(
        p, pop, extras["summary"], extras["explicit"], ceilings, rng["labels"]
    )
    oracle = occupation_posterior(p, pop)
    truth["oracle"] = oracle.argmax(axis=1).astype(np.int8)
    truth["oracle_observed"] = observed_label_posterior(p, oracle).argmax(axis=1).astype(np.int8)
    mess = p.raw["mess"]
    for name in MESSY_TABLES:
        tables[name] = add_mess(
            tables[name], mess["duplicate_fraction"], mess["out_of_order_fraction"], rng["mess"]
        )
    hits = content_evidence_hits(p, pop, extras["web_counts"])
    truth.update({f"content_{k}": v for k, v in hits.items() if k.startswith("prior")})
    for name, top, mix in (
        ("bayes", ceilings.content_top, ceilings.content_mix),
        ("oracle", ceilings.content_top_oracle, ceilings.content_mix_oracle),
    ):
        ranked = top_hits(top, pop.pref)
        truth[f"content_{name}_top1"], truth[f"content_{name}_top3"] = ranked["top1"], ranked["top3"]
        truth[f"content_{name}_spearman"] = spearman_rows(mix, pop.pref).astype(np.float32)
    return tables, truth


def generate_chunk(
    p: Params, corpora: Corpora, first_block: int, n_blocks: int
) -> tuple[dict[str, pa.Table], dict[str, np.ndarray]]:
    """Concatenate consecutive blocks: content is independent of how blocks are grouped into chunks."""
    parts = [generate_block(p, corpora, b) for b in range(first_block, first_block + n_blocks)]
    tables = {name: pa.concat_tables([t[name] for t, _ in parts]) for name in parts[0][0]}
    truth = {key: np.concatenate([tr[key] for _, tr in parts]) for key in parts[0][1]}
    return tables, truth
