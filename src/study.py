"""The study's sweep (`+experiment=paper`) as parallel jobs, in stages that respect what a task reads.

`python -m src.study [--jobs N] [overrides...]` runs every task of conf/experiment/paper.yaml in two
sweeps of `python -m src.run -m +experiment=paper`: first the tasks that read no champion (tabular and
text tasks, `topic` among them), then the behaviour tasks, whose features label the titles subscribers
read with the `topic` champion (`features.titles.labeller: registry`). Within a stage, N jobs run at
once through Hydra's joblib launcher, each estimator on one thread (`n_jobs=1`), so N jobs use N cores.
Every job seeds itself as in a sequential sweep, so the metrics are the same.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from collections.abc import Sequence

from omegaconf import OmegaConf

from src.config import compose
from src.paths import CONF_DIR

log = logging.getLogger("src.study")

EXPERIMENT = "paper"
TOPIC_TASK = "topic"  # its champion labels the news titles the behaviour features count


def study_tasks(experiment: str = EXPERIMENT) -> list[str]:
    """The tasks an experiment config sweeps, in its order (`hydra.sweeper.params.task`)."""
    spec = OmegaConf.load(CONF_DIR / "experiment" / f"{experiment}.yaml")
    return [task.strip() for task in str(spec.hydra.sweeper.params.task).split(",") if task.strip()]


def reads_topic_champion(task: str, overrides: Sequence[str] = ()) -> bool:
    """True if the task's features label titles with the registered topic champion.

    Only `features.*` overrides can change that; the others (sweeps, hydra settings) are not composed.
    """
    features = [o for o in overrides if o.lstrip("+~").startswith("features.")]
    cfg = compose([f"task={task}", *features])
    titles = cfg.features.get("titles") or {}
    return cfg.features.kind == "behaviour" and titles.get("labeller") == "registry"


def sweep_stages(tasks: Sequence[str], overrides: Sequence[str] = ()) -> list[list[str]]:
    """[tasks that read no champion, tasks that read the topic champion] (one stage if topic is not swept)."""
    later = [task for task in tasks if task != TOPIC_TASK and reads_topic_champion(task, overrides)]
    first = [task for task in tasks if task not in later]
    if TOPIC_TASK not in first or not later:
        return [list(tasks)]
    return [first, later]


def sweep_command(tasks: Sequence[str], jobs: int, overrides: Sequence[str] = ()) -> list[str]:
    """`python -m src.run -m +experiment=paper task=<tasks>` with `jobs` parallel single-threaded jobs."""
    command = [sys.executable, "-m", "src.run", "-m", f"+experiment={EXPERIMENT}", f"task={','.join(tasks)}"]
    if jobs > 1:
        command += ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}", "n_jobs=1"]
    return command + list(overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the study's sweep stage by stage; stop at the first stage that fails (its exit code)."""
    parser = argparse.ArgumentParser(prog="python -m src.study", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="sweep jobs at once (1: one after another)")
    args, overrides = parser.parse_known_args(argv)
    if args.jobs < 1:
        print(f"error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    stages = sweep_stages(study_tasks(), overrides)
    for number, tasks in enumerate(stages, start=1):
        log.info("stage %d of %d: %s (%d job(s) at once)", number, len(stages), ", ".join(tasks), args.jobs)
        code = subprocess.call(sweep_command(tasks, args.jobs, overrides))
        if code != 0:
            names = ", ".join(tasks)
            print(f"error: the sweep of stage {number} ({names}) exited with {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
