"""What the behaviour features compute: window, hour bands and the ASCII names of categorical values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from src.errors import ConfigError
from src.paths import CONF_DIR

SPEC_FILE = CONF_DIR / "features" / "behaviour.yaml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Mappings whose values become column-name suffixes (raw value in the table -> ASCII suffix).
_NAME_MAPS = ("roaming_types", "categories", "sp_services", "purposes", "plans")


@dataclass(frozen=True)
class FeatureSpec:
    """Settings of `build_behaviour_features`; part of the cache key, so every field changes the output."""

    hour_bands: dict[str, list[int]]  # band -> hours of day (0-23) of the call start
    roaming_types: dict[str, str]  # calls.roaming_type value -> suffix of roam_share_<suffix>
    categories: dict[str, str]  # content category -> suffix of read_<suffix>, sp_cat_<suffix>
    sp_services: dict[str, str]  # sp_orders.service -> suffix of sp_<suffix>
    channels: list[str]  # channel_contacts.channel values (already ASCII codes)
    purposes: dict[str, str]  # channel_contacts.purpose -> suffix of purpose_<suffix>
    plans: dict[str, str]  # subscribers.plan -> suffix of plan_<suffix>
    window_days: int = 30
    reference_date: str | None = None  # window end (exclusive); None = day after the latest call
    bill_months: int = 3  # monthly bills starting in the window end's month and the months before
    complaint_purpose: str = "投诉"
    female_value: str = "女"
    home_province: str = "广东"
    home_roaming_type: str = "本地"  # calls.roaming_type at home; calls of any other type mark trip cells

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ConfigError(f"features.pipeline.window_days must be >= 1, got {self.window_days}")
        if self.bill_months < 1:
            raise ConfigError(f"features.pipeline.bill_months must be >= 1, got {self.bill_months}")
        if self.reference_date is not None:
            try:
                dt.datetime.fromisoformat(self.reference_date)
            except ValueError as err:
                raise ConfigError(
                    f"features.pipeline.reference_date '{self.reference_date}' is not an ISO date "
                    "(use e.g. 2011-03-31, or null for the day after the latest call)"
                ) from err
        for band, hours in self.hour_bands.items():
            _check_name("hour_bands", band)
            bad = [h for h in hours if not isinstance(h, int) or not 0 <= h <= 23]
            if bad:
                raise ConfigError(f"features.pipeline.hour_bands.{band}: hours {bad} are not in 0..23")
        for field in _NAME_MAPS:
            mapping: dict[str, str] = getattr(self, field)
            for suffix in mapping.values():
                _check_name(field, suffix)
            if len(set(mapping.values())) != len(mapping):
                raise ConfigError(f"features.pipeline.{field}: two values share one column suffix")
        for channel in self.channels:
            _check_name("channels", channel)
        if self.home_roaming_type not in self.roaming_types:
            raise ConfigError(
                f"features.pipeline.home_roaming_type '{self.home_roaming_type}' "
                "is not a key of roaming_types"
            )
        if self.complaint_purpose not in self.purposes:
            raise ConfigError(
                f"features.pipeline.complaint_purpose '{self.complaint_purpose}' is not a key of purposes"
            )

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | DictConfig) -> FeatureSpec:
        """Build from a config mapping (e.g. `cfg.features.pipeline`); unknown keys are errors."""
        raw = OmegaConf.to_container(config, resolve=True) if isinstance(config, DictConfig) else dict(config)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"features.pipeline has unknown key(s) {unknown}; known: {sorted(known)}")
        missing = sorted(
            f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.name not in raw
        )
        if missing:
            raise ConfigError(f"features.pipeline lacks key(s) {missing}")
        return cls(**raw)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), used in the cache key."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, ensure_ascii=False)


def default_spec(path: Path = SPEC_FILE, **overrides: Any) -> FeatureSpec:
    """The spec under `pipeline:` in conf/features/behaviour.yaml, with keyword overrides."""
    pipeline = OmegaConf.load(path)["pipeline"]
    return FeatureSpec.from_config({**OmegaConf.to_container(pipeline, resolve=True), **overrides})


def _check_name(field: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"features.pipeline.{field}: '{name}' is not an ASCII snake_case column suffix (e.g. news)"
        )
