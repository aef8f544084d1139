"""Monthly bills: total and new-business (value-added) fees from latent ARPU and usage decline."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from src.data.simulate.params import Params
from src.data.simulate.population import Population, _sigmoid, assign_plans
from src.data.warehouse import BILLS


def bill_months(p: Params) -> list[dt.date]:
    """First days of the billed months, oldest first, ending with the window's last month."""
    last = dt.datetime.fromtimestamp(p.start_epoch + (p.raw["days"] - 1) * 86_400, tz=dt.UTC).date()
    months = []
    y, m = last.year, last.month
    for _ in range(p.raw["bill_months"]):
        months.append(dt.date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months[::-1]


def bills_table(p: Params, pop: Population, rng: np.random.Generator) -> pa.Table:
    """One bill per user and month; usage decline shows in the later months."""
    months = bill_months(p)
    start = dt.datetime.fromtimestamp(p.start_epoch, tz=dt.UTC).date()
    days = p.raw["days"]
    mid = np.array([((mo - start).days + 15) / days for mo in months])
    factor = 1.0 - np.outer(pop.decline, np.clip(mid, 0.0, 1.0))
    arpu = np.exp(pop.z[:, p.idx("arpu")])[:, None] * factor
    noise = np.exp(0.1 * rng.standard_normal(arpu.shape))
    _, plan_fee = assign_plans(p, pop)
    total = np.round(np.maximum(plan_fee[:, None], arpu * noise), 2)
    share = _sigmoid(pop.z[:, p.idx("nb_share")])[:, None] * np.exp(0.15 * rng.standard_normal(arpu.shape))
    new_business = np.round(np.minimum(total * share, total), 2)
    missing = rng.random(total.shape) < p.raw["mess"]["missing"]["new_business_fee"]
    k = len(months)
    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(pop.user_id, k)),
            pa.array(np.tile(np.array(months, dtype="datetime64[D]"), pop.n), type=pa.date32()),
            pa.array(total.ravel()),
            pa.array(new_business.ravel(), mask=missing.ravel()),
        ],
        schema=BILLS,
    )
