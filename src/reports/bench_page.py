"""The benchmarks page's generated tables: each benchmark records its figures, `make bench` renders them.

A benchmark script ends with `record(name, figures)`: one JSON file per benchmark under
`benchmarks/results/` with the command line, the commit, the date, the core count and the load average
around the run. `python -m src.reports.bench_page` writes one table per recorded benchmark into
`docs/benchmarks.md` between its `<!-- bench:<name> -->` markers; `--check` only says which are stale.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from src.io_atomic import atomic_output
from src.paths import PROJECT_ROOT
from src.reports.readme import marked_block, with_table
from src.tracking import git_state

RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
PAGE = PROJECT_ROOT / "docs" / "benchmarks.md"
Figure = tuple[str, object]  # (what was measured, its value), a unit in the name: "wall s", "users/s"


def marker(name: str) -> str:
    """The page marker of one benchmark's table."""
    return f"bench:{name}"


def portable_argument(argument: str) -> str:
    """A command-line argument without machine paths: an absolute path (alone or after `=`) becomes
    relative to the checkout, or `<its last part>` outside it."""
    prefix, _, value = argument.rpartition("=") if "=" in argument else ("", "", argument)
    path = Path(value)
    if not path.is_absolute():
        return argument
    inside = path.is_relative_to(PROJECT_ROOT)
    shown = path.relative_to(PROJECT_ROOT).as_posix() if inside else f"<{path.name}>"
    return f"{prefix}={shown}" if prefix else shown


def record(name: str, figures: list[Figure], load_before: float, results_dir: Path = RESULTS_DIR) -> Path:
    """Write one benchmark's figures with the facts a reader needs to weigh them; returns the file."""
    script = str(Path(sys.argv[0]).resolve())
    arguments = [portable_argument(argument) for argument in (script, *sys.argv[1:])]
    result = {
        "name": name,
        "command": shlex.join(["python", *arguments]),
        "commit": git_state()["git_commit"][:8],
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "cores": os.cpu_count(),
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
        "figures": [[label, value] for label, value in figures],
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    target = results_dir / f"{name}.json"
    with atomic_output(target) as partial:
        partial.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target


def cell(value: object) -> str:
    """A figure as the page prints it: thousands separated, floats to 3 significant decimals at most."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"


def result_table(result: dict) -> str:
    """One benchmark's Markdown: the command and its conditions, then a figure | value table."""
    lines = [
        f"`{result['command']}` at `{result['commit']}` on {result['date']}, {result['cores']} cores, "
        f"load average {result['load_before']} before and {result['load_after']} after.",
        "",
        "| figure | value |",
        "|---|---:|",
        *(f"| {label} | {cell(value)} |" for label, value in result["figures"]),
    ]
    return "\n".join(lines)


def generated_tables(results_dir: Path = RESULTS_DIR) -> dict[str, str]:
    """marker -> table, for every recorded benchmark."""
    tables = {}
    for path in sorted(results_dir.glob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        tables[marker(result["name"])] = result_table(result)
    return tables


def stale_markers(page: Path = PAGE, results_dir: Path = RESULTS_DIR) -> list[str]:
    """Markers whose table on the page differs from the recorded results (missing markers included)."""
    text = page.read_text(encoding="utf-8")
    return [
        name
        for name, table in generated_tables(results_dir).items()
        if (block := marked_block(text, name)) is None or block.group(2) != table
    ]


def write_page(page: Path = PAGE, results_dir: Path = RESULTS_DIR) -> list[str]:
    """Rewrite the page's generated tables; returns the markers the page lacks (their tables are skipped)."""
    text = page.read_text(encoding="utf-8")
    tables = generated_tables(results_dir)
    missing = [name for name in tables if marked_block(text, name) is None]
    for name, table in tables.items():
        text = with_table(text, name, table)
    with atomic_output(page) as partial:
        partial.write_text(text, encoding="utf-8")
    return missing


def main(argv: list[str] | None = None) -> int:
    """CLI: write the tables (default) or, with --check, list the stale ones and exit 1."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--check"]:
        stale = stale_markers()
        for name in stale:
            print(f"error: {PAGE.relative_to(PROJECT_ROOT)}: the <!-- {name} --> table differs from "
                  f"benchmarks/results/; run `python -m src.reports.bench_page`")  # fmt: skip
        return 1 if stale else 0
    if args:
        print("error: usage: python -m src.reports.bench_page [--check]")
        return 2
    missing = write_page()
    for name in missing:
        print(f"error: {PAGE.relative_to(PROJECT_ROOT)} has no <!-- {name} --> markers; add them to show it")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
