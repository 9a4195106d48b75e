"""Feature flags: deploy dark, release by flag. State lives in ``flags.db`` in the data dir, or in
the team database when ``DEVOPS_DATABASE_URL`` is set.

The library stores; the caller gates (``feature_flag_toggle``): the CLI through
``check_gate``, the agent graph through its approval interrupt. Every change is kept in a
history table, so "who switched it and when" has an answer during an incident.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from contextlib import closing

from pydantic import BaseModel

from skill.durations import iso, utcnow
from skill.environments import normalize
from skill.errors import DevopsError, NotFoundError, StorageError, UsageError
from skill.paths import db_path
from skill.storage import CopyTable, Migration, Schema, open_store

log = logging.getLogger(__name__)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")
_M001_FLAGS = """
CREATE TABLE IF NOT EXISTS flags (
    name TEXT NOT NULL, env TEXT NOT NULL, enabled INTEGER NOT NULL,
    updated_at TEXT NOT NULL, updated_by TEXT,
    PRIMARY KEY (name, env)
);
CREATE TABLE IF NOT EXISTS flag_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, env TEXT NOT NULL,
    enabled INTEGER NOT NULL, previous INTEGER, at TEXT NOT NULL, by TEXT
);
"""

_M001_FLAGS_PG = _M001_FLAGS.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")

# A history row has no natural key (the same switch can happen twice in one second) and its id
# is a per-database serial: a random uid, set at insert and backfilled here, identifies it on
# every machine, so `devops db copy` moves the history without doubling it.
_M002_HISTORY_UID = """
ALTER TABLE flag_history ADD COLUMN uid TEXT;
UPDATE flag_history SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS flag_history_uid ON flag_history(uid);
"""
_M002_HISTORY_UID_PG = """
ALTER TABLE flag_history ADD COLUMN IF NOT EXISTS uid TEXT;
UPDATE flag_history SET uid = replace(gen_random_uuid()::text, '-', '') WHERE uid IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS flag_history_uid ON flag_history(uid);
"""

SCHEMA = Schema(
    "flags",
    (
        Migration("m001_flags_and_history", _M001_FLAGS, _M001_FLAGS_PG),
        Migration("m002_history_uid", _M002_HISTORY_UID, _M002_HISTORY_UID_PG),
    ),
    team=True,
    copy_tables=(
        CopyTable("flags", key=("name", "env")),
        CopyTable("flag_history", key=("uid",), generated=("id",)),
    ),
)


class FlagState(BaseModel):
    name: str
    env: str
    enabled: bool
    updated_at: str
    updated_by: str | None = None
    previous: bool | None = None


def parse_state(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("on", "true", "1", "enable", "enabled", "yes"):
        return True
    if lowered in ("off", "false", "0", "disable", "disabled", "no"):
        return False
    raise UsageError(f"invalid flag state {value!r}", hint="use on or off")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise UsageError(f"invalid flag name {name!r}", hint="letters, digits, _ . : - (up to 100)")
    return name


def _connect():
    # rows as tuples; in the team database when DEVOPS_DATABASE_URL is set
    return open_store(SCHEMA, db_path("flags"), row_factory=None)


def set_flag(
    name: str,
    state: str | bool,
    env: str,
    *,
    by: str | None = None,
    service: str | None = None,
    memory=None,
    remember: bool = True,
) -> FlagState:
    """Store ``name`` = on/off in ``env`` (not gated here: gate ``feature_flag_toggle`` first).

    The change is also remembered (a ``flag`` note, with ``service`` when given), so incident
    triage lists it among the recent changes of that service. A memory failure only warns:
    the flag itself is already switched.
    """
    from skill.nodes.deploy.settings import require_known_environment

    enabled = parse_state(state)
    environment = normalize(env) or env
    _check_name(name)
    require_known_environment(env)
    now = iso(utcnow())
    try:
        with closing(_connect()) as conn, conn.transaction():
            row = conn.execute(
                "SELECT enabled FROM flags WHERE name=? AND env=?", (name, environment)
            ).fetchone()
            previous = None if row is None else bool(row[0])
            conn.execute(
                "INSERT INTO flags(name, env, enabled, updated_at, updated_by) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name, env) DO UPDATE SET enabled=excluded.enabled, "
                "updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                (name, environment, int(enabled), now, by),
            )
            conn.execute(
                "INSERT INTO flag_history(uid, name, env, enabled, previous, at, by) VALUES (?,?,?,?,?,?,?)",
                (
                    uuid.uuid4().hex,
                    name,
                    environment,
                    int(enabled),
                    None if previous is None else int(previous),
                    now,
                    by,
                ),
            )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot write the flag store: {exc}") from exc
    result = FlagState(
        name=name, env=environment, enabled=enabled, updated_at=now, updated_by=by, previous=previous
    )
    if remember:
        _remember(result, service, memory)
    return result


def _remember(flag: FlagState, service: str | None, memory) -> None:
    was = "" if flag.previous is None else f" (was {'on' if flag.previous else 'off'})"
    text = f"[devops] Feature flag {flag.name} set {'on' if flag.enabled else 'off'} in {flag.env}{was}"
    if flag.updated_by:
        text += f" by {flag.updated_by}"
    try:
        if memory is None:
            from skill.memory import Memory

            with Memory.open() as mem:
                mem.remember(
                    text, kind="note", service=service, env=flag.env, tags=("flag", flag.name), source="flags"
                )
        else:
            memory.remember(
                text, kind="note", service=service, env=flag.env, tags=("flag", flag.name), source="flags"
            )
    except DevopsError as exc:
        log.warning("flag %s switched, but not remembered: %s", flag.name, exc)


def get_flag(name: str, env: str) -> FlagState:
    environment = normalize(env) or env
    with closing(_connect()) as conn:
        row = conn.execute(
            "SELECT name, env, enabled, updated_at, updated_by FROM flags WHERE name=? AND env=?",
            (_check_name(name), environment),
        ).fetchone()
    if row is None:
        raise NotFoundError(f"flag {name!r} is not set in {environment}")
    return FlagState(name=row[0], env=row[1], enabled=bool(row[2]), updated_at=row[3], updated_by=row[4])


def list_flags(env: str | None = None) -> list[FlagState]:
    sql, args = "SELECT name, env, enabled, updated_at, updated_by FROM flags", ()
    if env:
        sql, args = sql + " WHERE env=?", (normalize(env) or env,)
    with closing(_connect()) as conn:
        rows = conn.execute(sql + " ORDER BY name, env", args).fetchall()
    return [
        FlagState(name=r[0], env=r[1], enabled=bool(r[2]), updated_at=r[3], updated_by=r[4]) for r in rows
    ]


def flag_history(name: str, env: str | None = None, limit: int = 20) -> list[dict]:
    sql, args = (
        "SELECT name, env, enabled, previous, at, by FROM flag_history WHERE name=?",
        [_check_name(name)],
    )
    if env:
        sql += " AND env=?"
        args.append(normalize(env) or env)
    with closing(_connect()) as conn:
        # by time first: rows copied from a laptop get ids after the team's own
        rows = conn.execute(sql + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
    keys = ("name", "env", "enabled", "previous", "at", "by")
    return [dict(zip(keys, r, strict=True)) for r in rows]
