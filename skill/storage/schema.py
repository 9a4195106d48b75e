"""What a store declares about itself: its name, named migrations per SQL dialect, and how its
rows are copied from a laptop's SQLite file into the team database.

Stdlib only: the gate's audit and approvals declare their schema on the hook path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A migration step is an SQL script, or a function of the open connection (either backend).
Step = str | Callable[[Any], None]


@dataclass(frozen=True)
class Migration:
    name: str
    sqlite: Step
    # None: the SQLite script is valid PostgreSQL too (most DDL of ours is).
    postgres: Step | None = None

    def step_for(self, backend: str) -> Step:
        if backend == "postgres" and self.postgres is not None:
            return self.postgres
        return self.sqlite


@dataclass(frozen=True)
class CopyTable:
    """One table `devops db copy` moves, in order (parents before children).

    ``key``: the columns that identify a row across machines; the copy skips a row whose key is
    already there, which makes a rerun a no-op. ``generated``: columns the target assigns itself
    (a serial id), left out of the insert.
    """

    name: str
    key: tuple[str, ...]
    generated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    store: str
    migrations: tuple[Migration, ...]
    # True once every statement of the store is portable: then DEVOPS_DATABASE_URL moves it to
    # PostgreSQL. A store not yet ported keeps its SQLite file even in team mode.
    team: bool = False
    copy_tables: tuple[CopyTable, ...] = ()
    # A store whose rows cannot be copied verbatim (the audit re-chains its hashes) brings its
    # own copier: f(source_connection, target_connection) -> rows copied.
    copier: Callable[[Any, Any], int] | None = field(default=None, compare=False)

    @property
    def version(self) -> int:
        return len(self.migrations)
