"""Per-user aggregates of each warehouse table as Ibis expressions (backend-neutral: DuckDB, PySpark).

Every function takes deduplicated, windowed Ibis tables and returns one Ibis table keyed by
`user_id` with one row per user that has events. Users without a row get 0 when the families are
joined onto the subscribers, except the recencies (`contact_fill`). Ratios whose denominator is 0
are 0. Entropies are in nats.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from src.features.behaviour_spec import FeatureSpec

SECONDS_PER_DAY = 86_400.0
ENTROPY_SCALE = 1e12  # entropy terms are added up in units of 1e-12 nats
FEE_SCALE = 1e6  # fees are added up in units of 1e-6 yuan


def _share(where: ir.BooleanValue) -> ir.FloatingScalar:
    """Share of the group's rows where `where` holds."""
    return where.cast("float64").mean()


def _exact_sum(values: ir.NumericValue, scale: float) -> ir.FloatingScalar:
    """Sum of `values` rounded to 1/scale, added up as integers.

    A parallel engine adds floating-point values in whatever order its threads meet them, so a float
    sum can differ in the last bits from run to run (DuckDB did, for 44% of the users' entropies);
    an integer sum cannot, which keeps the feature table, its cache key and the models bit-identical.
    """
    return (values.cast("float64") * scale).round().cast("int64").sum().cast("float64") / scale


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den, 0 where den is 0 or null."""
    return ibis.ifelse(den.fill_null(0) > 0, num.cast("float64") / den.cast("float64"), 0.0)


def _entropy_by_key(events: ir.Table, key: str, prefix: str) -> ir.Table:
    """Per user: distinct `key` values, entropy of the key distribution and the top key's share."""
    return _entropy_of_counts(events.group_by(["user_id", key]).aggregate(n=_.count()), prefix)


def _entropy_of_counts(counts: ir.Table, prefix: str) -> ir.Table:
    """`_entropy_by_key` from the events already counted per (user_id, key) in column `n`."""
    counts = counts.mutate(total=_.n.sum().over(group_by="user_id"))
    counts = counts.mutate(p=_.n.cast("float64") / _.total.cast("float64"))
    return counts.group_by("user_id").aggregate(
        **{
            f"n_{prefix}s": _.count(),
            f"{prefix}_entropy": _exact_sum(_.p * (1.0 / _.p).ln(), ENTROPY_SCALE),  # p ln(1/p) >= +0.0
            f"top_{prefix}_share": _.p.max(),
        }
    )


def subscriber_features(subscribers: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Static columns: age (NaN if unregistered), female (NaN if unknown), prepaid, plan one-hot."""
    s = subscribers
    female = ibis.ifelse(
        s.gender.isnull(), ibis.null("float64"), (s.gender == spec.female_value).cast("float64")
    )
    nonlocal_ = ibis.ifelse(
        s.province.isnull(), ibis.null("float64"), (s.province != spec.home_province).cast("float64")
    )
    return s.select(
        "user_id",
        age=s.age.cast("float64"),
        age_missing=s.age.isnull().cast("int64"),
        female=female,
        gender_missing=s.gender.isnull().cast("int64"),
        province_nonlocal=nonlocal_,
        province_missing=s.province.isnull().cast("int64"),
        tenure_months=s.tenure_months.cast("int64"),
        monthly_fee=s.monthly_fee.cast("float64"),
        prepaid=s.prepaid.cast("int64"),
        **{
            f"plan_{suffix}": (s.plan == plan).fill_null(False).cast("int64")
            for plan, suffix in spec.plans.items()
        },
    )


def call_features(calls: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Counts, hour-band and weekend shares, duration statistics, roaming and long-distance shares."""
    c = calls
    hour = c.start_ts.hour()
    seconds = c.duration_s.cast("int64")
    per_user = c.group_by("user_id").aggregate(
        n_calls=_.count(),
        n_calls_out=_.count(where=c.direction == "out"),
        call_out_share=_share(c.direction == "out"),
        **{f"call_share_{band}": _share(hour.isin(hours)) for band, hours in spec.hour_bands.items()},
        call_weekend_share=_share(c.start_ts.day_of_week.index() >= 5),  # Mon=0 ... Sat=5, Sun=6
        dur_n=seconds.count(),
        dur_sum=seconds.sum(),  # integer sums: exact, so the same on every run
        dur_sum_sq=(seconds * seconds).sum(),
        dur_median_s=c.duration_s.cast("float64").median(),
        long_distance_share=_share(c.long_distance.fill_null(False)),
        **{
            f"roam_share_{suffix}": _share(c.roaming_type == value)
            for value, suffix in spec.roaming_types.items()
        },
    )
    n, total = per_user.dur_n.cast("float64"), per_user.dur_sum.cast("float64")
    mean = _ratio(total, n)
    variance = _ratio(per_user.dur_sum_sq.cast("float64"), n) - mean * mean
    durations = {
        "dur_mean_s": mean,
        "dur_median_s": per_user.dur_median_s,
        # population std (0 for one call); the clip guards against -0.0 from rounding
        "dur_std_s": ibis.greatest(variance, 0.0).sqrt(),
        "call_minutes_total": total / 60.0,
    }
    helpers = ("dur_n", "dur_sum", "dur_sum_sq", "dur_median_s")
    before = [c for c in per_user.columns[: per_user.columns.index("dur_n")] if c not in helpers]
    after = [c for c in per_user.columns[per_user.columns.index("dur_n") :] if c not in helpers]
    return per_user.select(*before, **durations, **{c: per_user[c] for c in after})


def peer_features(calls: ir.Table) -> ir.Table:
    """Peer dispersion over calls: distinct peers, peers per call, peer entropy, top-peer share, and
    the share of distinct peers reached long distance (each peer counts once, however often called).

    One pass counts the calls per (user, peer), unknown peers included (they count as calls, not as
    peers); every figure is read from those counts.
    """
    per_peer = calls.group_by(["user_id", "peer_id"]).aggregate(
        n=_.count(), remote=_.long_distance.fill_null(False).any()
    )
    totals = per_peer.group_by("user_id").aggregate(n_calls=_.n.sum())
    known = per_peer.filter(per_peer.peer_id.notnull())
    peers = _entropy_of_counts(known.select("user_id", "peer_id", "n"), "peer")
    remote = known.group_by("user_id").aggregate(peer_long_distance_share=_share(_.remote))
    joined = peers.join(totals, "user_id").join(remote, "user_id")
    per_call = _ratio(joined.n_peers, joined.n_calls).name("peers_per_call")
    return joined.select(
        "user_id", "n_peers", per_call, "peer_entropy", "top_peer_share", "peer_long_distance_share"
    )


def roaming_day_features(calls: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Share of the days with calls on which the user made a call of each roaming type (trip days)."""
    daily = (
        calls.mutate(day=calls.start_ts.date())
        .group_by(["user_id", "day"])
        .aggregate(
            **{
                f"on_{suffix}": (_.roaming_type == value).any()
                for value, suffix in spec.roaming_types.items()
            }
        )
    )
    return daily.group_by("user_id").aggregate(
        **{
            f"roam_day_share_{suffix}": _share(daily[f"on_{suffix}"])
            for suffix in spec.roaming_types.values()
        }
    )


def cell_features(calls: ir.Table, data_sessions: ir.Table) -> ir.Table:
    """Cells of calls and data sessions: distinct cells, entropy, days seen at 2+ cells, mean cells a day.

    One pass over the events counts them per (user, day, cell); the per-cell and per-day figures are
    then read from that much smaller table instead of two more passes over the events.
    """
    located = calls.select("user_id", ts=calls.start_ts, cell_id=calls.cell_id).union(
        data_sessions.select("user_id", "ts", "cell_id"), distinct=False
    )
    located = located.filter(located.cell_id.notnull())
    day_cells = located.group_by(["user_id", located.ts.date().name("day"), "cell_id"]).aggregate(n=_.count())
    per_cell = day_cells.group_by(["user_id", "cell_id"]).aggregate(n=_.n.sum())
    spread = _entropy_of_counts(per_cell, "cell").drop("top_cell_share")
    daily = (
        day_cells.group_by(["user_id", "day"])
        .aggregate(cells=_.count())
        .group_by("user_id")
        .aggregate(
            cell_change_days=_.count(where=_.cells > 1), daily_cells_mean=_.cells.cast("float64").mean()
        )
    )
    return spread.join(daily, "user_id")


def activity_features(calls: ir.Table, sms: ir.Table, data_sessions: ir.Table, spec: FeatureSpec) -> ir.Table:
    """Over every call, SMS and data session: active days, and the shares by hour band and at weekends
    (the daily rhythm seen through all traffic, not only the calls)."""
    events = ibis.union(
        calls.select("user_id", ts=calls.start_ts),
        sms.select("user_id", "ts"),
        data_sessions.select("user_id", "ts"),
        distinct=False,
    )
    hour = events.ts.hour()
    return events.group_by("user_id").aggregate(  # one pass: the active days counted in the same group
        active_days=events.ts.date().nunique(),
        **{f"activity_share_{band}": _share(hour.isin(hours)) for band, hours in spec.hour_bands.items()},
        activity_weekend_share=_share(events.ts.day_of_week.index() >= 5),
    )


def day_type_rhythm_features(timed: list[ir.Table], spec: FeatureSpec) -> ir.Table:
    """Over calls, SMS, data sessions and web visits: event counts and hour-band shares on weekdays and
    at weekends apart (an office rhythm shows on weekdays only; all-days shares blur it)."""
    events = ibis.union(*timed, distinct=False)
    hour, weekend = events.ts.hour(), events.ts.day_of_week.index() >= 5

    def band_share(hours: list[int], on_weekend: bool) -> ir.FloatingScalar:
        days = weekend if on_weekend else ~weekend
        return hour.isin(hours).cast("float64").mean(where=days).fill_null(0.0)  # 0 without such days

    return events.group_by("user_id").aggregate(
        weekday_events=_.count(where=~weekend),
        weekend_events=_.count(where=weekend),
        **{
            f"{day}_activity_share_{band}": band_share(hours, day == "weekend")
            for day in ("weekday", "weekend")
            for band, hours in spec.hour_bands.items()
        },
    )


def usage_trend_features(timed: list[ir.Table], start_epoch: int, window_seconds: int) -> ir.Table:
    """Where in the window the user's events fall: mean position (0 = start, 1 = end; 0.5 for steady
    use, lower when usage declines) and the share in the window's second half."""
    events = ibis.union(*timed, distinct=False)
    offset = events.ts.epoch_seconds().cast("int64") - start_epoch
    per_user = events.group_by("user_id").aggregate(
        n_timed=_.count(),
        offset_sum=offset.sum(),  # an integer sum: exact, so the same on every run
        late_half_share=_share(offset >= window_seconds // 2),
    )
    return per_user.select(
        "user_id",
        event_position_mean=_ratio(_.offset_sum, _.n_timed * window_seconds),
        late_half_share=_.late_half_share,
    )


def outgoing_features(calls: ir.Table, sms: ir.Table) -> ir.Table:
    """Outgoing share over calls and SMS together (one habit drives both), and their count."""
    directed = ibis.union(
        calls.select("user_id", "direction"), sms.select("user_id", "direction"), distinct=False
    )
    return directed.group_by("user_id").aggregate(
        n_directed=_.count(), directed_out_share=_share(directed.direction == "out")
    )


def trip_features(calls: ir.Table, data_sessions: ir.Table, trip_cells: ir.Table) -> ir.Table:
    """Days away from home seen through every located event, not only calls.

    `trip_cells` (cell_id) are the cells where some subscriber's call had a non-home roaming type; a day
    is away when the user's calls or data sessions touch one. Data sessions reveal trips on days without
    calls; the counts (not only shares) carry how many days the window observed.
    """
    located = calls.select("user_id", ts=calls.start_ts, cell_id=calls.cell_id).union(
        data_sessions.select("user_id", "ts", "cell_id"), distinct=False
    )
    located = located.filter(located.cell_id.notnull())
    days = (
        located.left_join(trip_cells.mutate(trip=ibis.literal(True)), "cell_id")
        .mutate(day=_.ts.date())
        .group_by(["user_id", "day"])
        .aggregate(away=_.trip.fill_null(False).any())
    )
    return days.group_by("user_id").aggregate(
        located_days=_.count(), away_days=_.count(where=_.away), away_day_share=_share(_.away)
    )


def sms_features(sms: ir.Table) -> ir.Table:
    """Incoming and outgoing SMS counts."""
    return sms.group_by("user_id").aggregate(
        n_sms_in=_.count(where=sms.direction == "in"), n_sms_out=_.count(where=sms.direction == "out")
    )


def data_features(data_sessions: ir.Table) -> ir.Table:
    """Data session count and volume in MB (10^6 bytes)."""
    return data_sessions.group_by("user_id").aggregate(
        n_data_sessions=_.count(), data_mb_total=_.bytes.cast("int64").sum().cast("float64") / 1e6
    )


def web_features(web_visits: ir.Table, spec: FeatureSpec, title_categories: ir.Table | None) -> ir.Table:
    """Page views; with `title_categories` (title, category suffix) also views per content category."""
    if title_categories is None:
        return web_visits.group_by("user_id").aggregate(n_web_visits=_.count())
    labelled = web_visits.left_join(title_categories, "title")
    return labelled.group_by("user_id").aggregate(
        n_web_visits=_.count(),
        **{f"read_{s}": _.count(where=labelled.category == s) for s in spec.categories.values()},
    )


def sp_features(sp_orders: ir.Table, spec: FeatureSpec) -> ir.Table:
    """SP charges by service and by content category, and their total fee."""
    o = sp_orders
    return o.group_by("user_id").aggregate(
        n_sp_orders=_.count(),
        **{f"sp_{suffix}": _.count(where=o.service == name) for name, suffix in spec.sp_services.items()},
        **{f"sp_cat_{suffix}": _.count(where=o.category == name) for name, suffix in spec.categories.items()},
        sp_fee_total=_exact_sum(o.fee, FEE_SCALE),
    )


# Non-zero values for users without contacts: recency is "longer ago than the window".
def contact_fill(spec: FeatureSpec) -> dict[str, float]:
    """Fill values of the contact family for users who never contacted a channel in the window."""
    never = float(spec.window_days + 1)
    return {"contact_recency_days": never, **{f"recency_{ch}_days": never for ch in spec.channels}}


def contact_features(contacts: ir.Table, spec: FeatureSpec, end_epoch: float) -> ir.Table:
    """Contacts by channel and purpose, days since the last contact per channel, unresolved counts."""
    c = contacts
    epoch = c.ts.epoch_seconds().cast("float64")
    never = float(spec.window_days + 1)

    def recency(where: ir.BooleanValue | None = None) -> ir.FloatingScalar:
        last = epoch.max(where=where)
        return ((end_epoch - last) / SECONDS_PER_DAY).fill_null(never)

    unresolved = ~c.resolved.fill_null(True)
    return c.group_by("user_id").aggregate(
        n_contacts=_.count(),
        **{f"contacts_{ch}": _.count(where=c.channel == ch) for ch in spec.channels},
        **{f"purpose_{suffix}": _.count(where=c.purpose == p) for p, suffix in spec.purposes.items()},
        n_unresolved=_.count(where=unresolved),
        n_unresolved_complaints=_.count(where=unresolved & (c.purpose == spec.complaint_purpose)),
        contact_recency_days=recency(),
        **{f"recency_{ch}_days": recency(c.channel == ch) for ch in spec.channels},
    )


def bill_features(bills: ir.Table) -> ir.Table:
    """Mean monthly bill, new-business share of the bill, last vs first month change."""
    b = bills
    with_nb = b.new_business_fee.notnull()
    first = b.total_fee.argmin(b.month)
    last = b.total_fee.argmax(b.month)
    per_user = b.group_by("user_id").aggregate(
        n_bills=_.count(),
        bill_mean_total=_exact_sum(b.total_fee, FEE_SCALE) / b.total_fee.count().cast("float64"),
        nb_fee=_exact_sum(ibis.ifelse(with_nb, b.new_business_fee, 0.0), FEE_SCALE),
        nb_base=_exact_sum(ibis.ifelse(with_nb, b.total_fee, 0.0), FEE_SCALE),
        first_fee=first,
        last_fee=last,
    )
    return per_user.select(
        "user_id",
        "n_bills",
        "bill_mean_total",
        bill_nb_share=_ratio(_.nb_fee, _.nb_base),
        bill_change_ratio=_ratio(_.last_fee - _.first_fee, _.first_fee),
    )
