"""Content preference over the 8 categories: the study's two-stage method.

Stage 1 (explicit users, rules in conf/task/content.yaml): a "business experience" score per
category from content-bearing services — titles read on the web (labelled by the topic
model) and SP orders (手机报, 彩铃, entertainment/joke SMS, ...) — weighted, smoothed towards the
population's category mix and scaled to 0-100. Users with at least `min_evidence` weighted
events are explicit.
Stage 2 (latent users): the configured model, trained on explicit users' behaviour features
(content columns excluded) to predict their rule-based top category, scores everyone; its class
probabilities x 100 are the latent users' scores.
Fusion: score = w_g x rules + (1 - w_g) x model, one rules weight w_g per user group (explicit /
latent, or evidence bins: task.fusion) learned on validation users (src/features/content_fusion.py),
so on validation the fused profile is never below the better of its parts. The weights travel with
the registered stage-2 model (attribute `content_fusion_`), so scoring fuses exactly as here.
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
from src.features.content_fusion import METRICS, LearnedFusion, learn_fusion, user_groups
from src.features.content_preference import attach_fusion, content_columns, model_scores, rule_scores
from src.models.bootstrap import mean_interval
from src.models.evaluate import Split
from src.models.results import RunResults
from src.ranking import ranking_hits
from src.tasks.behaviour import (
    behaviour_inputs,
    bootstrap_settings,
    ceilings,
    input_files,
    labeller_tags,
    read_labels,
)
from src.tasks.ceiling_gap import Bootstrap, paired_hit_gap

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
        top_columns = [f"bayes_top_{c}" for c in suffixes]
        mix_columns = [f"bayes_pref_{c}" for c in suffixes]
        labels = read_labels(inputs.folder, cfg, [*truth_columns, *top_columns, *mix_columns, "occupation"])
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
            # the tight ceiling per user: P(category is the top one | window), posterior-mean mix
            ceiling_top=rows[top_columns].to_numpy(dtype=float),
            ceiling_mix=rows[mix_columns].to_numpy(dtype=float),
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
        """Fusion learned on validation; rules, model and fused scored on test; ceilings, paired gaps."""
        x = data.extras
        suffixes, explicit = x["suffixes"], data.learn_rows
        stage2 = model_scores(models[STAGE2], data.X, list(suffixes))
        fusion = learned_fusion(cfg, x["rule"], stage2, x["truth"], x["evidence"], split.val)
        attach_fusion(models[STAGE2], fusion)
        fused = fusion.scores(x["rule"], stage2, x["evidence"])
        boot = bootstrap_settings(cfg)
        results = RunResults(
            # stage 2 against the rules' top category on explicit validation users picks the champion
            metrics={"val_accuracy": metrics[f"val_accuracy_{STAGE2}"]},
            params={
                "explicit_users": int(explicit.sum()),
                "latent_users": int((~explicit).sum()),
                **{f"fusion_weight_{g}": w for g, w in fusion.weights.weights.items()},
            },
            dicts={
                "content/rules.json": OmegaConf.to_container(cfg.task.rules, resolve=True),
                "content/fusion.json": fusion.to_dict(),
            },
        )
        for name, part in (("val", split.val), ("test", split.test)):
            results.metrics.update(hit_metrics(name, fused[part], x["truth"][part], explicit[part], boot))
            sources = {"rules": x["rule"][part], "model": stage2[part], "fused": fused[part]}
            results.metrics.update(source_metrics(name, sources, x["truth"][part], explicit[part]))
        results.metrics.update(ceiling_metrics(cfg, x["ceilings"], {**metrics, **results.metrics}))
        results.metrics.update(paired_content_gaps(data, fused, split.test, boot))
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


def learned_fusion(
    cfg: DictConfig,
    rule: np.ndarray,
    stage2: np.ndarray,
    truth: np.ndarray,
    evidence: np.ndarray,
    val: np.ndarray,
) -> LearnedFusion:
    """The rules' weight per user group (task.fusion), chosen on the validation users only."""
    settings = cfg.task.fusion
    edges = [float(e) for e in settings.get("evidence_edges") or []]
    min_evidence = float(cfg.task.rules.min_evidence)
    groups = user_groups(evidence, min_evidence, edges)
    weights = learn_fusion(rule[val], stage2[val], truth[val], groups[val], metric=str(settings.metric))
    log.info("content fusion (rules' weight per group, on validation): %s", weights.weights)
    return LearnedFusion(weights, min_evidence, tuple(edges))


def source_metrics(
    name: str, sources: dict[str, np.ndarray], truth: np.ndarray, explicit: np.ndarray
) -> dict[str, float]:
    """`<split>_<metric>_<all|explicit|latent>_<source>`: the fusion next to its parts (rules, model)."""
    masks = {"all": np.ones(len(explicit), bool), "explicit": explicit, "latent": ~explicit}
    metrics = {}
    for source, scores in sources.items():
        hits = ranking_hits(scores, truth)
        for metric in METRICS:
            for group, mask in masks.items():
                if mask.any():
                    metrics[f"{name}_{metric}_{group}_{source}"] = float(hits[metric][mask].mean())
    return metrics


def paired_content_gaps(
    data: TaskData, fused: np.ndarray, test: np.ndarray, boot: Bootstrap
) -> dict[str, float]:
    """The ceiling's ranking vs the fused profile on the test users: paired top-1 / top-3 gaps, Spearman."""
    x = data.extras
    truth = x["truth"][test]
    ours = ranking_hits(fused[test], truth)
    ceiling = ranking_hits(x["ceiling_top"][test], truth)
    metrics = {}
    for metric in ("top1", "top3"):
        metrics.update(paired_hit_gap(ceiling[metric], ours[metric], boot).metrics(metric))
    metrics["test_ceiling_spearman"] = float(ranking_hits(x["ceiling_mix"][test], truth)["spearman"].mean())
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
