"""`devops db copy` for the LangGraph checkpoints: a laptop's graph.db (SqliteSaver) into the team
database (PostgresSaver), so a run paused on the laptop is approved and resumed from any host.

The two savers store different formats (one pickled-msgpack row per checkpoint on SQLite; inline
values, per-version channel blobs and typed writes on PostgreSQL), so rows are not copied: each
checkpoint is read through SqliteSaver and written through PostgresSaver's own ``put`` and
``put_writes``. PostgresSaver upserts a checkpoint by (thread, namespace, id), keeps a blob
already stored for a (channel, version) and a write already stored for a (task, index); a
checkpoint already in the target is counted as already there and not written again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from skill.storage.manage import CopyCount


def copy_checkpoints(sqlite_path: str, url: str) -> list[CopyCount]:
    """Copy every checkpoint and pending write of ``sqlite_path`` into the database at ``url``."""
    import psycopg

    from skill.agent.graph import postgres_saver, sqlite_saver
    from skill.storage import postgres

    checkpoints = CopyCount(table="checkpoints")
    writes = CopyCount(table="checkpoint_writes")
    with sqlite_saver(sqlite_path) as source, postgres_saver(url) as target:
        # list() runs newest first; uuid6 checkpoint ids are time-ordered, so reversed every
        # parent is written before its children.
        for saved in reversed(list(source.list(None))):
            try:
                _copy_one(saved, target, checkpoints, writes)
            except psycopg.Error as exc:
                mapped = postgres.storage_error(url, "runs", exc)
                if mapped is None:
                    raise
                raise mapped from exc
    return [checkpoints, writes]


def _copy_one(saved: Any, target: Any, checkpoints: CopyCount, writes: CopyCount) -> None:
    there = target.get_tuple(saved.config)
    have = Counter(task for task, _, _ in there.pending_writes) if there else Counter()
    by_task: dict[str, list[tuple[str, Any]]] = {}
    for task, channel, value in saved.pending_writes:
        by_task.setdefault(task, []).append((channel, value))
    # The writes go first: once the checkpoint is there, a rerun after a failure in between
    # still finds the writes it lacks by their count per task and puts them again (a write
    # already stored under its (task, index) is kept, so nothing doubles). The task path is
    # not in SqliteSaver's public tuple; it only orders writes of parallel tasks.
    for task, task_writes in by_task.items():
        missing = max(len(task_writes) - have[task], 0)
        if missing:
            target.put_writes(saved.config, task_writes, task)
        writes.copied += missing
        writes.already_there += len(task_writes) - missing
    if there is not None:
        checkpoints.already_there += 1
        return
    configurable = saved.config["configurable"]
    parent = saved.parent_config or {
        "configurable": {
            "thread_id": configurable["thread_id"],
            "checkpoint_ns": configurable["checkpoint_ns"],
        }
    }
    # Every channel version as "new": PostgresSaver writes a blob only for the versions it is
    # told are new, and on the target none is there yet.
    target.put(parent, saved.checkpoint, saved.metadata, dict(saved.checkpoint["channel_versions"]))
    checkpoints.copied += 1
