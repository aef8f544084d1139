"""Check a simulated population against its manifest before anything reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from src.data.checksums import sha256_cached
from src.data.layout import table_files
from src.errors import ProfilingError
from src.paths import CONF_DIR, PROJECT_ROOT

MANIFEST = "manifest.json"


class IncompletePopulation(ProfilingError):
    """A population folder whose files do not match its manifest (or that has none)."""


def verify_population(folder: Path, *, require_manifest: bool = True) -> dict[str, Any] | None:
    """The folder's manifest, once every file it lists is present with its size and SHA-256.

    Sizes are checked on every call, checksums once per process for each file version. Without a
    manifest the folder is refused, or accepted as a user's own export (None) if not `require_manifest`.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        if not require_manifest:
            return None
        raise _incomplete(folder, f"no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        checksums: dict[str, str] = manifest["files_sha256"]
    except (ValueError, KeyError, TypeError):
        raise _incomplete(folder, f"{MANIFEST} is not readable") from None
    sizes: dict[str, int] = manifest.get("files_bytes", {})
    for name, expected in checksums.items():
        file = folder / name
        if not file.is_file():
            raise _incomplete(folder, f"{name} is missing")
        if name in sizes and file.stat().st_size != sizes[name]:
            raise _incomplete(
                folder, f"{name} has {file.stat().st_size} bytes, the manifest says {sizes[name]}"
            )
        if sha256_cached(file) != expected:
            raise _incomplete(folder, f"{name} differs from the manifest's SHA-256")
    unlisted = [name for name in _part_names(folder) if name not in checksums]
    if unlisted:  # a part the manifest does not list would add rows unchecked
        raise _incomplete(folder, f"{unlisted[0]} is not in the manifest")
    return manifest


def _part_names(folder: Path) -> list[str]:
    """Every part file of the partitioned tables in `folder`, as a path inside it."""
    tables = sorted(path for path in folder.glob("*.parquet") if path.is_dir())
    return [part.relative_to(folder).as_posix() for table in tables for part in table_files(table)]


def rerun_command(folder: Path) -> str:
    """The simulator command that rebuilds `folder`."""
    folder = Path(folder)
    args = ["python -m src.data.simulate"]
    if (CONF_DIR / "simulate" / f"{folder.name}.yaml").is_file():
        args.append(f"simulate={folder.name}")
    else:
        args.append(f"simulate.name={folder.name}")
    if folder.parent.resolve() != (PROJECT_ROOT / "data" / "simulated").resolve():
        args.append(f"paths.simulated_dir={display_path(folder.parent)}")
    return " ".join(args)


def display_path(path: Path) -> str:
    """`path` relative to the project root when inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _incomplete(folder: Path, reason: str) -> IncompletePopulation:
    """The one-line error for a population that cannot be trusted."""
    return IncompletePopulation(
        f"incomplete population at {display_path(folder)} ({reason}): rerun `{rerun_command(folder)}`"
    )
