"""The SQLite system of record: opening, migrating, and turning SQLite failures into StorageError."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from skill.errors import StorageError


def busy_timeout() -> float:
    """Seconds a writer waits for another writer's lock before giving up (DEVOPS_MEMORY_BUSY_TIMEOUT)."""
    try:
        return float(os.environ.get("DEVOPS_MEMORY_BUSY_TIMEOUT", "30"))
    except ValueError:
        return 30.0


def storage_error(path: Path | str, exc: BaseException) -> StorageError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StorageError(
            f"memory database {path} is locked by another process ({text})",
            hint="retry later, or raise DEVOPS_MEMORY_BUSY_TIMEOUT",
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return StorageError(
            f"memory database {path} is corrupt ({text})",
            hint="move it aside and re-import an export (memory.py export / import)",
        )
    return StorageError(f"memory database {path}: {text}")


def open_db(path: Path):
    """Open (creating and migrating as needed) the memory database at ``path``."""
    import sqlite_utils

    from skill.memory.migrations import migrations

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout(), isolation_level=None, check_same_thread=False
        )
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
        if migrations.pending(db):
            # Concurrent first opens would race to create the same tables: one at a time.
            from filelock import FileLock

            with FileLock(str(path) + ".migrate.lock", timeout=max(busy_timeout(), 1.0)):
                if migrations.pending(db):
                    migrations.apply(db)
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise storage_error(path, exc) from exc
    except OSError as exc:
        raise StorageError(f"cannot open memory database {path}: {exc}") from exc
    except Exception as exc:  # filelock Timeout
        if type(exc).__name__ == "Timeout":
            raise StorageError(f"memory database {path} is being migrated by another process") from exc
        raise
    return db


_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _WS.sub(" ", text or "").strip()


def content_hash(text: str) -> str:
    """md5 of the whitespace-normalised, case-folded text (the dedup key, like llm and mem0)."""
    return hashlib.md5(normalize(text).casefold().encode("utf-8")).hexdigest()


def env_name(env: str | None) -> str | None:
    """The canonical name of an environment (``prod``, ``PRD`` -> ``production``), the gate's vocabulary."""
    from skill.environments import normalize

    if env is None or not str(env).strip():
        return None
    return normalize(str(env).strip())


def scope_of(kind: str, service: str | None) -> str:
    return f"{kind}|{(service or '').casefold()}"


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def loads(value: str | None, default: Any) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default
