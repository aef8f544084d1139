"""Typed schemas of the settings each entry point needs, checked before any work starts.

`check_settings(cfg, Schema)` reads only the keys a schema declares (other keys pass through) and
turns the first bad type, range or missing key into a `ConfigError` whose one line names the key,
the value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from src.errors import ConfigError

Seed = Annotated[int, Field(ge=0, description="a whole number >= 0")]
Count = Annotated[int, Field(ge=1, description="a whole number >= 1")]
Fraction = Annotated[float, Field(gt=0, lt=1, description="a number between 0 and 1, both excluded")]


class Schema(BaseModel):
    """A config group: declared keys are typed and checked, others are left alone."""

    model_config = ConfigDict(extra="ignore", strict=False, frozen=True)


class Evaluation(Schema):
    """`evaluation`: validation and test shares of the rows, bootstrap settings."""

    val_size: Fraction
    test_size: Fraction
    n_bootstrap: Count
    ci_level: Fraction
    refit_on_train_val: bool

    @model_validator(mode="after")
    def _leaves_training_rows(self) -> Self:
        """Validation and test together must leave rows to train on."""
        if self.val_size + self.test_size >= 1:
            raise ValueError(
                f"evaluation.val_size={self.val_size} with evaluation.test_size={self.test_size} "
                "leaves no rows to train on: their sum must be below 1"
            )
        return self


class Simulate(Schema):
    """`simulate`: population size, history and how it is generated and written."""

    name: Annotated[str, Field(min_length=1, description="a folder name")]
    n_users: Count
    days: Count
    block_size: Count
    chunk_size: Count
    workers: Count
    row_group_size: Count
    partitioned: bool = False


class Mlflow(Schema):
    """`mlflow`: the run set a run belongs to and the registration policy."""

    run_set: Annotated[
        str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="a tag such as study or adhoc")
    ]
    registration: Annotated[
        Literal["auto", "study", "always", "never"],
        Field(alias="register", description="one of auto, study, always, never"),
    ]


class RunSettings(Schema):
    """`python -m src.run`."""

    seed: Seed
    n_jobs: Count
    evaluation: Evaluation
    mlflow: Mlflow


class SimulationSettings(Schema):
    """`python -m src.data.simulate`."""

    seed: Seed
    simulate: Simulate


class ProfileSettings(Schema):
    """`python -m src.profile`: input folder, output file, chunk size."""

    seed: Seed
    input: Annotated[str, Field(min_length=1, description="a folder with the warehouse tables")]
    output: Annotated[str, Field(min_length=1, description="a Parquet file, e.g. outputs/profile.parquet")]
    chunk_users: Count

    @model_validator(mode="after")
    def _output_is_a_file(self) -> Self:
        """Refuse an output that is an existing folder before scoring anything."""
        if Path(self.output).is_dir():
            raise ValueError(
                f"output={self.output} is an existing folder: give the Parquet file to write, "
                f"e.g. output={Path(self.output) / 'profile.parquet'}"
            )
        return self


def check_settings(cfg: DictConfig, schema: type[Schema]) -> Schema:
    """The validated settings of `schema` from `cfg`; the first problem raises a one-line ConfigError."""
    values = _values(cfg, schema, "")
    try:
        return schema.model_validate(values)
    except ValidationError as err:
        raise ConfigError(describe(err.errors()[0], schema)) from None


def describe(error: Any, schema: type[Schema]) -> str:
    """One line: the key, the value given and what is allowed."""
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    allowed = _allowed(schema, error["loc"])
    if error["type"] == "missing":
        return f"{key} is missing: set it to {allowed}"
    return f"{key}={error['input']!r} is not allowed: {_lower_first(error['msg'])}; use {allowed}"


def _values(node: DictConfig, schema: type[Schema], prefix: str) -> dict[str, Any]:
    """The schema's keys read from `node` (absent, `???` or null keys left out: reported as missing)."""
    values: dict[str, Any] = {}
    for field_name, field in schema.model_fields.items():
        name = field.alias or field_name  # the key as the config spells it
        if name not in node or OmegaConf.is_missing(node, name):
            continue
        sub = _schema_of(field)
        try:
            value = node[name]
            if OmegaConf.is_config(value) and sub is None:
                value = OmegaConf.to_container(value, resolve=True)
        except OmegaConfBaseException as err:
            raise ConfigError(f"{prefix}{name} cannot be read: {_first_line(err)}") from None
        if value is None:
            continue
        nested = sub is not None and isinstance(value, DictConfig)
        values[name] = _values(value, sub, f"{prefix}{name}.") if nested else value
    return values


def _schema_of(field: FieldInfo) -> type[Schema] | None:
    """The nested schema of a field, if it is a config group."""
    kind = field.annotation
    return kind if isinstance(kind, type) and issubclass(kind, Schema) else None


def _allowed(schema: type[Schema], loc: tuple) -> str:
    """The description of the field at `loc` (what values it allows)."""
    field: FieldInfo | None = None
    current: type[Schema] | None = schema
    for part in loc:
        by_key = {f.alias or n: f for n, f in current.model_fields.items()} if current is not None else {}
        if part not in by_key:
            break
        field = by_key[part]
        current = _schema_of(field)
    if field is None:
        return "a valid value"
    if field.description:
        return field.description
    for meta in field.metadata:
        if getattr(meta, "description", None):
            return meta.description
    sub = _schema_of(field)
    if sub is not None:
        return f"a group of settings: {sub.__doc__}"
    return "true or false" if field.annotation is bool else f"a value of type {field.annotation}"


def _lower_first(text: str) -> str:
    """Pydantic's message as part of a sentence."""
    return text[:1].lower() + text[1:]


def _first_line(err: Exception) -> str:
    """The first line of an OmegaConf error message."""
    return str(err).strip().splitlines()[0]
