"""The one way this project runs external tools (gh, glab, terraform, kubectl, helm, drivers).

Always a list of arguments (never a shell string), always a timeout, output captured, and a
clear error when the tool is missing. Tests put fake executables on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skill.errors import ToolFailedError, ToolMissingError


@dataclass
class ToolResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def which(tool: str, env: Mapping[str, str] | None = None) -> str | None:
    path = (env or os.environ).get("PATH")
    return shutil.which(tool, path=path)


def run_tool(
    args: Sequence[str],
    *,
    timeout: float = 60,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = False,
    install_hint: str | None = None,
) -> ToolResult:
    """Run ``args`` and return its output; raise ToolMissingError / ToolFailedError on failure.

    ``check=True`` turns a non-zero exit into ToolFailedError carrying the last stderr line.
    """
    args = [str(a) for a in args]
    full_env = {**os.environ, **env} if env else None
    exe = which(args[0], full_env)
    if exe is None:
        hint = install_hint or f"install {args[0]} and make sure it is on PATH"
        raise ToolMissingError(f"{args[0]} not found", hint=hint)
    try:
        proc = subprocess.run(
            [exe, *args[1:]],
            cwd=cwd,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="replace",
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolFailedError(f"{args[0]} timed out after {timeout:g}s: {' '.join(args[:4])}") from exc
    except OSError as exc:
        raise ToolFailedError(f"{args[0]} could not be started: {exc.strerror or exc}") from exc
    result = ToolResult(args, proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        raise ToolFailedError(f"{' '.join(args[:3])} failed (exit {proc.returncode}): {last[:300]}")
    return result
