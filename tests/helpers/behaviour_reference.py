"""The straightforward definitions of the families the optimised build computes in fewer passes.

Each is the expression the build used before it was fused; tests swap them in and require the same
feature table, bit for bit.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from src.features.behaviour_spec import FeatureSpec

ENTROPY_SCALE = 1e12  # as src/features/behaviour_aggregates.py


def share(where: ir.BooleanValue) -> ir.FloatingScalar:
    """Share of the group's rows where `where` holds."""
    return where.cast("float64").mean()


def exact_sum(values: ir.NumericValue, scale: float) -> ir.FloatingScalar:
    """Sum of `values` rounded to 1/scale, added up as integers."""
    return (values.cast("float64") * scale).round().cast("int64").sum().cast("float64") / scale


def ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den, 0 where den is 0 or null."""
    return ibis.ifelse(den.fill_null(0) > 0, num.cast("float64") / den.cast("float64"), 0.0)


def entropy_by_key(events: ir.Table, key: str, prefix: str) -> ir.Table:
    """Per user: distinct `key` values, entropy of the key distribution and the top key's share."""
    counts = events.group_by(["user_id", key]).aggregate(n=_.count())
    counts = counts.mutate(total=_.n.sum().over(group_by="user_id"))
    counts = counts.mutate(p=_.n.cast("float64") / _.total.cast("float64"))
    return counts.group_by("user_id").aggregate(
        **{
            f"n_{prefix}s": _.count(),
            f"{prefix}_entropy": exact_sum(_.p * (1.0 / _.p).ln(), ENTROPY_SCALE),
            f"top_{prefix}_share": _.p.max(),
        }
    )


def peer_features(calls: ir.Table) -> ir.Table:
    """Peers: entropy over the known peers, their long-distance share, and the calls counted apart."""
    known = calls.filter(calls.peer_id.notnull())
    peers = entropy_by_key(known, "peer_id", "peer")
    remote = (
        known.group_by(["user_id", "peer_id"])
        .aggregate(remote=_.long_distance.fill_null(False).any())
        .group_by("user_id")
        .aggregate(peer_long_distance_share=share(_.remote))
    )
    totals = calls.group_by("user_id").aggregate(n=_.count())
    joined = peers.join(totals, "user_id").join(remote, "user_id")
    per_call = ratio(joined.n_peers, joined.n).name("peers_per_call")
    return joined.select(
        "user_id", "n_peers", per_call, "peer_entropy", "top_peer_share", "peer_long_distance_share"
    )


def cell_features(calls: ir.Table, data_sessions: ir.Table) -> ir.Table:
    """Cells: entropy over the events' cells, and distinct cells per day counted from the events."""
    located = calls.select("user_id", ts=calls.start_ts, cell_id=calls.cell_id).union(
        data_sessions.select("user_id", "ts", "cell_id"), distinct=False
    )
    located = located.filter(located.cell_id.notnull())
    spread = entropy_by_key(located, "cell_id", "cell").drop("top_cell_share")
    daily = (
        located.mutate(day=located.ts.date())
        .group_by(["user_id", "day"])
        .aggregate(cells=_.cell_id.nunique())
        .group_by("user_id")
        .aggregate(
            cell_change_days=_.count(where=_.cells > 1), daily_cells_mean=_.cells.cast("float64").mean()
        )
    )
    return spread.join(daily, "user_id")


def activity_features(calls: ir.Table, sms: ir.Table, data_sessions: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Activity: shares by hour band and weekend per user, active days from a separate distinct pass."""
    events = ibis.union(
        calls.select("user_id", ts=calls.start_ts),
        sms.select("user_id", "ts"),
        data_sessions.select("user_id", "ts"),
        distinct=False,
    )
    hour = events.ts.hour()
    shares = events.group_by("user_id").aggregate(
        **{f"activity_share_{band}": share(hour.isin(hours)) for band, hours in spec.hour_bands.items()},
        activity_weekend_share=share(events.ts.day_of_week.index() >= 5),
    )
    days = events.select("user_id", day=events.ts.date()).distinct()
    active = days.group_by("user_id").aggregate(active_days=_.count())
    return active.join(shares, "user_id")
