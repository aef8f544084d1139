"""Turn the composed `simulate` config into validated NumPy parameter arrays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from src.data.warehouse import CHANNELS  # noqa: F401  (the warehouse's names, used by the simulator)
from src.errors import ConfigError

ROAMING_TYPES: tuple[str, ...] = ("本地", "省内", "省际", "国际")


def _transform(kind: str, value: float) -> float:
    """Map a natural-unit group value into latent (z) space."""
    if kind == "log":
        return float(np.log(value))
    if kind == "logit":
        return float(np.log(value / (1.0 - value)))
    if kind == "none":
        return float(value)
    raise ConfigError(f"simulate.latent: unknown transform '{kind}' (use log, logit or none)")


@dataclass(frozen=True)
class Params:
    """Everything the generator needs, as plain arrays (picklable for worker processes)."""

    raw: dict[str, Any]
    seed: int
    occupations: tuple[str, ...]
    shares: np.ndarray
    latent_names: tuple[str, ...]
    latent_mean: np.ndarray  # (n_occ, n_latent)
    latent_sd: np.ndarray  # (n_latent,)
    latent_loading: np.ndarray  # (n_latent,)
    female_shift: np.ndarray  # (n_latent,)
    age_mean: np.ndarray
    age_sd: np.ndarray
    p_male: np.ndarray
    p_prepaid: np.ndarray
    p_nonlocal: np.ndarray
    categories: tuple[str, ...]
    content_prior: np.ndarray  # (n_cat,)
    content_age_slope: np.ndarray  # (n_cat,)
    content_occ_mult: np.ndarray  # (n_occ, n_cat)
    hour_shares: np.ndarray  # (24,)
    rhythm_masks: np.ndarray  # (4, 24) early, work, evening, night
    start_epoch: int
    confusable: tuple[tuple[int, ...], ...]

    def idx(self, name: str) -> int:
        """Column index of a latent parameter."""
        return self.latent_names.index(name)


def build_params(sim: DictConfig, seed: int, categories: list[str]) -> Params:
    """Validate the config and precompute arrays; errors name the key to fix."""
    raw: dict[str, Any] = OmegaConf.to_container(sim, resolve=True)  # type: ignore[assignment]
    if raw["chunk_size"] % raw["block_size"]:
        raise ConfigError(
            f"simulate.chunk_size={raw['chunk_size']} must be a multiple of "
            f"simulate.block_size={raw['block_size']}; pick e.g. chunk_size={raw['block_size'] * 10}"
        )
    if raw["n_users"] < 1 or raw["days"] < 1:
        raise ConfigError("simulate.n_users and simulate.days must be positive")
    occs = tuple(raw["occupations"])
    groups = raw["groups"]
    missing = [o for o in occs if o not in groups]
    if missing:
        raise ConfigError(f"simulate.groups lacks occupations {missing}; add a block for each")
    shares = np.array([groups[o]["share"] for o in occs], dtype=float)
    if abs(shares.sum() - 1.0) > 1e-6:
        raise ConfigError(f"simulate.groups shares sum to {shares.sum():.4f}, not 1; fix the `share` values")
    names = tuple(raw["latent"])
    mean = np.zeros((len(occs), len(names)))
    for i, occ in enumerate(occs):
        means = groups[occ]["means"]
        absent = [n for n in names if n not in means]
        if absent:
            raise ConfigError(f"simulate.groups.{occ}.means lacks {absent}")
        for j, name in enumerate(names):
            mean[i, j] = _transform(raw["latent"][name]["transform"], means[name])
    # Shrink group differences toward the population mean: the one knob that tunes how learnable
    # occupation is (DESIGN: classifiers should land near published CDR accuracies).
    centre = shares @ mean
    mean = centre + raw["separation"] * (mean - centre)
    female = np.zeros(len(names))
    female[names.index("dur_median")] = raw["rates"]["female_duration_shift"]
    cont = raw["content"]
    masks = np.zeros((4, 24), dtype=bool)
    for k, key in enumerate(("early", "work", "evening", "night")):
        masks[k, raw["rhythm_hours"][key]] = True
    start = dt.datetime.fromisoformat(raw["start_date"]).replace(tzinfo=dt.UTC)
    obs = raw["observation"]
    return Params(
        raw=raw,
        seed=int(seed),
        occupations=occs,
        shares=shares,
        latent_names=names,
        latent_mean=mean,
        latent_sd=np.array([raw["latent"][n]["sd"] for n in names], dtype=float),
        latent_loading=np.array([raw["latent"][n]["loading"] for n in names], dtype=float),
        female_shift=female,
        age_mean=np.array([groups[o]["age"][0] for o in occs], dtype=float),
        age_sd=np.array([groups[o]["age"][1] for o in occs], dtype=float),
        p_male=np.array([groups[o]["p_male"] for o in occs], dtype=float),
        p_prepaid=np.array([groups[o]["p_prepaid"] for o in occs], dtype=float),
        p_nonlocal=np.array([groups[o]["p_nonlocal"] for o in occs], dtype=float),
        categories=tuple(categories),
        content_prior=np.array([cont["prior"][c] for c in categories], dtype=float),
        content_age_slope=np.array([cont["age_slope"][c] for c in categories], dtype=float),
        content_occ_mult=np.array(
            [[cont["occupation_mult"][o][c] for c in categories] for o in occs], dtype=float
        ),
        hour_shares=np.array(raw["hour_shares"], dtype=float) / np.sum(raw["hour_shares"]),
        rhythm_masks=masks,
        start_epoch=int(start.timestamp()),
        confusable=tuple(tuple(occs.index(c) for c in obs["confusable"][o]) for o in occs),
    )
