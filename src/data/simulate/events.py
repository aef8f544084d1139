"""Event tables of one user block: calls, SMS, data sessions, web visits (vectorised NumPy)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from src.data.simulate.corpora import Corpora
from src.data.simulate.params import ROAMING_TYPES, Params
from src.data.simulate.population import Population, _sigmoid
from src.data.simulate.streams import hash_pair, hash_unit
from src.data.warehouse import CALLS, DATA_SESSIONS, SMS, WEB_VISITS

DAY = 86_400
_DIRECTIONS = pa.array(["out", "in"], type=pa.string())
_ROAMING = pa.array(list(ROAMING_TYPES), type=pa.string())


def weekend_days(p: Params) -> np.ndarray:
    """Boolean per window day: Saturday or Sunday."""
    first = (p.start_epoch // DAY + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    return ((first + np.arange(p.raw["days"])) % 7) >= 5


def hour_cdf(p: Params, pop: Population) -> np.ndarray:
    """Per-user cumulative hour-of-day distribution, shape (n, 2, 24): [weekday, weekend]."""
    names = ("rhythm_early", "rhythm_work", "rhythm_evening", "rhythm_night")
    bumps = pop.z[:, [p.idx(n) for n in names]]  # (n, 4)
    masks = p.rhythm_masks.astype(float)
    weekday = p.hour_shares * np.exp(bumps @ masks)
    weekend_masks = masks.copy()
    weekend_masks[1] = 0.0  # the office bump is a weekday habit
    weekend = p.hour_shares * np.exp(bumps @ weekend_masks)
    w = np.stack([weekday, weekend], axis=1)
    c = np.cumsum(w, axis=2)
    return c / c[:, :, -1:]


def day_rates(p: Params, pop: Population, base: float, latent: str, fraction: float) -> np.ndarray:
    """Expected recorded events per user and day, shape (n, days): weekend ratio and usage decline applied."""
    days = p.raw["days"]
    rate = base * np.exp(pop.z[:, p.idx(latent)]) * fraction
    weekend = weekend_days(p)
    ratio = np.exp(pop.z[:, p.idx("weekend_ratio")])
    trend = 1.0 - np.outer(pop.decline, (np.arange(days) + 0.5) / days)
    return rate[:, None] * np.where(weekend[None, :], ratio[:, None], 1.0) * trend


def draw_times(
    p: Params, rates: np.ndarray, cdf: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson counts per user-day, then a timestamp for each event: (user index, day, epoch seconds)."""
    counts = rng.poisson(rates)
    n, days = counts.shape
    flat = counts.ravel()
    cell = np.repeat(np.arange(n * days), flat)
    user, day = cell // days, cell % days
    weekend = weekend_days(p)[day].astype(np.intp)
    u = rng.random(len(user))
    hour = (cdf[user, weekend, :] < u[:, None]).sum(axis=1)
    hour = np.minimum(hour, 23)
    secs = hour * 3600 + rng.integers(0, 3600, len(user))
    return user, day, p.start_epoch + day.astype(np.int64) * DAY + secs


def day_state(p: Params, pop: Population, user: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Where the user is on a day (index into ROAMING_TYPES), a fixed hash of (user, day)."""
    p_in = _sigmoid(pop.z[user, p.idx("trip_inprov")])
    p_inter = _sigmoid(pop.z[user, p.idx("trip_interprov")])
    intl = p.raw["rates"]["intl_share_of_interprov"]
    u = hash_unit(pop.user_id[user], day, salt=11)
    state = np.zeros(len(user), dtype=np.int64)
    state[u < p_in + p_inter] = 2
    state[u < p_in + p_inter * intl] = 3
    state[u < p_in] = 1
    return state


def cells(
    p: Params, pop: Population, user: np.ndarray, day: np.ndarray, state: np.ndarray, rng
) -> np.ndarray:
    """Serving cell per event: home-province cells near home, or a trip cell on roaming days."""
    net = p.raw["network"]
    n_cells_u = np.maximum(1, np.round(np.exp(pop.z[user, p.idx("n_cells")]))).astype(np.int64)
    rank = np.floor(n_cells_u * rng.random(len(user)) ** net["visit_gamma"]).astype(np.int64)
    width = 2 * net["cell_radius"] + 1
    offset = (hash_pair(pop.user_id[user], rank, salt=21) % np.uint64(width)).astype(np.int64) - net[
        "cell_radius"
    ]
    offset[rank == 0] = 0
    local = (pop.home_cell[user] + offset) % net["n_cells"]
    trip_rank = np.floor(3 * rng.random(len(user)) ** net["visit_gamma"]).astype(np.int64)
    trip = net["n_cells"] + (
        hash_pair(pop.user_id[user], day * 8 + trip_rank, salt=22) % np.uint64(net["n_roam_cells"])
    ).astype(np.int64)
    return np.where(state == 0, local, trip)


def peers(
    p: Params, pop: Population, user: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Hashed peer number and whether it is long distance, for each event."""
    n_peers = np.maximum(1, np.round(np.exp(pop.z[user, p.idx("n_peers")]))).astype(np.int64)
    rank = np.floor(n_peers * rng.random(len(user)) ** p.raw["network"]["peer_gamma"]).astype(np.int64)
    peer_id = (hash_pair(pop.user_id[user], rank, salt=31) >> np.uint64(1)).astype(np.int64)
    remote = hash_unit(pop.user_id[user], rank, salt=32) < _sigmoid(pop.z[user, p.idx("remote_share")])
    return peer_id, remote


def _ts(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as an Arrow timestamp[s] array."""
    return pa.array(seconds.astype("datetime64[s]").astype("datetime64[ms]"), type=pa.timestamp("ms"))


def _sorted(table: pa.Table, ts_col: str) -> pa.Table:
    """Stable sort by user and time."""
    return table.take(np.lexsort((table[ts_col].to_numpy(), table["user_id"].to_numpy())))


def calls_table(p: Params, pop: Population, cdf: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """Sampled call records with duration, cell, peer, direction and roaming type."""
    r = p.raw["rates"]
    rates = day_rates(p, pop, r["calls_per_day"], "call_rate", p.raw["record_fraction"]["calls"])
    user, day, ts = draw_times(p, rates, cdf, rng)
    state = day_state(p, pop, user, day)
    cell = cells(p, pop, user, day, state, rng)
    peer_id, remote = peers(p, pop, user, rng)
    out = rng.random(len(user)) < _sigmoid(pop.z[user, p.idx("out_share")])
    log_med = pop.z[user, p.idx("dur_median")]
    dur = np.exp(log_med + r["call_duration_sigma"] * rng.standard_normal(len(user)))
    dur = np.clip(np.round(dur), 1, r["call_duration_cap_s"]).astype(np.int32)
    cell_missing = rng.random(len(user)) < p.raw["mess"]["missing"]["calls_cell_id"]
    table = pa.Table.from_arrays(
        [
            pa.array(pop.user_id[user]),
            _ts(ts),
            pa.array(dur),
            pa.array(cell, mask=cell_missing),
            pa.array(peer_id),
            _DIRECTIONS.take(pa.array((~out).astype(np.int8))),
            _ROAMING.take(pa.array(state)),
            pa.array(remote),
        ],
        schema=CALLS,
    )
    return _sorted(table, "start_ts")


def sms_table(p: Params, pop: Population, cdf: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """Sampled SMS records."""
    rates = day_rates(p, pop, p.raw["rates"]["sms_per_day"], "sms_rate", p.raw["record_fraction"]["sms"])
    user, _, ts = draw_times(p, rates, cdf, rng)
    peer_id, _ = peers(p, pop, user, rng)
    out = rng.random(len(user)) < _sigmoid(pop.z[user, p.idx("out_share")])
    table = pa.Table.from_arrays(
        [
            pa.array(pop.user_id[user]),
            _ts(ts),
            pa.array(peer_id),
            _DIRECTIONS.take(pa.array((~out).astype(np.int8))),
        ],
        schema=SMS,
    )
    return _sorted(table, "ts")


def data_table(p: Params, pop: Population, cdf: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """Sampled data sessions with volume and serving cell."""
    r = p.raw["rates"]
    rates = day_rates(
        p, pop, r["data_sessions_per_day"], "data_rate", p.raw["record_fraction"]["data_sessions"]
    )
    user, day, ts = draw_times(p, rates, cdf, rng)
    state = day_state(p, pop, user, day)
    cell = cells(p, pop, user, day, state, rng)
    sigma = r["session_mb_sigma"]
    mb = np.exp(np.log(r["session_mb_mean"]) - sigma**2 / 2 + sigma * rng.standard_normal(len(user)))
    missing = rng.random(len(user)) < p.raw["mess"]["missing"]["data_cell_id"]
    table = pa.Table.from_arrays(
        [
            pa.array(pop.user_id[user]),
            _ts(ts),
            pa.array(np.maximum(1, np.round(mb * 1e6)).astype(np.int64)),
            pa.array(cell, mask=missing),
        ],
        schema=DATA_SESSIONS,
    )
    return _sorted(table, "ts")


def web_table(
    p: Params, pop: Population, cdf: np.ndarray, corpora: Corpora, rng: np.random.Generator
) -> tuple[pa.Table, np.ndarray]:
    """News-page views: category from the user's content mix, title drawn from that category's pool."""
    rates = day_rates(
        p, pop, p.raw["rates"]["web_visits_per_day"], "data_rate", p.raw["record_fraction"]["web_visits"]
    )
    user, _, ts = draw_times(p, rates, cdf, rng)
    cum = np.cumsum(pop.pref, axis=1)
    cat = np.minimum((cum[user] < rng.random(len(user))[:, None]).sum(axis=1), len(p.categories) - 1)
    pick = corpora.title_start[cat] + np.floor(rng.random(len(user)) * corpora.title_count[cat]).astype(
        np.int64
    )
    counts = np.zeros((pop.n, len(p.categories)), dtype=np.int64)
    np.add.at(counts, (user, cat), 1)
    table = pa.Table.from_arrays(
        [pa.array(pop.user_id[user]), _ts(ts), corpora.titles.take(pa.array(pick))], schema=WEB_VISITS
    )
    return _sorted(table, "ts"), counts
