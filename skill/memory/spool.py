"""The spool: a record the database could not take is kept in the data dir, stored on the next open."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from skill.errors import StorageError

SPOOL_NAME = "memory-spool.jsonl"


def spool_path(data_dir: Path) -> Path:
    return Path(data_dir) / SPOOL_NAME


def spool_dir_record(data_dir: Path, prepared: dict) -> Path:
    """Keep a prepared record in the data dir's spool when the database cannot take it."""
    path = spool_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(prepared, default=str) + "\n")
    return path


def spool(data_dir: Path, prepared: dict) -> None:
    """Best effort: the caller is already reporting the database failure."""
    try:
        spool_dir_record(data_dir, prepared)
    except OSError:
        pass


def replay(data_dir: Path, store: Callable[[list[dict]], object]) -> None:
    """Store what an earlier run spooled; on any failure it stays for the next run."""
    path = spool_path(data_dir)
    if not path.is_file():
        return
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(path) + ".lock", timeout=5):
            if not path.is_file():
                return
            items = []
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    continue
            if items:
                store(items)
            path.unlink()
    except (Timeout, StorageError, OSError):
        return
