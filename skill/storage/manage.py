"""What `devops db` does: report where each store lives, migrate them, and copy a laptop's
embedded stores into the team database."""

from __future__ import annotations

import os

from pydantic import BaseModel

from skill.errors import UsageError
from skill.storage import backend_name, database_url, open_store
from skill.storage.schema import CopyTable
from skill.storage.stores import STORES, Store


class StoreStatus(BaseModel):
    store: str
    backend: str
    location: str
    version: int | None  # None: not created yet
    known: int


def _location(store: Store, backend: str) -> str:
    if backend == "postgres":
        from skill.storage.postgres import redact_url

        return redact_url(database_url() or "")
    return store.sqlite_path


def team_database() -> tuple[str, str] | None:
    """(redacted URL, server version) of the configured team database, or None when embedded.
    Connects, so a wrong URL, password or a server that is down fails here (StorageError)."""
    url = database_url()
    if not url:
        return None
    from skill.storage import postgres

    return postgres.redact_url(url), postgres.server_version(url)


def status() -> list[StoreStatus]:
    team_database()
    out = []
    for store in STORES:
        schema = store.schema
        backend = backend_name(schema)
        version, known = None, schema.version
        own_status = store.hook("sqlite_status")
        if backend == "postgres":
            from skill.storage import postgres

            version, _ = postgres.schema_status(database_url() or "", schema)
        elif own_status is not None:
            version, known = own_status(store.sqlite_path)
        elif os.path.isfile(store.sqlite_path):
            from skill.storage import sqlite

            version, _ = sqlite.schema_status(store.sqlite_path, schema)
        out.append(
            StoreStatus(
                store=store.name,
                backend=backend,
                location=_location(store, backend),
                version=version,
                known=known,
            )
        )
    return out


def migrate_all() -> list[tuple[StoreStatus, int]]:
    """Bring every store to the version this code knows: (status before, version after)."""
    from skill.paths import ensure_data_dir

    before = status()
    ensure_data_dir()
    out = []
    for store, was in zip(STORES, before, strict=True):
        own_migrate = store.hook("sqlite_migrate")
        if was.backend == "sqlite" and own_migrate is not None:
            own_migrate(store.sqlite_path)
        else:
            open_store(store.schema, store.sqlite_path).close()
        after = store.hook("after_migrate")
        if after is not None:
            after()
        out.append((was, was.known))
    return out


class CopyCount(BaseModel):
    """What a store's own copier (``Store.also_copy``) moved of one table."""

    table: str
    copied: int = 0
    already_there: int = 0


class CopyResult(CopyCount):
    store: str


def copy_to(url: str) -> list[CopyResult]:
    """Copy this machine's SQLite stores into the PostgreSQL database at ``url``.

    Rows are matched by each table's key, so a rerun copies nothing twice and a row another
    machine wrote stays as it is. A store with its own copier (the audit chain) uses that; what
    another library or mechanism keeps in a store's file (LangGraph's checkpoints, memory.db's
    records) is moved by the store's ``also_copy``.
    """
    from skill.storage import postgres, sqlite

    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError("--to must be a postgresql:// URL", hint="or set DEVOPS_DATABASE_URL")
    out = []
    for store in STORES:
        schema = store.schema
        if not schema.team or not os.path.isfile(store.sqlite_path):
            continue
        if schema.copier is not None or schema.copy_tables:
            source = sqlite.open_store(store.sqlite_path, schema)
            target = postgres.open_store(url, schema)
            try:
                if schema.copier is not None:
                    copied = schema.copier(source, target)
                    out.append(CopyResult(store=store.name, table="*", copied=copied, already_there=0))
                for table in schema.copy_tables:
                    out.append(_copy_table(store.name, table, source, target))
            finally:
                source.close()
                target.close()
        also = store.hook("also_copy")
        if also is not None:
            out.extend(CopyResult(store=store.name, **n.model_dump()) for n in also(store.sqlite_path, url))
    return out


def _copy_table(store: str, table: CopyTable, source, target) -> CopyResult:
    rows = source.execute(f'SELECT * FROM "{table.name}"').fetchall()
    if not rows:
        return CopyResult(store=store, table=table.name, copied=0, already_there=0)
    columns = [c for c in rows[0].keys() if c not in table.generated]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    key = ", ".join(f'"{c}"' for c in table.key)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) ON CONFLICT ({key}) DO NOTHING'
    with target.transaction(lock=f"copy:{table.name}"):
        count = f'SELECT count(*) FROM "{table.name}"'
        before = target.execute(count).fetchone()[0]
        target.executemany(sql, ([row[c] for c in columns] for row in rows))
        copied = target.execute(count).fetchone()[0] - before
    return CopyResult(store=store, table=table.name, copied=copied, already_there=len(rows) - copied)
