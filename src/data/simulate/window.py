"""The window's realised statistics that the tight behaviour ceilings condition on.

Several latents reach the event tables only through a few realised counts: the hour-of-day
groups and weekend share of all traffic (rhythm, weekend ratio), the days spent on trips, the
remote peers, the outgoing share, the channel contacts (with their complaints and resolution), the
visited news categories and the SP services. `window_ceiling` conditions on these counts instead of
the latents themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from src.data.simulate.events import day_state, weekend_days
from src.data.simulate.params import CHANNELS, Params
from src.data.simulate.population import Population, _sigmoid
from src.data.simulate.streams import hash_unit

DAY = 86_400
# (table, timestamp column, base rate key, rate latent, record-fraction key): every stream timed by
# the user's hour-of-day rhythm and weekend ratio (events.draw_times)
TIMED_STREAMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("calls", "start_ts", "calls_per_day", "call_rate", "calls"),
    ("sms", "ts", "sms_per_day", "sms_rate", "sms"),
    ("data_sessions", "ts", "data_sessions_per_day", "data_rate", "data_sessions"),
    ("web_visits", "ts", "web_visits_per_day", "data_rate", "web_visits"),
)
N_HOUR_GROUPS = 5  # early, work, evening, night (params.rhythm_masks), then every other hour


@dataclass
class WindowStats:
    """Per-user realised counts of one block (rows follow `pop.user_id`)."""

    hour_groups: np.ndarray  # (n, 2, 5): [weekday, weekend] x [early, work, evening, night, other]
    trip_days: np.ndarray  # (n, 3): days at home, elsewhere in the province, out of the province
    peers: np.ndarray  # (n,): the user's peer numbers (all of them, contacted in the window or not)
    remote_peers: np.ndarray  # (n,): how many of those are long distance
    directed: np.ndarray  # (n,): calls and SMS
    outgoing: np.ndarray  # (n,): of which outgoing
    contacts: np.ndarray  # (n, 6): channel contacts per channel (params.CHANNELS order)
    complaints: np.ndarray  # (n,): contacts whose purpose is a complaint
    unresolved_complaints: np.ndarray  # (n,): complaints left unresolved
    unresolved_other: np.ndarray  # (n,): other contacts left unresolved
    web_categories: np.ndarray  # (n, n_categories): news-page views per category
    sp_services: np.ndarray  # (n, n_services) bool: the service was charged in the window


def hour_group_of_hour(p: Params) -> np.ndarray:
    """Hour of day (0-23) -> hour group (0-4)."""
    group = np.full(24, N_HOUR_GROUPS - 1, dtype=np.intp)
    for g, mask in enumerate(p.rhythm_masks):
        group[mask] = g
    return group


def _row(pop: Population, table: pa.Table) -> np.ndarray:
    """Row of each event's user in the block."""
    return table["user_id"].to_numpy() - pop.user_id[0]


def _per_user(pop: Population, rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Event count (or weighted sum) per user."""
    return np.bincount(rows, weights=weights, minlength=pop.n).astype(np.int64)


def timed_hour_groups(p: Params, pop: Population, tables: dict[str, pa.Table]) -> np.ndarray:
    """(n, 2, 5) events of every timed stream by day type and hour group."""
    group_of = hour_group_of_hour(p)
    weekend = weekend_days(p)
    out = np.zeros((pop.n, 2, N_HOUR_GROUPS), dtype=np.int64)
    for name, ts_col, *_ in TIMED_STREAMS:
        table = tables[name]
        secs = table[ts_col].cast(pa.int64()).to_numpy() // 1000 - p.start_epoch
        day, hour = secs // DAY, (secs % DAY) // 3600
        np.add.at(out, (_row(pop, table), weekend[day].astype(np.intp), group_of[hour]), 1)
    return out


def trip_day_counts(p: Params, pop: Population) -> np.ndarray:
    """(n, 3) window days by location state: home, in-province trip, out-of-province trip (abroad too)."""
    days = p.raw["days"]
    user = np.repeat(np.arange(pop.n), days)
    state = day_state(p, pop, user, np.tile(np.arange(days), pop.n)).reshape(pop.n, days)
    return np.stack([(state == 0).sum(1), (state == 1).sum(1), (state >= 2).sum(1)], axis=1)


def remote_peer_counts(p: Params, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Each user's number of peers and of long-distance peers (the same hashes as events.peers)."""
    n_peers = np.maximum(1, np.round(np.exp(pop.z[:, p.idx("n_peers")]))).astype(np.int64)
    user = np.repeat(np.arange(pop.n), n_peers)
    rank = np.arange(n_peers.sum()) - np.repeat(np.cumsum(n_peers) - n_peers, n_peers)
    remote = hash_unit(pop.user_id[user], rank, salt=32) < _sigmoid(pop.z[user, p.idx("remote_share")])
    return n_peers, _per_user(pop, user, remote)


def _category_counts(pop: Population, table: pa.Table, column: str, values: list) -> np.ndarray:
    """(n, len(values)) events per user and value of `column`."""
    rows = _row(pop, table)
    return np.stack(
        [_per_user(pop, rows[pc.equal(table[column], v).to_numpy(zero_copy_only=False)]) for v in values],
        axis=1,
    )


def complaint_counts(pop: Population, contacts: pa.Table, complaint: str) -> tuple[np.ndarray, ...]:
    """Complaints, unresolved complaints and unresolved other contacts per user."""
    rows = _row(pop, contacts)
    is_complaint = pc.equal(contacts["purpose"], complaint).to_numpy(zero_copy_only=False)
    unresolved = ~contacts["resolved"].to_numpy(zero_copy_only=False)
    return (
        _per_user(pop, rows[is_complaint]),
        _per_user(pop, rows[is_complaint & unresolved]),
        _per_user(pop, rows[~is_complaint & unresolved]),
    )


def window_stats(
    p: Params, pop: Population, tables: dict[str, pa.Table], web_counts: np.ndarray
) -> WindowStats:
    """The realised counts of one block, from its clean tables (before duplicates are added)."""
    directed = _per_user(pop, _row(pop, tables["calls"])) + _per_user(pop, _row(pop, tables["sms"]))
    outgoing = sum(
        _category_counts(pop, tables[name], "direction", ["out"])[:, 0] for name in ("calls", "sms")
    )
    n_peers, remote = remote_peer_counts(p, pop)
    services = [s["service"] for s in p.raw["sp"]["services"]]
    complaints, unresolved_complaints, unresolved_other = complaint_counts(
        pop, tables["channel_contacts"], p.raw["channels"]["purposes"][2]
    )
    return WindowStats(
        hour_groups=timed_hour_groups(p, pop, tables),
        trip_days=trip_day_counts(p, pop),
        peers=n_peers,
        remote_peers=remote,
        directed=directed,
        outgoing=outgoing,
        contacts=_category_counts(pop, tables["channel_contacts"], "channel", list(CHANNELS)),
        complaints=complaints,
        unresolved_complaints=unresolved_complaints,
        unresolved_other=unresolved_other,
        web_categories=web_counts,
        sp_services=_category_counts(pop, tables["sp_orders"], "service", services) > 0,
    )
