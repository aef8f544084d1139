"""Arrow schemas of the warehouse tables: written by the simulator, read by features and scoring."""

from __future__ import annotations

import pyarrow as pa

# the contact channels, named as in the labels table's next_<channel> columns
CHANNELS: tuple[str, ...] = ("store", "web", "sms", "kiosk", "hotline", "app")

# Whole seconds; Parquet has no seconds unit, so the files store TIMESTAMP(MILLIS) (values end in 000).
TS = pa.timestamp("ms")

SUBSCRIBERS = pa.schema(
    [
        ("user_id", pa.int64()),
        ("age", pa.int32()),
        ("gender", pa.string()),
        ("tenure_months", pa.int32()),
        ("plan", pa.string()),
        ("monthly_fee", pa.float64()),
        ("home_cell", pa.int64()),
        ("province", pa.string()),
        ("prepaid", pa.bool_()),
    ]
)
CALLS = pa.schema(
    [
        ("user_id", pa.int64()),
        ("start_ts", TS),
        ("duration_s", pa.int32()),
        ("cell_id", pa.int64()),
        ("peer_id", pa.int64()),
        ("direction", pa.string()),
        ("roaming_type", pa.string()),
        ("long_distance", pa.bool_()),
    ]
)
SMS = pa.schema([("user_id", pa.int64()), ("ts", TS), ("peer_id", pa.int64()), ("direction", pa.string())])
DATA_SESSIONS = pa.schema(
    [("user_id", pa.int64()), ("ts", TS), ("bytes", pa.int64()), ("cell_id", pa.int64())]
)
WEB_VISITS = pa.schema([("user_id", pa.int64()), ("ts", TS), ("title", pa.string())])
SP_ORDERS = pa.schema(
    [
        ("user_id", pa.int64()),
        ("ts", TS),
        ("service", pa.string()),
        ("category", pa.string()),
        ("fee", pa.float64()),
    ]
)
CHANNEL_CONTACTS = pa.schema(
    [
        ("user_id", pa.int64()),
        ("ts", TS),
        ("channel", pa.string()),
        ("purpose", pa.string()),
        ("text", pa.string()),
        ("resolved", pa.bool_()),
    ]
)
BILLS = pa.schema(
    [
        ("user_id", pa.int64()),
        ("month", pa.date32()),
        ("total_fee", pa.float64()),
        ("new_business_fee", pa.float64()),
    ]
)


def labels_schema(categories: tuple[str, ...], latent_names: tuple[str, ...]) -> pa.Schema:
    """Labels, true probabilities and the latent parameters behind the ceilings."""
    fields = [
        ("user_id", pa.int64()),
        ("occupation", pa.string()),
        ("occupation_observed", pa.bool_()),
        ("observed_occupation", pa.string()),
        *[(f"pref_{c}", pa.float64()) for c in categories],
        ("explicit_content", pa.bool_()),
        *[(f"next_{ch}", pa.int8()) for ch in CHANNELS],
        *[(f"p_next_{ch}", pa.float64()) for ch in CHANNELS],
        ("churned_next_period", pa.int8()),
        ("p_churn", pa.float64()),
        ("bayes_occupation", pa.string()),
        ("p_bayes_occupation", pa.float64()),
        ("bayes_observed_occupation", pa.string()),
        *[(f"bayes_p_next_{ch}", pa.float64()) for ch in CHANNELS],
        ("bayes_p_churn", pa.float64()),
        *[(f"bayes_top_{c}", pa.float64()) for c in categories],
        *[(f"bayes_pref_{c}", pa.float64()) for c in categories],
        ("latent_age", pa.float64()),
        ("latent_female", pa.bool_()),
        ("latent_nonlocal", pa.bool_()),
        ("latent_activity", pa.float64()),
        ("latent_dissatisfaction", pa.float64()),
        ("latent_decline", pa.float64()),
        ("latent_competitor_offer", pa.bool_()),
        *[(f"latent_{n}", pa.float64()) for n in latent_names],
    ]
    return pa.schema(fields)


TABLES: tuple[str, ...] = (
    "subscribers",
    "calls",
    "sms",
    "data_sessions",
    "web_visits",
    "sp_orders",
    "channel_contacts",
    "bills",
    "labels",
)
EVENT_SCHEMAS: dict[str, pa.Schema] = {
    "subscribers": SUBSCRIBERS,
    "calls": CALLS,
    "sms": SMS,
    "data_sessions": DATA_SESSIONS,
    "web_visits": WEB_VISITS,
    "sp_orders": SP_ORDERS,
    "channel_contacts": CHANNEL_CONTACTS,
    "bills": BILLS,
}
