"""Waiting for another process: poll a condition until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    what: str,
    timeout: float = 120,
    interval: float = 0.2,
    detail: Callable[[], str] | None = None,
) -> T:
    """The predicate's first truthy value; AssertionError naming ``what`` (and ``detail()``, e.g.
    a server's log tail) when it has none within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f"\n{detail()}" if detail else ""))
        time.sleep(interval)
