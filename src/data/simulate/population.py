"""Draw one block of subscribers: occupation, demographics and every latent per-user parameter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from src.data.simulate.params import Params
from src.data.warehouse import SUBSCRIBERS


@dataclass
class Population:
    """Latent truth of one user block (arrays of length n, or n x k)."""

    user_id: np.ndarray
    occ: np.ndarray
    age_raw: np.ndarray
    female: np.ndarray
    prepaid: np.ndarray
    nonlocal_: np.ndarray
    province: np.ndarray  # object array, None when local province applies
    activity: np.ndarray
    z: np.ndarray
    pref: np.ndarray
    dissat: np.ndarray
    decline: np.ndarray
    offer: np.ndarray
    home_cell: np.ndarray

    @property
    def n(self) -> int:
        """Number of users in the block."""
        return len(self.user_id)


def content_alpha(p: Params, occ: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Dirichlet parameters of the content mix given occupation and (latent) age."""
    base = (
        p.content_prior * p.content_occ_mult[occ] * np.exp(np.outer((age - 35.0) / 10.0, p.content_age_slope))
    )
    return p.raw["content"]["concentration"] * base / base.sum(axis=1, keepdims=True)


def latent_centre(p: Params, occ: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Conditional mean of the latent vector z given occupation and gender."""
    return p.latent_mean[occ] + np.outer(female.astype(float), p.female_shift)


def draw_population(p: Params, rng: np.random.Generator, first_id: int, n: int) -> Population:
    """Draw n users with ids first_id .. first_id + n - 1."""
    occ = rng.choice(len(p.occupations), size=n, p=p.shares)
    age_raw = rng.normal(p.age_mean[occ], p.age_sd[occ])
    female = rng.random(n) >= p.p_male[occ]
    prepaid = rng.random(n) < p.p_prepaid[occ]
    nonlocal_ = rng.random(n) < p.p_nonlocal[occ]
    net = p.raw["network"]
    names = list(net["other_provinces"])
    weights = np.array([net["other_provinces"][k] for k in names], dtype=float)
    origin = rng.choice(len(names), size=n, p=weights / weights.sum())
    province = np.where(nonlocal_, np.array(names, dtype=object)[origin], net["home_province"])
    activity = rng.standard_normal(n)
    eps = rng.standard_normal((n, len(p.latent_names)))
    z = latent_centre(p, occ, female) + eps * p.latent_sd + np.outer(activity, p.latent_loading)
    alpha = content_alpha(p, occ, age_raw)
    g = rng.gamma(alpha)
    g = np.maximum(g / g.sum(axis=1, keepdims=True), 1e-9)
    pref = g / g.sum(axis=1, keepdims=True)
    dissat = rng.standard_normal(n)
    ch = p.raw["churn"]
    decliner = rng.random(n) < _sigmoid(ch["decliner_logit"][0] + ch["decliner_logit"][1] * dissat)
    lo, hi = ch["decline_range"]
    decline = np.where(decliner, rng.uniform(lo, hi, n), 0.0)
    offer = rng.random(n) < ch["p_competitor_offer"]
    home_cell = rng.integers(0, net["n_cells"], n)
    return Population(
        user_id=np.arange(first_id, first_id + n, dtype=np.int64),
        occ=occ,
        age_raw=age_raw,
        female=female,
        prepaid=prepaid,
        nonlocal_=nonlocal_,
        province=province,
        activity=activity,
        z=z,
        pref=pref,
        dissat=dissat,
        decline=decline,
        offer=offer,
        home_cell=home_cell.astype(np.int64),
    )


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def observed_age(p: Params, pop: Population) -> np.ndarray:
    """Registered age in whole years, clipped to the configured range."""
    lo, hi = p.raw["age_clip"]
    return np.clip(np.floor(pop.age_raw), lo, hi).astype(np.int32)


def tenure_months(p: Params, pop: Population) -> np.ndarray:
    """Tenure in whole months (at least 1)."""
    return np.maximum(1, np.round(np.exp(pop.z[:, p.idx("tenure")]))).astype(np.int32)


def assign_plans(p: Params, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Plan name and monthly fee: first rule that matches prepaid flag, age and ARPU."""
    age = observed_age(p, pop)
    arpu = np.exp(pop.z[:, p.idx("arpu")])
    plan = np.full(pop.n, None, dtype=object)
    fee = np.zeros(pop.n)
    todo = np.ones(pop.n, dtype=bool)
    for rule in p.raw["plans"]:
        hit = todo & (pop.prepaid == rule["prepaid"]) & (age <= rule["max_age"]) & (arpu >= rule["min_arpu"])
        plan[hit], fee[hit] = rule["name"], rule["fee"]
        todo &= ~hit
    if todo.any():
        from src.errors import ConfigError

        raise ConfigError("simulate.plans: some users match no plan; end the list with catch-all rules")
    return plan, fee


def subscribers_table(p: Params, pop: Population, rng: np.random.Generator) -> pa.Table:
    """The subscribers table, with registration gaps (missing age, gender, province)."""
    miss = p.raw["mess"]["missing"]
    age = observed_age(p, pop)
    age_missing = rng.random(pop.n) < miss["age"] + miss["age_prepaid_extra"] * pop.prepaid
    gender = np.where(pop.female, "女", "男").astype(object)
    gender[rng.random(pop.n) < miss["gender"]] = None
    province = pop.province.copy()
    province[rng.random(pop.n) < miss["province"]] = None
    plan, fee = assign_plans(p, pop)
    return pa.Table.from_arrays(
        [
            pa.array(pop.user_id),
            pa.array(age, mask=age_missing),
            pa.array(gender, type=pa.string()),
            pa.array(tenure_months(p, pop)),
            pa.array(plan, type=pa.string()),
            pa.array(fee),
            pa.array(pop.home_cell),
            pa.array(province, type=pa.string()),
            pa.array(pop.prepaid),
        ],
        schema=SUBSCRIBERS,
    )
