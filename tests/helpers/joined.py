"""The joined behaviour-features expression and its inputs, for the DuckDB and the Spark tests."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd

from src.config import compose
from src.features.behaviour import feature_families
from src.features.behaviour_joined import joined_features
from src.features.behaviour_spec import FeatureSpec
from src.features.titles import title_labeller


def spec_and_labeller(tiny: Path):
    """The profile's feature spec and the lookup title labeller (the labelled build joins categories too)."""
    cfg = compose([f"input={tiny}", "output=-", "features.titles.labeller=lookup"], config_name="profile")
    return FeatureSpec.from_config(cfg.features.pipeline), title_labeller(cfg).label


def joined_rows(tables: Path, spec: FeatureSpec, labeller, con: ibis.BaseBackend) -> pd.DataFrame:
    """The joined expression's rows, sorted by user_id."""
    with feature_families(tables, spec, labeller, con=con) as steps:
        frame = joined_features(steps).to_pandas()
    return frame.sort_values("user_id", ignore_index=True)
