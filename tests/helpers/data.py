"""Paths of the embedded data sets the tests read."""

from __future__ import annotations

from src.paths import PROJECT_ROOT

TELCO = PROJECT_ROOT / "data/raw/ibm_telco_customer_churn/Telco-Customer-Churn.csv"
