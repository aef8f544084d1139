"""Scan the MLflow store for absolute paths of this machine: `python -m src.audit` (ends `make reproduce`).

Searched: every run's params and tags, every registered model's and version's tags and description, and
every file under the artifact root (logged models, run artifacts, figures), read as bytes so pickles count.
Looked for: the machine's own locations (the project root, the home and temporary folders, the Python
environment, the working folder), bare or inside a URI. Not searched: the store's own bookkeeping of
where it lives (a run's `artifact_uri`, a version's `storage_location`), kept in MLflow's database.
Exit code 1 with one line per finding (the first 20) when anything is found.
"""

from __future__ import annotations

import logging
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from src import tracking
from src.config import compose
from src.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

SHOWN_FINDINGS = 20


@dataclass(frozen=True)
class Finding:
    """One machine path found: where (run/param, model/tag or file) and the text around it."""

    where: str
    excerpt: str


def machine_roots(store: Path, configured: Iterable[str] = ()) -> list[str]:
    """The absolute locations that identify this machine, longest first (so the most precise one is named).

    The folder holding the store counts too (a store made in another checkout names that checkout), and
    so do the `configured` folders: those `tracking.portable` replaces when a run logs them.
    """
    roots = {str(PROJECT_ROOT.resolve()), str(Path.home()), sys.prefix, tempfile.gettempdir()}
    roots |= {str(Path.cwd()), str(store.resolve().parent), *configured}
    return sorted((root for root in roots if root not in ("", "/")), key=len, reverse=True)


def path_pattern(roots: Iterable[str]) -> re.Pattern[str]:
    """Any of `roots` as a path of its own, not as the start of a longer name (`<root>-backup`)."""
    alternatives = "|".join(re.escape(root) for root in roots)
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w.-])")


def find_in_text(where: str, text: str, pattern: re.Pattern[str]) -> Iterator[Finding]:
    """Every match of `pattern` in `text`, with 40 characters of context."""
    for match in pattern.finditer(text):
        start = max(match.start() - 40, 0)
        yield Finding(where, text[start : match.end() + 40].replace("\n", " "))


def find_in_files(root: Path, pattern: re.Pattern[str]) -> tuple[int, list[Finding]]:
    """(files scanned, findings) for every file under `root`, bytes read as Latin-1 so binary files count."""
    files = sorted(path for path in root.rglob("*") if path.is_file())
    findings = [
        finding
        for path in files
        for finding in find_in_text(
            f"file {path.relative_to(root)}", path.read_bytes().decode("latin-1"), pattern
        )
    ]
    return len(files), findings


def find_in_runs(pattern: re.Pattern[str]) -> tuple[int, list[Finding]]:
    """(runs scanned, findings) over the params and tags of every run of every experiment."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient()
    experiments = client.search_experiments(view_type=ViewType.ALL)
    runs = [
        run
        for experiment in experiments
        for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    ]
    findings = [
        finding
        for run in runs
        for kind, values in (("param", run.data.params), ("tag", run.data.tags))
        for key, value in values.items()
        for finding in find_in_text(f"run {run.info.run_id} {kind} {key}", str(value), pattern)
    ]
    findings += [
        finding
        for experiment in experiments
        for key, value in experiment.tags.items()
        for finding in find_in_text(f"experiment {experiment.name} tag {key}", str(value), pattern)
    ]
    return len(runs), findings


def find_in_registry(pattern: re.Pattern[str]) -> list[Finding]:
    """Findings in the tags and descriptions of every registered model and model version."""
    from mlflow import MlflowClient

    client = MlflowClient()
    findings: list[Finding] = []
    for model in client.search_registered_models():
        texts = {"description": model.description or "", **model.tags}
        for version in client.search_model_versions(f"name = '{model.name}'"):
            texts |= {f"v{version.version} {key}": value for key, value in version.tags.items()}
            texts[f"v{version.version} description"] = version.description or ""
        for key, value in texts.items():
            findings += find_in_text(f"registered model {model.name} {key}", str(value), pattern)
    return findings


def audit(cfg: DictConfig) -> list[Finding]:
    """Every machine path in the store that `cfg` names; logs what was scanned."""
    tracking.configure_store(cfg)
    configured = [location for location, _ in tracking.machine_locations(cfg)]
    pattern = path_pattern(machine_roots(Path(cfg.paths.mlruns_dir), configured))
    runs, findings = find_in_runs(pattern)
    findings += find_in_registry(pattern)
    files, file_findings = find_in_files(Path(cfg.mlflow.artifact_root), pattern)
    findings += file_findings
    log.info(
        "audit: %d run(s) and %d artifact file(s) scanned, %d machine path(s) found",
        runs,
        files,
        len(findings),
    )
    return findings


def main(argv: list[str] | None = None) -> int:
    """Scan the project store (Hydra overrides as arguments); exit 1 when a machine path is found."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    findings = audit(compose(list(sys.argv[1:] if argv is None else argv)))
    for finding in findings[:SHOWN_FINDINGS]:
        print(f"error: machine path in {finding.where}: ...{finding.excerpt}...", file=sys.stderr)
    if len(findings) > SHOWN_FINDINGS:
        print(f"error: ... and {len(findings) - SHOWN_FINDINGS} more", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
