"""The team backend: every store in one PostgreSQL database (psycopg 3, the `team` extra).

Stores write their SQL once, with ``?`` placeholders and portable statements (ON CONFLICT,
RETURNING); this module translates placeholders and gives rows that read like sqlite3.Row
(``row["col"]`` and ``row[0]``). Versions live in ``devops_schema``, one row per store, and are
changed under an advisory lock so two processes starting at once migrate once.

Imported only when a database URL is configured: psycopg costs ~200 ms of CPU to import cold.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from skill.storage.schema import Schema
from skill.storage.sqlite import refuse_newer

CONNECT_TIMEOUT = 5  # seconds: a team database that does not answer is an error, not a hang

_VERSIONS_DDL = """
CREATE TABLE IF NOT EXISTS devops_schema (
    store TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    migration TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
_VERSIONS_LOCK = 0x646576_6F7073  # any fixed key: "devops"


class IntegrityError(sqlite3.IntegrityError):
    """A constraint violation on PostgreSQL, catchable as sqlite3.IntegrityError so a store's
    ``except`` reads the same on both backends."""


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the team extra is installed in tests
        from skill.errors import ConfigError

        raise ConfigError(
            "a PostgreSQL database URL is configured but psycopg is not installed",
            hint="pip install 'master-devops[team]'",
        ) from None
    _no_last_resort_logging()
    return psycopg


@lru_cache(maxsize=1)
def _no_last_resort_logging() -> None:
    """psycopg logs a failed pipeline's cleanup ("error ignored terminating Pipeline") through
    logging's last-resort handler: a second stderr line after the one error we raise. A
    NullHandler keeps it out of a CLI's output; an app that configures logging still gets it."""
    import logging

    logging.getLogger("psycopg").addHandler(logging.NullHandler())


def redact_url(url: str) -> str:
    """The URL without its secrets, for messages and `devops doctor`: the password of the user
    part and any ``password``/``sslpassword`` query parameter (libpq takes both)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = parts.query
    if "password" in query.lower():
        query = "&".join(
            f"{key}=***" if "password" in key.lower() else (f"{key}={value}" if sep else key)
            for key, sep, value in (item.partition("=") for item in query.split("&"))
        )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def unreachable(url: str, exc: BaseException):
    from skill.errors import StorageError

    text = _first_line(exc)
    hint = "check DEVOPS_DATABASE_URL ([store] url) and that the server is up; `devops doctor` tests it"
    if "password" in text or "authentication" in text:
        hint = "the user name or password in DEVOPS_DATABASE_URL is wrong"
    elif "does not exist" in text:
        hint = "create the database first (createdb), then `devops db migrate`"
    return StorageError(f"cannot reach the team database {redact_url(url)}: {text}", hint=hint)


def refused(url: str, store: str, exc: BaseException):
    """The role may not do this (a restricted application role, docs/team.md lists the grants)."""
    from skill.errors import StorageError

    return StorageError(
        f"the team database {redact_url(url)} refused the {store} store: {_first_line(exc)}",
        hint="grant this role the privileges docs/team.md lists for the store, or run it as the owner",
    )


def out_of_resources(url: str, store: str, exc: BaseException):
    """The server could not take the write (disk full, or another resource limit): the
    transaction rolled back, so nothing half-written is left, and a retry after the operator
    frees space succeeds."""
    from skill.errors import StorageError

    return StorageError(
        f"the team database {redact_url(url)} could not store the {store} store's write: {_first_line(exc)}",
        hint="the server is out of disk space (or another resource): free it and retry; "
        "the write was rolled back, nothing half-written is left",
    )


def _resources_exhausted(exc: BaseException) -> bool:
    # SQLSTATE class 53: disk full, out of memory, too many connections. psycopg files these
    # under OperationalError, but the server is there: "cannot reach" would mislead the operator.
    return str(getattr(exc, "sqlstate", None) or "").startswith("53")


def storage_error(url: str, store: str, exc: BaseException) -> BaseException | None:
    """The seam's error for a psycopg error, so every store reports a database fault alike, or
    None for an error that is a bug of ours (bad SQL), which keeps its traceback."""
    psycopg = _psycopg()
    if isinstance(exc, psycopg.errors.IntegrityError):
        return IntegrityError(_first_line(exc))
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return refused(url, store, exc)
    if _resources_exhausted(exc):
        return out_of_resources(url, store, exc)
    if isinstance(exc, psycopg.OperationalError):
        return unreachable(url, exc)
    return None


class Row(tuple):
    """A result row that reads like sqlite3.Row: by column name or by position."""

    def __new__(cls, values, index):
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self._index)


def _named_rows(cursor):
    if cursor.description is None:
        return tuple
    index = {column.name: i for i, column in enumerate(cursor.description)}
    return lambda values: Row(values, index)


def _plain_rows(cursor):
    return tuple


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%")


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """``?`` -> ``%s`` and a literal ``%`` -> ``%%``, outside quotes and comments."""

    def swap(match: re.Match) -> str:
        token = match.group(0)
        return {"?": "%s", "%": "%%"}.get(token, token)

    return _TOKENS.sub(swap, sql)


class PostgresConnection:
    """The seam's connection on PostgreSQL: autocommit, with explicit transactions."""

    backend = "postgres"

    def __init__(self, raw, url: str, store: str):
        self.raw = raw
        self.url = url
        self.store = store

    @contextmanager
    def _errors_mapped(self):
        psycopg = _psycopg()
        try:
            yield
        except psycopg.Error as exc:
            mapped = storage_error(self.url, self.store, exc)
            if mapped is None:
                raise
            raise mapped from exc

    def execute(self, sql: str, params=()):
        with self._errors_mapped():
            if params:
                return self.raw.execute(translate(sql), tuple(params))
            return self.raw.execute(sql)

    def executemany(self, sql: str, seq):
        with self._errors_mapped(), self.raw.cursor() as cur:
            cur.executemany(translate(sql), [tuple(p) for p in seq])
            return cur

    @contextmanager
    def transaction(self, lock: str | None = None):
        """A transaction (a savepoint when nested). ``lock`` names an advisory lock held until it
        ends, for writers that must queue as SQLite's BEGIN IMMEDIATE makes them (a hash chain)."""
        with self._errors_mapped(), self.raw.transaction():
            if lock:
                self.raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
            yield self

    def server_clock(self) -> float:
        """Now (epoch seconds) by the database server's clock: the one clock every host of a
        team agrees on, for what hosts compare (leases, approval lifetimes); their own differ."""
        return float(self.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()[0])

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != 0  # 0 = IDLE

    def commit(self) -> None:  # autocommit: nothing pending outside transaction()
        return None

    def close(self) -> None:
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect_raw(url: str, *, named_rows: bool = True):
    """A psycopg connection in autocommit mode, or StorageError naming the (redacted) URL."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            row_factory=_named_rows if named_rows else _plain_rows,
        )
    except psycopg.Error as exc:
        raise unreachable(url, exc) from exc


_READY: set[tuple[str, str]] = set()  # (url, store) whose schema this process already checked


def open_store(url: str, schema: Schema, *, named_rows: bool = True) -> PostgresConnection:
    conn = PostgresConnection(connect_raw(url, named_rows=named_rows), url, schema.store)
    try:
        if (url, schema.store) not in _READY:
            migrate(conn, schema)
            _READY.add((url, schema.store))
    except BaseException as exc:
        conn.close()
        psycopg = _psycopg()
        if isinstance(exc, psycopg.Error) and _resources_exhausted(exc):
            raise out_of_resources(url, schema.store, exc) from exc
        if isinstance(exc, psycopg.OperationalError):
            raise unreachable(url, exc) from exc
        if isinstance(exc, psycopg.Error):
            raise migration_error(url, schema.store, exc) from exc
        raise
    return conn


def migration_error(url: str, store: str, exc: BaseException):
    from skill.errors import StorageError

    hint = None
    if "permission denied" in str(exc) or "must be owner" in str(exc):
        hint = "this role may not change the schema: run `devops db migrate` as the database owner"
    return StorageError(
        f"cannot migrate the {store} store in {redact_url(url)}: {_first_line(exc)}", hint=hint
    )


def _version(conn: PostgresConnection, store: str) -> int | None:
    """The store's version, or None when ``devops_schema`` does not exist yet."""
    exists = conn.raw.execute("SELECT to_regclass('devops_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return None
    row = conn.raw.execute("SELECT version FROM devops_schema WHERE store = %s", (store,)).fetchone()
    return int(row[0]) if row else 0


def migrate(conn: PostgresConnection, schema: Schema) -> int:
    """Apply what is missing, each migration in its own transaction under the versions lock."""
    where = f"the {schema.store} store in {redact_url(conn.url)}"
    version = _version(conn, schema.store) or 0
    refuse_newer(schema, version, where)
    while version < schema.version:
        with conn.raw.transaction():
            conn.raw.execute("SELECT pg_advisory_xact_lock(%s)", (_VERSIONS_LOCK,))
            conn.raw.execute(_VERSIONS_DDL)
            version = _version(conn, schema.store) or 0  # another process may have migrated meanwhile
            refuse_newer(schema, version, where)
            if version < schema.version:
                migration = schema.migrations[version]
                step = migration.step_for("postgres")
                if callable(step):
                    step(conn)
                else:
                    conn.raw.execute(step)
                version += 1
                conn.raw.execute(
                    "INSERT INTO devops_schema (store, version, migration) VALUES (%s, %s, %s) "
                    "ON CONFLICT (store) DO UPDATE SET version = excluded.version, "
                    "migration = excluded.migration, applied_at = now()",
                    (schema.store, version, migration.name),
                )
    return version


def server_version(url: str) -> str:
    """The server's version ("15.18"): proves the URL, the password and the database are right."""
    raw = connect_raw(url, named_rows=False)
    try:
        return str(raw.execute("SHOW server_version").fetchone()[0]).split()[0]
    finally:
        raw.close()


def schema_status(url: str, schema: Schema) -> tuple[int, int]:
    conn = PostgresConnection(connect_raw(url), url, schema.store)
    try:
        return _version(conn, schema.store) or 0, schema.version
    finally:
        conn.close()
