"""Every store the package keeps, where its schema is declared and which SQLite file it uses.

`devops db`, `devops doctor` and `devops db copy` walk this list; a store appears here once it
declares a ``Schema``.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from skill.storage.schema import Schema


@dataclass(frozen=True)
class Store:
    name: str
    module: str  # declares SCHEMA
    file: str  # the SQLite file's stem in the data dir
    # A SQLite file versioned by another mechanism (memory.db: sqlite-utils migrations) names its
    # own "module:function" for status (path -> (version, known)) and for migrate (path -> None).
    sqlite_status: str | None = None
    sqlite_migrate: str | None = None
    # Tables another library owns in the store (LangGraph's checkpoints): created by migrate too.
    after_migrate: str | None = None
    # What `devops db copy` moves beyond the schema's tables, read through its owner's API (the
    # checkpoints through the two LangGraph savers, memory.db through memory's export and
    # import): "module:function" of (sqlite_path, url) ->
    # [skill.storage.manage.CopyCount], idempotent like the table copy.
    also_copy: str | None = None

    @property
    def schema(self) -> Schema:
        schema = getattr(importlib.import_module(self.module), "SCHEMA", None)
        if not isinstance(schema, Schema):
            raise TypeError(f"{self.module}.SCHEMA is not a skill.storage.Schema")
        return schema

    def hook(self, which: str):
        spec = getattr(self, which)
        if not spec:
            return None
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def sqlite_path(self) -> str:
        from skill.paths import data_dir

        return os.path.join(data_dir(), f"{self.file}.db")


STORES: tuple[Store, ...] = (
    Store(
        "runs",
        "skill.agent.runs",
        "graph",
        after_migrate="skill.agent.graph:ensure_checkpoint_tables",
        also_copy="skill.agent.checkpoint_copy:copy_checkpoints",
    ),
    Store("inbox", "skill.webhooks.inbox", "inbox"),
    Store("flags", "skill.nodes.deploy.flags", "flags"),
    Store("audit", "skill.guardrails.audit_ship", "audit"),
    Store("approvals", "skill.guardrails.approvals", "approvals"),
    Store(
        "memory",
        "skill.memory.migrations",
        "memory",
        sqlite_status="skill.memory.store:sqlite_schema_status",
        sqlite_migrate="skill.memory.store:sqlite_migrate",
        also_copy="skill.memory.transfer:copy_to_team",
    ),
)


def by_file(stem: str) -> Store | None:
    return next((s for s in STORES if s.file == stem), None)
