"""Content preference over the 8 categories: the study's two-stage method.

Stage 1 (explicit users, rules in conf/task/content.yaml): a "business experience" score per
category from content-bearing services — titles read on the web (labelled by the topic
model) and SP orders (手机报, 彩铃, entertainment/joke SMS, ...) — weighted, smoothed towards the
population's category mix and scaled to 0-100. Users with at least `min_evidence` weighted
events are explicit.
Stage 2 (latent users): the configured model, trained on explicit users' behaviour features
(content columns excluded) to predict their rule-based top category, scores everyone; its class
probabilities x 100 are the latent users' scores.
Fusion: score = w x rules + (1 - w) x model with w = evidence / (evidence + shrink), so latent
users (no evidence) get the model and heavy readers their own record.
Evaluation against the simulator's true preference vector on test users, explicit and latent
apart: top-1 and top-3 hit of the true favourite category, and Spearman rank correlation.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from scipy.stats import rankdata

from src.data.task_data import TaskData
from src.errors import ConfigError
from src.features.content_preference import content_columns, fuse, model_scores, rule_scores
from src.models.bootstrap import mean_interval
from src.models.evaluate import Split
from src.models.results import RunResults
from src.tasks.behaviour import behaviour_inputs, ceilings, input_files, labeller_tags, read_labels

log = logging.getLogger(__name__)
ID = "user_id"
STAGE2 = "stage2"  # the label series of the stage-2 model: the rules' top category of explicit users
WHO = ("", "_explicit", "_latent")


def hit_rates(scores: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user top-1 hit, top-3 hit of the true favourite, and Spearman correlation of the vectors."""
    favourite = truth.argmax(axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")
    top1 = order[:, 0] == favourite
    top3 = (order[:, :3] == favourite[:, None]).any(axis=1)
    rs, rt = rankdata(scores, axis=1), rankdata(truth, axis=1)
    rs, rt = rs - rs.mean(axis=1, keepdims=True), rt - rt.mean(axis=1, keepdims=True)
    denominator = np.sqrt((rs**2).sum(axis=1) * (rt**2).sum(axis=1))
    spearman = np.divide((rs * rt).sum(axis=1), denominator, out=np.zeros(len(rs)), where=denominator > 0)
    return {"top1": top1.astype(float), "top3": top3.astype(float), "spearman": spearman}


class ContentTask:
    """Plugin: stage 2 learns the rules' top category on explicit users; extras fuse and score."""

    def load(self, cfg: DictConfig) -> TaskData:
        """Behaviour features without the content columns; y = explicit/latent (the split's strata)."""
        rules = cfg.task.rules
        suffixes = dict(OmegaConf.to_container(cfg.features.pipeline.categories, resolve=True))
        inputs = behaviour_inputs(cfg)
        features = inputs.features
        truth_columns = [f"pref_{c}" for c in suffixes]
        labels = read_labels(inputs.folder, cfg, [*truth_columns, "occupation"])
        rows = features.merge(labels, on=ID, how="inner", validate="one_to_one").reset_index(drop=True)
        rule, evidence = rule_scores(rows, rules, suffixes)
        explicit = (evidence >= float(rules.min_evidence)).to_numpy()
        if explicit.sum() < 50:
            raise ConfigError(
                f"only {int(explicit.sum())} explicit users, 50 needed: lower task.rules.min_evidence"
            )
        excluded = set(content_columns(list(features.columns), rules))
        rule_top = np.asarray(list(suffixes), dtype=object)[rule.to_numpy().argmax(axis=1)]
        data = TaskData(
            X=rows[[c for c in features.columns if c not in excluded]],
            y=pd.Series(np.where(explicit, "explicit", "latent"), name="evidence"),
            input_files=input_files(inputs.folder, cfg),
            targets={STAGE2: pd.Series(rule_top, name="rule_top_category")},
            learn_rows=explicit,
            lineage=labeller_tags(inputs.labeller),
        )
        data.extras.update(
            rule=rule.to_numpy(),
            evidence=evidence.to_numpy(),
            truth=rows[truth_columns].to_numpy(dtype=float),
            users=rows[ID],
            occupation=rows["occupation"],
            suffixes=suffixes,
            ceilings=ceilings(inputs.folder, cfg)["content"],
        )
        return data

    def extras(
        self,
        cfg: DictConfig,
        data: TaskData,
        split: Split,
        models: dict[str, Any],
        metrics: dict[str, float],
    ) -> RunResults:
        """Fused scores against the true preferences (all, explicit, latent users), ceilings, profiles."""
        x = data.extras
        suffixes, explicit = x["suffixes"], data.learn_rows
        stage2 = model_scores(models[STAGE2], data.X, list(suffixes))
        fused = fuse(x["rule"], stage2, x["evidence"], float(cfg.task.rules.shrink))
        boot = (int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed))
        results = RunResults(
            # stage 2 against the rules' top category on explicit validation users picks the champion
            metrics={"val_accuracy": metrics[f"val_accuracy_{STAGE2}"]},
            params={"explicit_users": int(explicit.sum()), "latent_users": int((~explicit).sum())},
            dicts={"content/rules.json": OmegaConf.to_container(cfg.task.rules, resolve=True)},
        )
        for name, part in (("val", split.val), ("test", split.test)):
            results.metrics.update(hit_metrics(name, fused[part], x["truth"][part], explicit[part], boot))
        results.metrics.update(source_metrics(x["rule"], stage2, x["truth"], explicit, split.test))
        results.metrics.update(ceiling_metrics(cfg, x["ceilings"], {**metrics, **results.metrics}))
        results.add(profile_results(data, fused[split.test], split.test))
        return results

    def registered_model(self, models: dict[str, Any]) -> Any:
        """The stage-2 model (scoring fuses it with the rules, as `extras` does)."""
        return models[STAGE2]


def hit_metrics(
    name: str, fused: np.ndarray, truth: np.ndarray, explicit: np.ndarray, boot: tuple[int, float, int]
) -> dict[str, float]:
    """Top-1, top-3 and Spearman of one split for all, explicit and latent users; test intervals."""
    hits = hit_rates(fused, truth)
    metrics = {}
    for who, mask in zip(WHO, (np.ones(len(explicit), bool), explicit, ~explicit), strict=True):
        for key, values in hits.items():
            metrics[f"{name}_{key}{who}"] = float(values[mask].mean()) if mask.any() else float("nan")
            if name == "test" and mask.any():
                metrics[f"test_{key}{who}_lo"], metrics[f"test_{key}{who}_hi"] = mean_interval(
                    values[mask], *boot
                )
    return metrics


def source_metrics(
    rule: np.ndarray, stage2: np.ndarray, truth: np.ndarray, explicit: np.ndarray, test: np.ndarray
) -> dict[str, float]:
    """What the rules alone and the model alone achieve on test, for the fusion's sake."""
    metrics = {}
    for source, scores in (("rules", rule), ("model", stage2)):
        top1 = hit_rates(scores[test], truth[test])["top1"]
        for who, mask in (("_explicit", explicit[test]), ("_latent", ~explicit[test])):
            metrics[f"test_top1{who}_{source}"] = float(top1[mask].mean())
    return metrics


def ceiling_metrics(cfg: DictConfig, table: dict[str, Any], metrics: dict[str, float]) -> dict[str, float]:
    """`ceiling_<key>` and `gap_to_ceiling_<key>` for each `task.ceiling` entry."""
    out = {}
    for key, dotted in (cfg.task.ceiling or {}).items():
        out[f"ceiling_{key}"] = float(table[dotted])
        if f"test_{key}" in metrics:
            out[f"gap_to_ceiling_{key}"] = out[f"ceiling_{key}"] - metrics[f"test_{key}"]
    return out


def profile_results(data: TaskData, fused: np.ndarray, test: np.ndarray) -> RunResults:
    """Mean scores per occupation group, and every test user's fused scores."""
    x = data.extras
    suffixes, categories = x["suffixes"], list(x["suffixes"])
    by_group = pd.DataFrame(fused, columns=categories).assign(group=x["occupation"].iloc[test].to_numpy())
    by_group = by_group.groupby("group").mean().stack().rename("score").reset_index()
    profile = pd.DataFrame(fused.round(2), columns=[f"score_{s}" for s in suffixes.values()])
    profile.insert(0, "explicit", data.learn_rows[test])
    profile.insert(0, ID, x["users"].iloc[test].to_numpy())
    return RunResults(
        csvs={"content/category_by_group.csv": by_group.rename(columns={"level_1": "category"})},
        frames={"content/test_user_scores.parquet": profile},
    )
