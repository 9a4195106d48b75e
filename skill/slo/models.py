"""The SLO model every spec format is read into, and the windows derived from it."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from skill.durations import parse_duration
from skill.errors import UsageError

# {{.window}} (Sloth), {{window}} or {{ .window }}: where each rule puts its rate window
WINDOW_RX = re.compile(r"\{\{\s*\.?window\s*\}\}")
NAME_RX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def window_seconds(text: str) -> int:
    try:
        seconds = int(parse_duration(text).total_seconds())
    except UsageError as exc:
        raise ValueError(str(exc)) from exc
    if seconds <= 0:
        raise ValueError(f"window {text!r} must be positive")
    return seconds


def promql_duration(seconds: int) -> str:
    """The shortest PromQL spelling of a whole number of seconds (86400 -> 1d)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class SLI(BaseModel):
    """Events as rates over ``{{.window}}``: errors/total, good/total, or a ready error ratio."""

    model_config = ConfigDict(extra="forbid")

    errors: str | None = None
    good: str | None = None
    total: str | None = None
    error_ratio: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> SLI:
        if self.error_ratio:
            if self.errors or self.good or self.total:
                raise ValueError("give either error_ratio or errors/good with total, not both")
        elif not self.total or bool(self.errors) == bool(self.good):
            raise ValueError("an SLI needs total and exactly one of errors or good (or an error_ratio)")
        for name in ("errors", "good", "total", "error_ratio"):
            query = getattr(self, name)
            if query is not None and not WINDOW_RX.search(query):
                raise ValueError(f"the {name} query has no {{{{.window}}}} placeholder for the rate window")
        return self

    def error_ratio_query(self, window: str) -> str:
        """PromQL for the error ratio over ``window`` (a PromQL duration)."""

        def fill(query: str) -> str:
            return WINDOW_RX.sub(window, query.strip())

        if self.error_ratio:
            return f"({fill(self.error_ratio)})"
        if self.errors:
            return f"({fill(self.errors)})\n/\n({fill(self.total)})"
        return f"1 - (({fill(self.good)})\n/\n({fill(self.total)}))"


class Alerting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    page_labels: dict[str, str] = Field(default_factory=dict)
    ticket_labels: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False


class SLO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str
    name: str
    objective: float = Field(description="percent of good events, e.g. 99.9")
    window: str = "30d"
    description: str = ""
    sli: SLI
    labels: dict[str, str] = Field(default_factory=dict)
    alerting: Alerting = Field(default_factory=Alerting)
    source: str = ""  # file the SLO came from, for messages

    @field_validator("service", "name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RX.match(value or ""):
            raise ValueError(f"{value!r} is not a valid name (letters, digits, _ . -)")
        return value

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: float) -> float:
        if not 0 < value < 100:
            raise ValueError(f"objective {value} must be a percentage between 0 and 100 (e.g. 99.9)")
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        seconds = window_seconds(value)
        if not 86400 <= seconds <= 400 * 86400:
            raise ValueError(f"window {value!r} must be between 1d and 400d (28d and 30d are usual)")
        return promql_duration(seconds)

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def budget(self) -> float:
        """The error budget as a ratio of events (99.9% -> 0.001)."""
        return round(1 - self.objective / 100, 12)

    @property
    def window_seconds(self) -> int:
        return window_seconds(self.window)

    def rule_labels(self) -> dict[str, str]:
        """Labels on every recorded series and alert of this SLO."""
        return {**self.labels, "slo_id": self.id, "slo_service": self.service, "slo_name": self.name}
