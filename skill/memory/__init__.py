"""Operational memory: SQLite (system of record, FTS5) + chromadb (vector index), hybrid recall, triage.

``from skill.memory import Memory`` is cheap: the heavy parts (sqlite-utils, numpy,
onnxruntime, chromadb) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from skill.memory.models import (
        Deployment,
        Incident,
        MemoryRecord,
        RecallHit,
        RememberResult,
        TriageReport,
    )
    from skill.memory.service import Memory

__all__ = ["Memory", "MemoryRecord", "RecallHit", "RememberResult", "Deployment", "Incident", "TriageReport"]


def __getattr__(name: str) -> Any:
    if name == "Memory":
        from skill.memory.service import Memory

        return Memory
    if name in __all__:
        from skill.memory import models

        return getattr(models, name)
    raise AttributeError(name)
