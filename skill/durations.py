"""Human durations and times: ``30m``, ``24h``, ``7d``, ``1h30m``, ISO-8601 timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from skill.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """``"30m"`` -> 30 minutes. A bare number means seconds. Raises UsageError on junk."""
    raw = (text or "").strip()
    if not raw:
        raise UsageError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return _bounded(text, float(raw))
    pos, total = 0, 0.0
    for match in _PART.finditer(raw):
        if raw[pos : match.start()].strip():
            break
        total += float(match.group(1)) * _UNITS[match.group(2).lower()]
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise UsageError(f"invalid duration {text!r}", hint="use e.g. 30m, 24h, 7d, 1h30m")
    return _bounded(text, total)


def _bounded(text: str, seconds: float) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # timedelta stops at 999999999 days
        raise UsageError(f"duration {text!r} is too long", hint="use e.g. 30m, 24h, 7d, 1h30m") from None


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time: an ISO-8601 timestamp, or a duration meaning "that long ago"."""
    raw = (text or "").strip()
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        ago = parse_duration(raw)
        try:
            return (now or utcnow()) - ago
        except OverflowError:  # before year 1
            raise UsageError(
                f"{text!r} reaches back before year 1", hint="use e.g. 24h, 7d or an ISO time"
            ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with seconds precision and a trailing Z."""
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
