"""Behaviour gap analysis: `python -m src.gap [gap.tasks=[…]] [gap.users=…]` (make gap), writes `gap.output`.

For each behaviour task (channel, churn_sim, content, occupation) the oracle, the tight ceiling, a probe
of the ceiling and a model of the outcomes are scored on the same held-out users, and each distance
between them is attributed (src/data/simulate/ceiling_probe.py); for occupation also which latents the
features reveal and what each tier adds (src/data/simulate/occupation_gap.py).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver)
from src.config import compose
from src.data.population import verify_population
from src.data.simulate.ceiling_probe import check_tasks, task_gaps
from src.data.simulate.gap_report import gap_report
from src.data.simulate.occupation_gap import ablation, latent_r2, report, tiers
from src.data.simulate.params import build_params
from src.errors import ProfilingError
from src.io_atomic import atomic_output
from src.paths import CONF_DIR
from src.tasks.behaviour import behaviour_features

log = logging.getLogger(__name__)
PASSED_PATHS = ("simulated_dir", "cache_dir", "raw_dir")


def feature_config(cfg: DictConfig) -> DictConfig:
    """The occupation task's config for the feature table, on the same folders as this analysis."""
    paths = [f"paths.{key}={cfg.paths[key]}" for key in PASSED_PATHS]
    return compose([*cfg.features_overrides, *paths])


def occupation_extra(cfg: DictConfig, features: pd.DataFrame, labels: pd.DataFrame, ceiling: dict) -> str:
    """The latents' R² from the features, the cumulative ablation and the population's ceilings."""
    p = build_params(cfg.simulate, cfg.seed, list(cfg.content.categories))
    r2 = latent_r2(features, labels, list(p.latent_names), cfg)
    table = ablation(p, int(cfg.gap.users), int(cfg.seed), tiers(r2, list(cfg.gap.r2_tiers)))
    return report(r2, table, ceiling).rstrip("\n")


def run(cfg: DictConfig) -> str:
    """Every requested task's section (and occupation's latent analysis), written to `gap.output`."""
    began = time.perf_counter()
    tasks = check_tasks(list(cfg.gap.tasks))
    features, folder = behaviour_features(feature_config(cfg))
    verify_population(folder)
    labels = pd.read_parquet(folder / "labels.parquet")
    ceilings = json.loads((folder / "ceilings.json").read_text(encoding="utf-8"))
    gaps = task_gaps(features, labels, ceilings, tasks, cfg)
    extra = {}
    if "occupation" in tasks:
        extra["occupation"] = occupation_extra(cfg, features, labels, ceilings["occupation"])
    header = [
        f"Simulated population `{folder.name}` ({len(labels):,} users, seed {cfg.seed}); the first "
        f"{min(int(cfg.gap.users), len(labels)):,} users, {float(cfg.gap.train_share):.0%} fitted, the rest "
        f"scored. Command: `python -m src.gap gap.users={int(cfg.gap.users)}`.",
    ]
    text = gap_report(gaps, header, extra)
    out = Path(cfg.gap.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as partial:
        partial.write_text(text, encoding="utf-8")
    log.info("behaviour gap analysis (%s) -> %s (%.1f s)", ", ".join(tasks), out, time.perf_counter() - began)
    return text


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="gap")
def main(cfg: DictConfig) -> None:
    """Print the analysis and write it to gap.output; user-fixable errors exit with one line."""
    try:
        print(run(cfg))
    except ProfilingError as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()
