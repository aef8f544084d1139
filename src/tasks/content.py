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
import time
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from scipy.stats import rankdata

from src.experiment import _log_frame, _sweep_id, feature_importance, pipeline_factory, seed_everything
from src.models.evaluate import compute_metrics, make_split, select_on_validation
from src.tasks.behaviour import behaviour_features, ceilings, input_files, read_labels
from src.tasks.channel import _log_csv

log = logging.getLogger(__name__)
ID = "user_id"


def rule_scores(
    features: pd.DataFrame, rules: DictConfig, suffixes: dict[str, str], *, prior: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """(0-100 rule score per category, weighted evidence per user) from the content-bearing columns.

    The scores are smoothed towards `prior` (one share per category), by default the category mix of
    the given rows; a chunk of a larger population passes the population's (see `category_mix`).
    """
    evidence = weighted_evidence(features, rules, suffixes)
    amount = evidence.sum(axis=1)
    if prior is None:
        prior = category_mix(evidence.sum(axis=0).to_numpy())
    else:
        prior = np.asarray(prior, dtype=float)
        if prior.shape != (len(suffixes),):
            raise ValueError(f"prior has shape {prior.shape}, not one share per category ({len(suffixes)})")
    alpha = float(rules.smoothing)
    numerator = evidence.to_numpy() + alpha * prior[None, :]
    denominator = np.broadcast_to(amount.to_numpy()[:, None] + alpha, numerator.shape)
    # no evidence and no smoothing: the population mix
    shares = np.divide(
        numerator, denominator, out=np.broadcast_to(prior, numerator.shape).copy(), where=denominator > 0
    )
    return pd.DataFrame(100.0 * shares, columns=list(suffixes), index=features.index), amount


def weighted_evidence(features: pd.DataFrame, rules: DictConfig, suffixes: dict[str, str]) -> pd.DataFrame:
    """Evidence per user and category: rules.weights x the <prefix><suffix> columns, missing as 0."""
    evidence = pd.DataFrame(index=features.index)
    for category, suffix in suffixes.items():
        total = np.zeros(len(features))
        for prefix, weight in rules.weights.items():
            column = f"{prefix}{suffix}"
            if column in features:
                total = total + float(weight) * features[column].fillna(0.0).to_numpy(dtype=float)
        evidence[category] = total
    return evidence


def category_mix(evidence_sums: np.ndarray) -> np.ndarray:
    """Each category's share of the summed evidence (uniform when there is none): the rules' prior."""
    total = evidence_sums.sum()
    if total > 0:
        return evidence_sums / total
    return np.full(len(evidence_sums), 1.0 / len(evidence_sums))


def fuse(
    rule_scores: np.ndarray, model_scores: np.ndarray, evidence: np.ndarray, shrink: float
) -> np.ndarray:
    """w x rules + (1 - w) x model per user, w = evidence / (evidence + shrink): evidence earns trust."""
    weight = (evidence / (evidence + shrink))[:, None]
    return weight * rule_scores + (1.0 - weight) * model_scores


def model_scores(pipeline: Any, X: pd.DataFrame, categories: list[str]) -> np.ndarray:
    """Stage-2 class probabilities x 100 in category order (a category never seen in training scores 0)."""
    proba = pipeline.predict_proba(X)
    out = np.zeros((len(X), len(categories)))
    for position, label in enumerate(pipeline.classes_):
        out[:, categories.index(label)] = 100.0 * proba[:, position]
    return out


def content_columns(columns: list[str], rules: DictConfig) -> list[str]:
    """Columns that carry content evidence (kept out of stage 2, which must work without it)."""
    prefixes = tuple(rules.exclude_prefixes)
    return [c for c in columns if c.startswith(prefixes)]


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


def mean_interval(values: np.ndarray, n_boot: int, level: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean."""
    if len(values) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = [values[rng.integers(0, len(values), size=len(values))].mean() for _ in range(n_boot)]
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def run(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, float]:
    """Rules for explicit users, a model for latent ones, fused and scored against true preferences."""
    import mlflow

    from src import tracking
    from src.models import registry

    started = time.perf_counter()
    seed_everything(int(cfg.seed))
    make_pipeline, grid = pipeline_factory(cfg)
    tracking.configure_store(cfg)
    experiment_id = tracking.ensure_experiment(cfg)
    rules = cfg.task.rules
    suffixes = dict(OmegaConf.to_container(cfg.features.pipeline.categories, resolve=True))
    categories = list(suffixes)
    features, folder = behaviour_features(cfg)
    truth_columns = [f"pref_{c}" for c in categories]
    labels = read_labels(folder, cfg, [*truth_columns, "occupation"])
    rows = features.merge(labels, on=ID, how="inner", validate="one_to_one").reset_index(drop=True)
    rule, evidence = rule_scores(rows, rules, suffixes)
    explicit = (evidence >= float(rules.min_evidence)).to_numpy()
    if explicit.sum() < 50:
        raise ValueError(f"only {explicit.sum()} explicit users: lower task.rules.min_evidence")
    X = rows[[c for c in features.columns if c not in content_columns(list(features.columns), rules)]]
    rule_top = pd.Series(np.asarray(categories, dtype=object)[rule.to_numpy().argmax(axis=1)])
    # users split once; stage 2 learns from the explicit users of train, selected on those of val
    group = pd.Series(np.where(explicit, "explicit", "latent"))
    split = make_split(group, int(cfg.seed), cfg.evaluation.val_size, cfg.evaluation.test_size)
    train = split.train[explicit[split.train]]
    val = split.val[explicit[split.val]]

    metrics: dict[str, float] = {"time_load_s": time.perf_counter() - started}
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{cfg.task.name}/{cfg.model.name}"
    ) as active:
        mlflow.set_tags({"task": cfg.task.name, "model": cfg.model.name, "sweep_id": _sweep_id()})
        tracking.log_lineage(cfg, input_files(folder, cfg), overrides)
        mlflow.log_params({f"split_{name}": size for name, size in split.sizes().items()})
        mlflow.log_params({"explicit_users": int(explicit.sum()), "latent_users": int((~explicit).sum())})
        selection = select_on_validation(
            make_pipeline, grid, X.iloc[train], rule_top.iloc[train], X.iloc[val], rule_top.iloc[val],
            metric="accuracy",
        )  # fmt: skip
        pipeline = selection.pipeline
        mlflow.log_params({f"best.{k}": v for k, v in selection.best_params.items()} or {"best": "defaults"})
        stage2_val = compute_metrics(
            rule_top.iloc[val], pipeline.predict(X.iloc[val]), None, list(pipeline.classes_)
        )
        metrics["val_accuracy"] = stage2_val[
            "accuracy"
        ]  # stage 2 vs the rules' top category (champion metric)

        stage2 = model_scores(pipeline, X, categories)
        fused = fuse(rule.to_numpy(), stage2, evidence.to_numpy(), float(rules.shrink))
        truth = rows[truth_columns].to_numpy(dtype=float)
        boot = (int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed))
        for name, part in (("val", split.val), ("test", split.test)):
            hits = hit_rates(fused[part], truth[part])
            for who, mask in (
                ("", np.ones(len(part), bool)),
                ("_explicit", explicit[part]),
                ("_latent", ~explicit[part]),
            ):
                for key, values in hits.items():
                    metrics[f"{name}_{key}{who}"] = float(values[mask].mean()) if mask.any() else float("nan")
                    if name == "test" and mask.any():
                        lo, hi = mean_interval(values[mask], *boot)
                        metrics[f"test_{key}{who}_lo"], metrics[f"test_{key}{who}_hi"] = lo, hi
        # what the rules alone and the model alone achieve on test, for the fusion's sake
        test = split.test
        for source, scores in (("rules", rule.to_numpy()), ("model", stage2)):
            for who, mask in (("_explicit", explicit[test]), ("_latent", ~explicit[test])):
                metrics[f"test_top1{who}_{source}"] = float(
                    hit_rates(scores[test], truth[test])["top1"][mask].mean()
                )
        table = ceilings(folder, cfg)["content"]
        for key, dotted in (cfg.task.ceiling or {}).items():
            metrics[f"ceiling_{key}"] = float(table[dotted])
            if f"test_{key}" in metrics:
                metrics[f"gap_to_ceiling_{key}"] = metrics[f"ceiling_{key}"] - metrics[f"test_{key}"]
        metrics["time_total_s"] = time.perf_counter() - started
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})

        by_group = pd.DataFrame(fused[test], columns=categories).assign(
            group=rows["occupation"].iloc[test].to_numpy()
        )
        by_group = by_group.groupby("group").mean().stack().rename("score").reset_index()
        _log_csv(by_group.rename(columns={"level_1": "category"}), "content/category_by_group.csv")
        profile = pd.DataFrame(fused[test].round(2), columns=[f"score_{s}" for s in suffixes.values()])
        profile.insert(0, "explicit", explicit[test])
        profile.insert(0, ID, rows[ID].iloc[test].to_numpy())
        _log_frame(profile, "content/test_user_scores.parquet")
        importance = feature_importance(pipeline)
        if importance is not None:
            _log_frame(importance, "features/importance.parquet")
        mlflow.log_dict(OmegaConf.to_container(rules, resolve=True), "content/rules.json")

        register = bool(cfg.evaluation.register) and bool(cfg.mlflow.log_model)
        if cfg.mlflow.log_model:
            uri, version = registry.log_pipeline(cfg, pipeline, X.iloc[train].head(5), register=register)
            mlflow.set_tag("model_uri", uri)
            if version:
                mlflow.set_tag("registered_version", version)
        run_id = active.info.run_id
    if register:
        registry.update_champion(cfg)
    log.info(
        "%s/%s done (run %s): test top-1 %.3f (explicit %.3f, latent %.3f), top-3 %.3f; ceiling top-1 %.3f",
        cfg.task.name, cfg.model.name, run_id, metrics["test_top1"], metrics["test_top1_explicit"],
        metrics["test_top1_latent"], metrics["test_top3"], metrics.get("ceiling_top1", float("nan")),
    )  # fmt: skip
    return metrics
