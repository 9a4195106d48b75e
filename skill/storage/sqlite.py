"""The embedded backend: one SQLite file per store, WAL, one busy-timeout policy, migrations
counted in ``PRAGMA user_version``.

``PRAGMA user_version`` holds how many migrations have been applied, so a store knows its version
without a bookkeeping table, and refuses a file written by newer code (a downgrade would misread
it). Files made before versioning existed have version 0; their first migration is written with
``IF NOT EXISTS`` and so adopts them as they are.

Stdlib only: the gate's audit and approvals are opened on the hook path.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager

from skill.storage.schema import Schema

# Seconds a writer waits for another process's lock before the store reports "locked". The hook
# path cannot wait long (the audit spools instead), an approval is interactive, the rest are
# background or batch work. $DEVOPS_DB_TIMEOUT overrides every store (tests, slow disks).
BUSY_TIMEOUTS = {"audit": 2.0, "approvals": 5.0}
DEFAULT_BUSY_TIMEOUT = 30.0


class SqliteConnection(sqlite3.Connection):
    """sqlite3's own connection (no wrapper on the hot path) with the seam's two additions."""

    backend = "sqlite"

    @contextmanager
    def transaction(self, lock: str | None = None):
        """BEGIN IMMEDIATE (the write lock up front, so two writers queue instead of one failing
        at COMMIT); a savepoint when already inside one. ``lock`` is for PostgreSQL: SQLite's
        write lock already serialises every writer of the file."""
        if self.in_transaction:
            self.execute("SAVEPOINT nested")
            try:
                yield self
            except BaseException:
                self.execute("ROLLBACK TO nested")
                self.execute("RELEASE nested")
                raise
            self.execute("RELEASE nested")
            return
        self.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")


def busy_timeout(store: str) -> float:
    override = os.environ.get("DEVOPS_DB_TIMEOUT")
    if override:
        try:
            return max(0.0, float(override))
        except ValueError:
            from skill.errors import ConfigError

            raise ConfigError(f"$DEVOPS_DB_TIMEOUT must be a number of seconds, not {override!r}") from None
    return BUSY_TIMEOUTS.get(store, DEFAULT_BUSY_TIMEOUT)


_READY: set[tuple[str, str]] = set()  # (file, store) whose schema this process already checked


def open_store(
    path: str,
    schema: Schema,
    *,
    synchronous: str | None = None,
    check_same_thread: bool = True,
    row_factory=sqlite3.Row,
) -> SqliteConnection:
    """A connection to ``path`` in autocommit mode, WAL, with ``schema`` migrated to its version.

    StorageError (exit 5) names the file when it cannot be opened, is not a database, or was
    written by newer code.
    """
    try:
        conn = sqlite3.connect(
            path,
            timeout=busy_timeout(schema.store),
            isolation_level=None,
            check_same_thread=check_same_thread,
            factory=SqliteConnection,
        )
    except (sqlite3.Error, OSError) as exc:
        raise storage_error(schema.store, path, exc) from exc
    try:
        conn.row_factory = row_factory
        if synchronous:
            conn.execute(f"PRAGMA synchronous={synchronous}")
        key = (os.path.abspath(path), schema.store)
        if key not in _READY:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn, schema, path)
            _READY.add(key)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise storage_error(schema.store, path, exc) from exc
        raise
    return conn


def connect(path: str, store: str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A plain connection with the store's busy timeout (for files another library owns: the
    LangGraph checkpointer manages its own tables in graph.db)."""
    try:
        return sqlite3.connect(path, timeout=busy_timeout(store), check_same_thread=check_same_thread)
    except (sqlite3.Error, OSError) as exc:
        raise storage_error(store, path, exc) from exc


def migrate(conn: sqlite3.Connection, schema: Schema, path: str = "") -> int:
    """Apply the migrations ``conn`` has not seen yet, each in its own transaction; the new version."""
    version = _user_version(conn)
    refuse_newer(schema, version, path)
    while version < schema.version:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = _user_version(conn)  # another process may have migrated meanwhile
            refuse_newer(schema, version, path)
            if version < schema.version:
                step = schema.migrations[version].step_for("sqlite")
                if callable(step):
                    step(conn)
                else:
                    for statement in _statements(step):
                        conn.execute(statement)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version


def schema_status(path: str, schema: Schema) -> tuple[int, int]:
    """(the file's schema version, the version this code knows), read-only, for `devops doctor`."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=busy_timeout(schema.store))
    try:
        return _user_version(conn), schema.version
    finally:
        conn.close()


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_newer(schema: Schema, version: int, where: str) -> None:
    if version > schema.version:
        from skill.errors import StorageError

        raise StorageError(
            f"{where or 'the ' + schema.store + ' store'} has schema version {version}, newer than this "
            f"version of master-devops knows ({schema.version})",
            hint="upgrade master-devops; it will not read or change a newer store",
        )


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit our transaction).

    Pieces between semicolons are joined until SQLite calls them complete, so a semicolon inside
    a string literal or a trigger body does not split a statement.
    """
    out, buf = [], ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \t\n;"):
                out.append(buf.strip())
            buf = ""
    return out


def storage_error(store: str, path: str, exc: BaseException):
    from skill.errors import StorageError

    text = str(exc)
    hint = None
    if "not a database" in text or "malformed" in text:
        hint = f"the file is damaged: move {path} aside (the store starts empty) or restore it from a backup"
    elif "locked" in text:
        hint = "another process holds it; retry, or raise $DEVOPS_DB_TIMEOUT"
    return StorageError(f"cannot open the {store} store {path}: {text}", hint=hint)
