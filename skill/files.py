"""Writing output files safely.

Reports and exports are written to a temp file and renamed over the target, so a reader never
sees half a file and a crash leaves the old one. That rename must only ever replace a regular
file: renaming over ``/dev/null`` or a FIFO would replace the device itself (as root) or fail.
Anything that exists and is not a regular file is written in place instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import IO


def open_for_output(
    path: str | os.PathLike, write: Callable[[IO[str]], None], *, mode: int | None = None
) -> None:
    """Call ``write(fh)`` with a text handle whose content ends up at ``path``.

    A replaced regular file keeps its permission bits unless ``mode`` is given. Raises OSError
    (the caller turns it into a clean error); a failed write leaves no temp file.
    """
    path = os.fspath(path)
    try:
        current = os.stat(path).st_mode
    except FileNotFoundError:
        current = None
    if current is not None and not stat.S_ISREG(current):
        with open(path, "w", encoding="utf-8") as fh:
            write(fh)
        return
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            write(fh)
        if mode is not None or current is not None:
            os.chmod(tmp, mode if mode is not None else stat.S_IMODE(current))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str, *, mode: int | None = None) -> None:
    open_for_output(path, lambda fh: fh.write(text), mode=mode)
