"""Content fusion: rules and model scores mixed with one weight per user group, learned on validation users.

The fused score of a user in group g is w_g x rules + (1 - w_g) x model, both rows normalised to sum
to one. w_g is picked from a grid that holds 0 (model only) and 1 (rules only) by the chosen metric
on the validation users of g, so on validation the fusion is never below the better of its parts,
group by group and therefore overall. Pure NumPy: no tracking, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from src.ranking import ranking_hits

METRICS: tuple[str, ...] = ("top1", "top3", "spearman")
SOURCES: tuple[str, ...] = ("rules", "model", "fused")
DEFAULT_GRID: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))


def normalise_rows(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows summing to zero stay zero); the ranking within a row is kept."""
    scores = np.asarray(scores, dtype=float)
    if (scores < 0).any():
        raise ValueError("content scores must be non-negative")
    total = scores.sum(axis=1, keepdims=True)
    return np.divide(scores, total, out=np.zeros_like(scores), where=total > 0)


def evidence_groups(evidence: np.ndarray, edges: list[float]) -> np.ndarray:
    """Group label per user by evidence count: '<e0', '[e0,e1)', ..., '>=ek' for increasing edges."""
    edges = sorted(float(e) for e in edges)
    labels = [f"<{edges[0]:g}"]
    labels += [f"[{lo:g},{hi:g})" for lo, hi in pairwise(edges)]
    labels.append(f">={edges[-1]:g}")
    return np.asarray(labels, dtype=object)[np.searchsorted(edges, evidence, side="right")]


@dataclass(frozen=True)
class FusionWeights:
    """The rules' weight per user group and the validation metric that chose it."""

    weights: dict[str, float]
    metric: str

    def fuse(self, rules: np.ndarray, model: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Fused scores; a group unseen on validation is an error, not a silent default."""
        unknown = sorted(set(np.unique(groups)) - set(self.weights))
        if unknown:
            raise ValueError(f"no fusion weight for group(s) {unknown}; learned: {sorted(self.weights)}")
        w = np.array([self.weights[g] for g in groups])[:, None]
        return w * normalise_rows(rules) + (1.0 - w) * normalise_rows(model)


def learn_fusion(
    rules: np.ndarray,
    model: np.ndarray,
    truth: np.ndarray,
    groups: np.ndarray,
    *,
    grid: tuple[float, ...] = DEFAULT_GRID,
    metric: str = "top1",
) -> FusionWeights:
    """Per group, the grid weight with the best mean `metric` on these (validation) users.

    Ties go to the better mean Spearman, then to the first weight of the grid.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown fusion metric {metric!r}; known: {list(METRICS)}")
    if 0.0 not in grid or 1.0 not in grid or min(grid) < 0.0 or max(grid) > 1.0:
        raise ValueError("the fusion grid must lie in [0, 1] and hold both 0 (model only) and 1 (rules only)")
    rules_n, model_n = normalise_rows(rules), normalise_rows(model)
    weights: dict[str, float] = {}
    for group in np.unique(groups):
        rows = groups == group
        best: tuple[float, float] | None = None
        for w in grid:
            hits = ranking_hits(w * rules_n[rows] + (1.0 - w) * model_n[rows], truth[rows])
            score = (float(hits[metric].mean()), float(hits["spearman"].mean()))
            if best is None or score > best:
                best, weights[str(group)] = score, float(w)
    return FusionWeights(weights, metric)


def fusion_report(
    rules: np.ndarray, model: np.ndarray, truth: np.ndarray, groups: np.ndarray, fusion: FusionWeights
) -> dict[str, float]:
    """`<metric>_<group>_<source>` (and `<metric>_all_<source>`) for rules-only, model-only and fused."""
    sources = {"rules": rules, "model": model, "fused": fusion.fuse(rules, model, groups)}
    report: dict[str, float] = {}
    for source, scores in sources.items():
        hits = ranking_hits(scores, truth)
        for metric in METRICS:
            report[f"{metric}_all_{source}"] = float(hits[metric].mean())
            for group in np.unique(groups):
                report[f"{metric}_{group}_{source}"] = float(hits[metric][groups == group].mean())
    return report


def user_groups(evidence: np.ndarray, min_evidence: float, edges: list[float] | None = None) -> np.ndarray:
    """The fusion's user groups: evidence bins when `edges` are given, else explicit / latent."""
    evidence = np.asarray(evidence, dtype=float)
    if edges:
        return evidence_groups(evidence, list(edges))
    return np.where(evidence >= float(min_evidence), "explicit", "latent").astype(object)


@dataclass(frozen=True)
class LearnedFusion:
    """The learned weights with the grouping they apply to: what the content model carries to scoring."""

    weights: FusionWeights
    min_evidence: float
    edges: tuple[float, ...] = ()

    def groups(self, evidence: np.ndarray) -> np.ndarray:
        """Each user's group from their weighted content evidence."""
        return user_groups(evidence, self.min_evidence, list(self.edges))

    def scores(self, rules: np.ndarray, model: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        """0-100 fused scores (each row sums to 100) of users with this evidence."""
        return 100.0 * self.weights.fuse(rules, model, self.groups(evidence))

    def to_dict(self) -> dict:
        """Plain values (weights per group, metric, grouping) to attach to a model or log as JSON."""
        return {
            "weights": dict(self.weights.weights),
            "metric": self.weights.metric,
            "min_evidence": self.min_evidence,
            "evidence_edges": list(self.edges),
        }

    @classmethod
    def from_dict(cls, values: dict) -> LearnedFusion:
        """The inverse of `to_dict`."""
        return cls(
            FusionWeights({str(k): float(v) for k, v in values["weights"].items()}, str(values["metric"])),
            float(values["min_evidence"]),
            tuple(float(e) for e in values.get("evidence_edges") or ()),
        )
