"""The pip, uv and conda paths install the same pinned versions."""

from __future__ import annotations

import re
import tomllib

import yaml

from src.paths import PROJECT_ROOT


def _lock() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pyproject_pins_are_exact_and_match_the_lock():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock()
    extras = [pin for pins in project["optional-dependencies"].values() for pin in pins]
    assert {"dev", "spark"} <= set(project["optional-dependencies"])
    for requirement in project["dependencies"] + extras:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==([\w.]+)", requirement)
        assert match, f"{requirement} is not an exact pin"
        assert lock.get(_norm(match.group(1))) == match.group(3), f"{requirement} differs from the lock"


def test_environment_yml_uses_python_311_and_the_same_pins():
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-c requirements.lock" in pip_section
    assert any(line.startswith("-e .") for line in pip_section)
