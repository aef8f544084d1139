"""The project root and its folders, found from the package location (never the working directory)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parents[1]
CONF_DIR: Path = PROJECT_ROOT / "conf"
DATA_DIR: Path = PROJECT_ROOT / "data"
RAW_DIR: Path = DATA_DIR / "raw"
SIMULATED_DIR: Path = DATA_DIR / "simulated"
PROCESSED_DIR: Path = DATA_DIR / "processed"
CACHE_DIR: Path = PROJECT_ROOT / ".cache"
MLRUNS_DIR: Path = PROJECT_ROOT / "mlruns"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
