"""Where the stores keep their rows: a SQLite file each (the embedded default), or one shared
PostgreSQL database when ``DEVOPS_DATABASE_URL`` (or ``[store] url`` in config.toml) is set.

A store declares a ``Schema`` (skill.storage.schema) and opens itself with ``open_store``; its
SQL uses ``?`` placeholders and portable statements, so one copy of every query serves both
backends. Stdlib only at import: the gate's stores are opened on the hook path, and psycopg is
imported only when a database URL is configured.
"""

from __future__ import annotations

import sqlite3

from skill.paths import database_url  # the rule lives with the other locations: the hook shares it
from skill.storage.schema import CopyTable, Migration, Schema
from skill.storage.sqlite import SqliteConnection, busy_timeout

__all__ = [
    "CopyTable",
    "Migration",
    "Schema",
    "SqliteConnection",
    "backend_name",
    "busy_timeout",
    "database_url",
    "open_store",
]


def backend_name(schema: Schema) -> str:
    """ "postgres" when ``schema``'s store lives in the team database, else "sqlite"."""
    return "postgres" if schema.team and database_url() else "sqlite"


def open_store(
    schema: Schema,
    sqlite_path: str,
    *,
    synchronous: str | None = None,
    check_same_thread: bool = True,
    row_factory=sqlite3.Row,
):
    """The store's connection, migrated to its version: PostgreSQL when a team database is
    configured and the store is ported (``schema.team``), else the SQLite file ``sqlite_path``.

    ``synchronous``/``check_same_thread`` are SQLite's; ``row_factory=None`` gives plain tuples
    on both backends. StorageError (exit 5) names the file or the redacted URL on failure.
    """
    url = database_url() if schema.team else None
    if url:
        from skill.storage import postgres

        return postgres.open_store(url, schema, named_rows=row_factory is not None)
    from skill.storage import sqlite

    return sqlite.open_store(
        sqlite_path,
        schema,
        synchronous=synchronous,
        check_same_thread=check_same_thread,
        row_factory=row_factory,
    )
