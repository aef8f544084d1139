"""SP (value-added) service orders driven by the content mix and SP propensity."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from src.data.simulate.params import Params
from src.data.simulate.population import Population
from src.data.warehouse import SP_ORDERS

DAY = 86_400


def sp_orders_table(p: Params, pop: Population, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """One row per SP charge in the window; also returns the explicit-content flag per user."""
    sp = p.raw["sp"]
    days = p.raw["days"]
    services = sp["services"]
    prop = np.exp(pop.z[:, p.idx("sp_propensity")])
    billing_day = rng.integers(0, min(days, 30), pop.n)
    users, ts, svc = [], [], []
    explicit = np.zeros(pop.n, dtype=bool)
    for s, spec in enumerate(services):
        if spec["category"] is None:
            affinity = np.ones(pop.n)
        else:
            affinity = (len(p.categories) * pop.pref[:, p.categories.index(spec["category"])]) ** sp[
                "pref_power"
            ]
        subscribed = rng.random(pop.n) < 1.0 - np.exp(-spec["take_up"] * prop * affinity)
        idx = np.flatnonzero(subscribed)
        if spec["on_demand"]:
            extra = max(sp["on_demand_orders_mean"] * days / 30.0 - 1.0, 0.0)
            n_orders = 1 + rng.poisson(extra, len(idx))
            u = np.repeat(idx, n_orders)
            t = rng.integers(0, days * DAY, len(u))
        else:
            months = -(-days // 30)
            u = np.repeat(idx, months)
            m = np.tile(np.arange(months), len(idx))
            day = billing_day[u] + 30 * m
            keep = day < days
            u, day = u[keep], day[keep]
            t = day * DAY + rng.integers(0, DAY, len(u))
        users.append(u)
        ts.append(t)
        svc.append(np.full(len(u), s))
        if spec["content"]:
            explicit[idx] = True
    user = np.concatenate(users)
    sidx = np.concatenate(svc)
    tsec = p.start_epoch + np.concatenate(ts).astype(np.int64)
    names = pa.array([s["service"] for s in services], type=pa.string())
    cats = pa.array([s["category"] for s in services], type=pa.string())
    fees = pa.array([float(s["fee"]) for s in services], type=pa.float64())
    take = pa.array(sidx)
    table = pa.Table.from_arrays(
        [
            pa.array(pop.user_id[user]),
            pa.array(tsec.astype("datetime64[s]").astype("datetime64[ms]"), type=pa.timestamp("ms")),
            names.take(take),
            cats.take(take),
            fees.take(take),
        ],
        schema=SP_ORDERS,
    )
    order = np.lexsort((sidx, tsec, pop.user_id[user]))
    return table.take(order), explicit
