"""The behaviour features as ONE Ibis expression: every family left-joined to the subscribers' on user_id.

`build_behaviour_features` runs each family as its own query and aligns them in pandas, which suits
DuckDB in process. On Spark that means one job per family and a join on the driver; this expression
is planned and run by the backend as a whole (Spark co-partitions the families by user_id) and can be
written by it directly (`con.to_parquet`), so no feature row passes through the driver.

The values equal `build_behaviour_features`: users without a row in an event family get the family's
fill value (0 unless it says otherwise), counts and flags are int64, everything else float64. The
subscriber columns keep their missing values (NULL; NaN once in pandas). Rows are not sorted.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from src.features.behaviour import ID, Step, integer_columns


def joined_features(steps: list[tuple[str, Step]]) -> ir.Table:
    """One row per subscriber with every family's columns, in column order (steps of `feature_families`)."""
    families = [step() for _, step in steps]
    base, _ = families[0]
    joined, columns = base, [ID]
    columns += [_typed(base[name], name in integer_columns(base)).name(name) for name in _features(base)]
    for number, (family, fill) in enumerate(families[1:], start=1):
        key = f"{ID}__{number}"  # each family's own key, so the chained joins never collide
        names, integers = _features(family), integer_columns(family)
        family = family.rename({key: ID})
        joined = joined.left_join(family, joined[ID] == family[key])
        for name in names:
            value = family[name].coalesce(ibis.literal(fill.get(name, 0)))
            columns.append(_typed(value, name in integers).name(name))
    return joined.select(*[joined[c] if isinstance(c, str) else c for c in columns])


def _features(family: ir.Table) -> list[str]:
    """A family's feature columns (all but user_id)."""
    return [name for name in family.columns if name != ID]


def _typed(value: ir.Value, is_count: bool) -> ir.Value:
    """int64 for counts and flags, float64 otherwise."""
    return value.cast("int64" if is_count else "float64")
