"""Write reports/timings.md: wall time per reproduction stage and per task x model run.

`python -m src.reports.timings [hydra overrides]` (the last step of `make reproduce`). Stages come from
the tab-separated file that the Makefile appends to (`name<TAB>start<TAB>end`, epoch seconds) and the
install time from the setup stamp; runs come from the MLflow store: the newest FINISHED run of each
model of every (task, dataset) pair, timed by its start and end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from src.config import compose
from src.io_atomic import atomic_output
from src.reports.runs import latest_runs
from src.reports.store import pairs_with_runs

STAGES_FILE = Path("outputs/timings/stages.tsv")  # relative to the project root
INSTALL_FILE = Path(".venv/.install_times")  # start<TAB>end of the last `make setup` install
RUN_COLUMNS = ["task", "dataset", "model", "seconds"]


def read_stages(path: Path) -> pd.DataFrame:
    """Stages as (stage, seconds) in the order they ran; empty when the file is missing."""
    if not path.is_file():
        return pd.DataFrame(columns=["stage", "seconds"])
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"{path} line {number}: expected name<TAB>start<TAB>end, got {line!r}")
        name, start, end = parts
        rows.append({"stage": name, "seconds": float(end) - float(start)})
    return pd.DataFrame(rows, columns=["stage", "seconds"])


def read_install(path: Path) -> float | None:
    """Seconds the last install took (`make setup` writes start<TAB>end), or None if it was not measured."""
    if not path.is_file():
        return None
    start, end = path.read_text(encoding="utf-8").split()
    return float(end) - float(start)


def run_times(cfg: DictConfig) -> pd.DataFrame:
    """One row per pair x model: the newest finished run's wall time (end - start), slowest first."""
    rows = []
    for pair in pairs_with_runs(cfg):
        runs = latest_runs(cfg, pair.task, pair.dataset)
        for _, run in runs.iterrows():
            seconds = (pd.Timestamp(run["end_time"]) - pd.Timestamp(run["start_time"])).total_seconds()
            model = run["tags.model"]
            rows.append({"task": pair.task, "dataset": pair.dataset, "model": model, "seconds": seconds})
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS)
    return frame.sort_values("seconds", ascending=False, kind="stable").reset_index(drop=True)


def clock(seconds: float) -> str:
    """'1 min 05 s' for a minute or more, else '4.2 s'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def render(stages: pd.DataFrame, install: float | None, runs: pd.DataFrame) -> str:
    """The Markdown page: stages with a total, then every run, slowest first."""
    lines = ["# Timings of the reproduction", "", "## Stages (wall time)", ""]
    lines += ["| stage | wall time |", "|---|---:|"]
    installed = clock(install) if install is not None else "not measured (already installed)"
    lines.append(f"| install | {installed} |")
    for _, stage in stages.iterrows():
        lines.append(f"| {stage['stage']} | {clock(stage['seconds'])} |")
    total = stages["seconds"].sum() if not stages.empty else 0.0
    lines += [f"| **total, install excluded** | **{clock(total)}** |", ""]
    lines += ["## Runs (MLflow start to end, newest finished run per task x model)", ""]
    lines += ["| task | dataset | model | wall time |", "|---|---|---|---:|"]
    for _, run in runs.iterrows():
        lines.append(f"| {run['task']} | {run['dataset']} | {run['model']} | {clock(run['seconds'])} |")
    lines += [f"| **sum of runs** | | | **{clock(runs['seconds'].sum())}** |", ""]
    return "\n".join(lines)


def write_timings(cfg: DictConfig, stages_file: Path, install_file: Path) -> Path:
    """Render the page from the stages file, the install stamp and the store; write it atomically."""
    root = Path(cfg.paths.root)
    page = render(read_stages(root / stages_file), read_install(root / install_file), run_times(cfg))
    output = Path(cfg.paths.reports_dir) / "timings.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(output) as partial:
        partial.write_text(page, encoding="utf-8")
    return output


def main(argv: list[str]) -> int:
    """Compose the config from the command line's overrides and write the page."""
    try:
        output = write_timings(compose(argv), STAGES_FILE, INSTALL_FILE)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
