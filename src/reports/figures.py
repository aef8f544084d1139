"""Report figures with matplotlib: each saves reports/figures/<task>-<name>.png and returns the figure."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve

from src.reports.claims import Claim
from src.reports.fonts import use_cjk_font
from src.reports.metric_vocabulary import metric_labels

METRIC_LABELS = metric_labels()  # conf/report/metrics.yaml
# the study's grades of channel dependence, lowest first (0-20% ... 80-100%)
TIER_ORDER = ["基本不接触", "偶尔接触", "普通依赖", "较依赖", "依赖"]
DPI = 90  # keeps reports/ under 5 MB (110 dpi gave 5.3 MB, 4.8 MB of it figures); CJK labels stay legible


def figure_path(figures_dir: Path, task: str, name: str) -> Path:
    """reports/figures/<task>-<name>.png with a file-system-safe name."""
    safe = re.sub(r"[^\w.-]+", "_", f"{task}-{name}")
    return Path(figures_dir) / f"{safe}.png"


def _new(width: float, height: float, ncols: int = 1, nrows: int = 1) -> tuple[Figure, np.ndarray]:
    use_cjk_font()
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    return fig, axes


def _save(fig: Figure, figures_dir: Path, task: str, name: str) -> Figure:
    path = figure_path(figures_dir, task, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    fig.saved_path = path  # where the report finds the PNG
    return fig


def comparison_bars(
    runs: pd.DataFrame, metric: str, claims: list[Claim], task: str, figures_dir: Path
) -> Figure | None:
    """Test metric per model with its 95% interval, the study's figures and the simulator's ceiling."""
    column = f"metrics.test_{metric}"
    if runs.empty or column not in runs or runs[column].isna().all():
        return None
    runs = runs.sort_values("tags.model").reset_index(drop=True)
    values = runs[column].to_numpy(dtype=float)
    low = runs.get(f"{column}_lo", pd.Series(values)).fillna(runs[column]).to_numpy(dtype=float)
    high = runs.get(f"{column}_hi", pd.Series(values)).fillna(runs[column]).to_numpy(dtype=float)
    fig, (ax,) = _new(max(5.0, 1.1 * len(runs) + 2.5), 3.8)
    x = np.arange(len(runs))
    errors = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
    ax.bar(x, values, color="#4C72B0", alpha=0.85, yerr=errors, capsize=5, label="本研究 ours (95% 区间)")
    ax.set_xticks(x, runs["tags.model"].tolist())
    draw_study_figures(ax, runs, metric, claims, task)
    top = runs.get(f"metrics.ceiling_{metric}")
    if top is not None and top.notna().any():
        ax.axhline(
            float(top.max()), color="#55A868", linestyle="--", label=f"模拟上限 ceiling {top.max():.3f}"
        )
    for position, value in enumerate(values):
        ax.annotate(
            f"{value:.3f}",
            (position, high[position]),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.set_title(f"{task}: 测试集 {METRIC_LABELS.get(metric, metric)}")
    if metric not in ("log_loss", "brier"):
        ax.set_ylim(0, min(1.05, max(1.0, float(np.nanmax(high)) + 0.05)))
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, figures_dir, task, f"compare-{metric}")


def draw_study_figures(ax: Axes, runs: pd.DataFrame, metric: str, claims: list[Claim], task: str) -> None:
    """A red line over each model's bar at the study's figure; without a claim, the logged baseline."""
    marks = [
        (position, claim.value, True)
        for position, model in enumerate(runs["tags.model"])
        for claim in claims
        if claim.task == task and claim.model == model and claim.metric == metric
    ]
    baseline = runs.get(f"metrics.baseline_{metric}")
    if not marks and baseline is not None:
        marks = [(position, value, False) for position, value in enumerate(baseline) if pd.notna(value)]
    for index, (position, value, annotated) in enumerate(marks):
        label = "论文 study" if index == 0 else "_nolegend_"
        ax.hlines(value, position - 0.45, position + 0.45, colors="#C44E52", linewidth=2.5, label=label)
        if annotated:
            ax.annotate(f"{value:.0%}", (position + 0.45, value), fontsize=8, color="#C44E52")


def tick_rotation(labels: list[str]) -> int:
    """Column-label rotation so labels never overlap: flat for a few short ones, else upright."""
    if len(labels) <= 3 and max((len(label) for label in labels), default=0) <= 4:
        return 0
    return 90


def _draw_confusion(ax, counts: pd.DataFrame, title: str):
    labels = [str(c) for c in counts.columns]
    rows = counts.to_numpy(dtype=float)
    shares = rows / np.clip(rows.sum(axis=1, keepdims=True), 1, None)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    rotation = tick_rotation(labels)
    ax.set_xticks(range(len(labels)), labels, rotation=rotation, fontsize=8)
    ax.set_yticks(range(len(counts.index)), [str(i) for i in counts.index], fontsize=8)
    ax.set_xlabel("预测 predicted")
    ax.set_ylabel("真实 true")
    ax.set_title(title, fontsize=10)
    if len(labels) <= 12:
        for i in range(rows.shape[0]):
            for j in range(rows.shape[1]):
                colour = "white" if shares[i, j] > 0.5 else "black"
                ax.text(j, i, f"{int(rows[i, j])}", ha="center", va="center", fontsize=8, color=colour)
    return image


def confusion_heatmaps(confusions: dict[str, pd.DataFrame], task: str, figures_dir: Path) -> list[Figure]:
    """Row-normalised test confusion matrices: one figure for all models if classes are few, else one each."""
    if not confusions:
        return []
    n_classes = max(len(c.columns) for c in confusions.values())
    if n_classes <= 8:
        ncols = min(4, len(confusions))
        nrows = -(-len(confusions) // ncols)
        fig, axes = _new(3.3 * ncols + 0.8, 3.2 * nrows, ncols=ncols, nrows=nrows)
        image = None
        for ax, (model, counts) in zip(axes, confusions.items(), strict=False):
            image = _draw_confusion(ax, counts, f"{model}")
        for ax in axes[len(confusions) :]:
            ax.set_axis_off()
        fig.suptitle(f"{task}: 混淆矩阵 confusion matrices (test)")
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="行占比 row share")
        return [_save(fig, figures_dir, task, "confusion")]
    out = []
    size = min(14.0, 0.32 * n_classes + 2.5)
    for model, counts in confusions.items():
        fig, (ax,) = _new(size + 1.0, size)
        image = _draw_confusion(ax, counts, f"{task}/{model}: 混淆矩阵 confusion (test)")
        fig.colorbar(image, ax=ax, shrink=0.8, label="行占比 row share")
        out.append(_save(fig, figures_dir, task, f"confusion-{model}"))
    return out


def _scores(frame: pd.DataFrame, positive: str | None) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(y in {0,1}, score, label): the positive class for binary tasks, micro one-vs-rest otherwise."""
    proba = [c for c in frame.columns if c.startswith("proba_")]
    if not proba:
        return None
    classes = [c.removeprefix("proba_") for c in proba]
    truth = frame["y_true"].astype(str).to_numpy()
    if len(classes) == 2:
        positive = positive if positive in classes else classes[1]
        return (truth == positive).astype(int), frame[f"proba_{positive}"].to_numpy(dtype=float), positive
    onehot = np.stack([(truth == c).astype(int) for c in classes], axis=1)
    return onehot.ravel(), frame[proba].to_numpy(dtype=float).ravel(), MICRO


MICRO = "micro one-vs-rest"


def legend_aucs(frame: pd.DataFrame, y: np.ndarray, score: np.ndarray, kind: str) -> tuple[float, float]:
    """ROC-AUC and AP as the comparison table defines them: of the positive class, or macro one-vs-rest."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if kind != MICRO:
        return float(roc_auc_score(y, score)), float(average_precision_score(y, score))
    proba = [c for c in frame.columns if c.startswith("proba_")]
    truth = frame["y_true"].astype(str).to_numpy()
    onehot = np.stack([(truth == c.removeprefix("proba_")).astype(int) for c in proba], axis=1)
    present = onehot.sum(axis=0) > 0  # a class absent from the test split has no AUC
    values = frame[proba].to_numpy(dtype=float)[:, present]
    roc = roc_auc_score(onehot[:, present], values, average="macro", multi_class="ovr")
    return float(roc), float(average_precision_score(onehot[:, present], values, average="macro"))


def roc_pr_curves(
    predictions: dict[str, pd.DataFrame], positive: str | None, task: str, figures_dir: Path
) -> Figure | None:
    """ROC and precision-recall curves of every probabilistic model on the test split."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    scored = {m: s for m, f in sorted(predictions.items()) if f is not None and (s := _scores(f, positive))}
    if not scored:
        return None
    fig, (roc_ax, pr_ax) = _new(10.0, 4.2, ncols=2)
    kind = ""
    for model, (y, score, label) in scored.items():
        kind = label
        if y.min() == y.max():
            continue
        fpr, tpr, _ = roc_curve(y, score)
        roc_auc, pr_auc = legend_aucs(predictions[model], y, score, label)
        roc_ax.plot(fpr, tpr, label=f"{model} (AUC {roc_auc:.3f})")
        precision, recall, _ = precision_recall_curve(y, score)
        pr_ax.plot(recall, precision, label=f"{model} (AP {pr_auc:.3f})")
    roc_ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    roc_ax.set(xlabel="假正率 false positive rate", ylabel="真正率 true positive rate")
    if kind == MICRO:  # the curves pool the classes; the legend's figures are the table's macro ones
        kind = "micro one-vs-rest curves, macro AUC/AP as in the table"
    roc_ax.set_title(f"{task}: ROC 曲线 ({kind})")
    pr_ax.set(xlabel="召回率 recall", ylabel="精确率 precision", ylim=(0, 1.02))
    pr_ax.set_title(f"{task}: PR 曲线 ({kind})")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize=8, loc="lower right" if ax is roc_ax else "upper right")
    return _save(fig, figures_dir, task, "roc-pr")


def reliability_curves(
    predictions: dict[str, pd.DataFrame], positive: str | None, task: str, figures_dir: Path, bins: int = 10
) -> Figure | None:
    """Mean predicted probability against observed frequency per probability bin (test split)."""
    fig, (ax,) = _new(5.5, 4.6)
    drawn = False
    for model, frame in sorted(predictions.items()):
        if frame is None:
            continue
        proba = [c for c in frame.columns if c.startswith("proba_")]
        if not proba:
            continue
        classes = [c.removeprefix("proba_") for c in proba]
        truth = frame["y_true"].astype(str).to_numpy()
        if len(classes) == 2:
            label = positive if positive in classes else classes[1]
            score, hit, what = frame[f"proba_{label}"].to_numpy(dtype=float), truth == label, f"P({label})"
        else:
            matrix = frame[proba].to_numpy(dtype=float)
            score = matrix.max(axis=1)
            hit = np.asarray(classes)[matrix.argmax(axis=1)] == truth
            what = "top-label confidence"
        observed, predicted = calibration_curve(hit, np.clip(score, 0.0, 1.0), n_bins=bins, pos_label=True)
        ax.plot(predicted, observed, marker="o", label=model)
        drawn = True
    if not drawn:
        return None
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="完美校准 perfect")
    ax.set(
        xlabel=f"预测概率 predicted ({what})", ylabel="实际频率 observed frequency", xlim=(0, 1), ylim=(0, 1)
    )
    ax.set_title(f"{task}: 可靠性曲线 reliability (test)")
    ax.legend(fontsize=8)
    return _save(fig, figures_dir, task, "reliability")


def importance_bars(
    importances: dict[str, pd.DataFrame], task: str, figures_dir: Path, top: int = 15
) -> Figure | None:
    """The top features of each model by its own importance (trees, LightGBM) or |coefficient| (linear)."""
    found = {m: f for m, f in sorted(importances.items()) if f is not None and not f.empty}
    if not found:
        return None
    ncols = min(3, len(found))
    nrows = -(-len(found) // ncols)
    fig, axes = _new(5.0 * ncols, (0.3 * top + 1.2) * nrows, ncols=ncols, nrows=nrows)
    for ax in axes[len(found) :]:
        ax.set_axis_off()
    for ax, (model, frame) in zip(axes, found.items(), strict=False):
        head = frame.sort_values("importance", ascending=False, kind="stable").head(top).iloc[::-1]
        ax.barh(head["feature"].astype(str), head["importance"], color="#8172B2")
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(f"{model}: 特征重要性 importance", fontsize=10)
    return _save(fig, figures_dir, task, "importance")


def tier_share_chart(shares: pd.DataFrame, task: str, figures_dir: Path, name: str = "tier-shares") -> Figure:
    """Stacked share of users per dependence tier for each contact channel."""
    pivot = shares.pivot_table(index="channel", columns="tier", values="share", aggfunc="sum").fillna(0.0)
    tiers = [t for t in TIER_ORDER if t in pivot.columns] + [t for t in pivot.columns if t not in TIER_ORDER]
    pivot = pivot[tiers]
    fig, (ax,) = _new(8.0, 0.55 * len(pivot) + 2.0)
    left = np.zeros(len(pivot))
    colours = ["#d9e6f2", "#a6c8e0", "#6aa3cc", "#3a7ab3", "#1b4f8a"]
    for position, tier in enumerate(tiers):
        ax.barh(
            pivot.index.astype(str),
            pivot[tier],
            left=left,
            label=tier,
            color=colours[position % len(colours)],
        )
        left += pivot[tier].to_numpy()
    ax.set_xlabel("用户占比 share of users")
    ax.set_xlim(0, max(1.0, float(left.max())))
    ax.set_title(f"{task}: 渠道依赖等级分布 users per channel tier")
    ax.legend(ncols=len(tiers), loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=9)
    return _save(fig, figures_dir, task, name)


def channel_reliability_chart(table: pd.DataFrame, task: str, figures_dir: Path) -> Figure:
    """Predicted channel-use probability against observed use, one curve per channel."""
    fig, (ax,) = _new(5.5, 4.6)
    for channel, group in table.groupby("channel", sort=True):
        group = group.sort_values("bin_mean_pred", kind="stable")
        ax.plot(group["bin_mean_pred"], group["bin_frac_pos"], marker="o", label=str(channel))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="预测概率 predicted", ylabel="实际使用率 observed", xlim=(0, 1), ylim=(0, 1))
    ax.set_title(f"{task}: 各渠道可靠性 reliability per channel")
    ax.legend(fontsize=8)
    return _save(fig, figures_dir, task, "channel-reliability")


def content_heatmap(scores: pd.DataFrame, task: str, figures_dir: Path) -> Figure:
    """Mean content-category score per user group (category x group heatmap)."""
    pivot = scores.pivot_table(index="group", columns="category", values="score", aggfunc="mean")
    fig, (ax,) = _new(0.9 * len(pivot.columns) + 3.0, 0.5 * len(pivot) + 2.0)
    image = ax.imshow(pivot.to_numpy(dtype=float), cmap="YlOrRd", aspect="auto")
    ax.set_xticks(range(len(pivot.columns)), [str(c) for c in pivot.columns])
    ax.set_yticks(range(len(pivot.index)), [str(i) for i in pivot.index])
    for i in range(pivot.shape[0]):
        for j in range(pivot.shape[1]):
            value = pivot.iat[i, j]
            if pd.notna(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
    ax.set_xlabel("内容类别 content category")
    ax.set_ylabel("用户群 user group")
    ax.set_title(f"{task}: 内容偏好 content preference by group")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _save(fig, figures_dir, task, "content-heatmap")
