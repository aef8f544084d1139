"""Service-channel contacts in the history window, and the true next-period channel propensities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from src.data.simulate.corpora import Corpora
from src.data.simulate.params import CHANNELS, Params
from src.data.simulate.population import Population, _sigmoid
from src.data.warehouse import CHANNEL_CONTACTS

DAY = 86_400


@dataclass
class ContactSummary:
    """Per-user counts the labels depend on."""

    complaints: np.ndarray
    unresolved: np.ndarray
    monthly_rate: np.ndarray  # (n, 6) latent contacts per month, per channel


def channel_rates(p: Params, pop: Population) -> np.ndarray:
    """Latent monthly contact rate per user and channel (age, tenure, dissatisfaction and habit)."""
    ch = p.raw["channels"]
    age = (pop.age_raw - 35.0) / 10.0
    tenure = pop.z[:, p.idx("tenure")] - np.log(24.0)
    cols = []
    for c in CHANNELS:
        log_rate = (
            np.log(ch["base_rate"][c])
            + ch["age_slope"][c] * age
            + ch["tenure_slope"][c] * tenure
            + ch["dissat_slope"][c] * pop.dissat
            + pop.z[:, p.idx(f"habit_{c}")]
        )
        cols.append(np.exp(log_rate))
    return np.stack(cols, axis=1)


def contacts_table(
    p: Params, pop: Population, corpora: Corpora, rng: np.random.Generator
) -> tuple[pa.Table, ContactSummary]:
    """Past contacts with purpose, resolution and (hotline, web) a real demand text."""
    ch = p.raw["channels"]
    days = p.raw["days"]
    lam = channel_rates(p, pop)
    counts = rng.poisson(lam * days / 30.0)
    flat = counts.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    user, chan = cell // len(CHANNELS), cell % len(CHANNELS)
    n = len(user)
    day = rng.integers(0, days, n)
    lo, hi = ch["open_hours"]
    staffed = np.isin(chan, [CHANNELS.index(c) for c in ch["staffed"]])
    cdf = np.cumsum(p.hour_shares)
    any_hour = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), 23)
    hour = np.where(staffed, rng.integers(lo, hi, n), any_hour)
    ts = p.start_epoch + day.astype(np.int64) * DAY + hour * 3600 + rng.integers(0, 3600, n)
    c0, c1 = ch["complaint_logit"]
    complaint = rng.random(n) < _sigmoid(c0 + c1 * pop.dissat[user])
    p_tx = np.array([ch["p_transact"][c] for c in CHANNELS])[chan]
    transact = rng.random(n) < p_tx
    purpose = np.where(complaint, 2, np.where(transact, 0, 1))
    r0, r1, r2 = ch["resolved_logit"]
    resolved = rng.random(n) < _sigmoid(r0 + r1 * pop.dissat[user] + r2 * complaint)
    with_text = np.isin(chan, [CHANNELS.index(c) for c in ch["with_text"]])
    pick = rng.integers(0, len(corpora.demand), n)
    text = corpora.demand.take(pa.array(pick, mask=~with_text))
    complaints = np.bincount(user, weights=complaint, minlength=pop.n).astype(np.int64)
    unresolved = np.bincount(user, weights=~resolved, minlength=pop.n).astype(np.int64)
    table = pa.Table.from_arrays(
        [
            pa.array(pop.user_id[user]),
            pa.array(ts.astype("datetime64[s]").astype("datetime64[ms]"), type=pa.timestamp("ms")),
            pa.array(list(CHANNELS), type=pa.string()).take(pa.array(chan)),
            pa.array(ch["purposes"], type=pa.string()).take(pa.array(purpose)),
            text,
            pa.array(resolved),
        ],
        schema=CHANNEL_CONTACTS,
    )
    order = np.lexsort((chan, ts, pop.user_id[user]))
    return table.take(order), ContactSummary(complaints, unresolved, lam)


def next_channel_probability(p: Params, summary: ContactSummary) -> np.ndarray:
    """True P(uses channel c in the next period) = 1 - exp(-rate * boost(unresolved) * months)."""
    ch = p.raw["channels"]
    boost = np.array([ch["unresolved_boost"][c] for c in CHANNELS])
    months = p.raw["next_period_days"] / 30.0
    rate = summary.monthly_rate * (1.0 + np.outer(summary.unresolved, boost))
    return 1.0 - np.exp(-rate * months)
