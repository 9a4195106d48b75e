"""``guardrails.py install-hook``: merge the PreToolUse hook into a Claude Code settings.json.

Merging, not overwriting: every other key, hook and matcher stays as it was; running it twice
changes nothing; a settings file that is not valid JSON is left alone with an error. The command
uses absolute paths (interpreter and script) because a hook whose path does not resolve exits 127,
which Claude Code treats as a non-blocking error: the gate would be silently off. Absolute paths
are this machine's, so ``--project`` writes the uncommitted ``.claude/settings.local.json``; the
portable, committable install is ``devops install claude --project``.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from skill.errors import ConfigError

MATCHER = "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|Grep|Glob"
TIMEOUT = 10
MARKER = "guardrails"  # our handler's command contains "... guardrails.py hook" or "devops-guardrails hook"


def settings_path(*, user: bool = False, explicit: str | None = None, cwd: str | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if user:
        base = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")
        return Path(base) / "settings.json"
    from skill.paths import project_root

    root = Path(project_root(cwd) or cwd or os.getcwd())
    # The command names this machine's interpreter: it belongs in the uncommitted local file.
    return Path(root) / ".claude" / "settings.local.json"


def _interpreter() -> str:
    """An interpreter that can run the gate (it needs tree-sitter); prefer the running one.

    A hook interpreter without tree-sitter would block every command (the gate fails closed), so
    an installation from a bare system python points at the checkout's .venv when there is one.
    """
    import importlib.util

    running = os.path.abspath(sys.executable) if _in_venv() else os.path.realpath(sys.executable)
    if importlib.util.find_spec("tree_sitter") is not None:
        return running
    venv = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
    if venv.exists():
        return str(venv)
    raise ConfigError(
        f"{running} cannot run the gate (tree-sitter is not installed for it); "
        "run install-hook with the interpreter of the environment where master-devops is installed"
    )


def hook_command() -> str:
    """Absolute interpreter + absolute script: works from any cwd, in any shell."""
    python = _interpreter()
    script = Path(__file__).resolve().parents[2] / "guardrails.py"
    if script.is_file():
        return f"{shlex.quote(python)} {shlex.quote(str(script))} hook"
    import shutil

    console = shutil.which("devops-guardrails")
    if console:
        return f"{shlex.quote(os.path.abspath(console))} hook"
    return f"{shlex.quote(python)} -m skill.guardrails.cli hook"


def _in_venv() -> bool:
    # A venv's python is a symlink; resolving it would lose the venv's site-packages.
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def _is_ours(handler) -> bool:
    if not isinstance(handler, dict) or not isinstance(handler.get("command"), str):
        return False
    command = handler["command"].rstrip()
    command = command.removesuffix("|| exit 2").rstrip()  # the fail-closed form of a project install
    return MARKER in command and command.endswith(" hook")


def find_ours(path: Path) -> list[str]:
    """The commands of our handlers in a settings file (none when it is missing or unreadable)."""
    try:
        data = load_settings(path)
    except ConfigError:
        return []
    hooks = data.get("hooks")
    entries = hooks.get("PreToolUse") if isinstance(hooks, dict) else None
    return [
        h["command"]
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and isinstance(e.get("hooks"), list)
        for h in e["hooks"]
        if _is_ours(h)
    ]


def load_settings(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        raise ConfigError(f"cannot read {path}: {reason}; nothing was changed") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); fix it first, nothing was changed") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; nothing was changed")
    return data


def save_settings(path: Path, data: dict) -> None:
    from skill.files import write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")  # keeps the file's mode


def _pre_tool_use(data: dict, path: Path) -> list:
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError(f"{path}: 'hooks' is not an object; nothing was changed")
    entries = hooks.setdefault("PreToolUse", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'hooks.PreToolUse' is not a list; nothing was changed")
    return entries


def _portable(command: str) -> bool:
    return "$CLAUDE_PROJECT_DIR" in command


def install(path: Path, command: str | None = None) -> dict:
    command = command or hook_command()
    notes = ""
    if path.name == "settings.local.json":
        # The committed settings.json next to it is shared: a portable hook there (from `devops
        # install claude`) already gates this machine; an absolute one (older installs) breaks on
        # every other machine and moves here.
        committed = path.with_name("settings.json")
        found = find_ours(committed)
        if any(_portable(c) for c in found):
            return {
                "path": str(path),
                "changed": False,
                "command": next(c for c in found if _portable(c)),
                "message": f"already installed, portable, in {committed}; nothing added to {path}",
            }
        if found and uninstall(committed)["changed"]:
            notes = f"; moved the machine-specific hook out of {committed}"
    data = load_settings(path)
    entries = _pre_tool_use(data, path)
    handler = {"type": "command", "command": command, "timeout": TIMEOUT}
    found = False
    changed = bool(notes)
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("hooks"), list):
            continue
        for i, existing in enumerate(entry["hooks"]):
            if _is_ours(existing):
                if found:
                    continue
                found = True
                if entry.get("matcher") != MATCHER:
                    entry["matcher"] = MATCHER
                    changed = True
                merged = {**existing, **handler}
                if merged != existing:
                    entry["hooks"][i] = merged
                    changed = True
    if not found:
        entries.append({"matcher": MATCHER, "hooks": [handler]})
        changed = True
    if changed:
        save_settings(path, data)
    return {
        "path": str(path),
        "changed": changed,
        "command": command,
        "message": (f"installed the guardrails hook in {path}" if changed else f"already installed in {path}")
        + f" ({MATCHER}: {command})"
        + notes,
    }


def uninstall(path: Path) -> dict:
    data = load_settings(path)
    changed = False
    hooks = data.get("hooks")
    if isinstance(hooks, dict) and isinstance(hooks.get("PreToolUse"), list):
        kept = []
        for entry in hooks["PreToolUse"]:
            if isinstance(entry, dict) and isinstance(entry.get("hooks"), list):
                remaining = [h for h in entry["hooks"] if not _is_ours(h)]
                if len(remaining) != len(entry["hooks"]):
                    changed = True
                    if not remaining:
                        continue
                    entry = {**entry, "hooks": remaining}
            kept.append(entry)
        if changed:
            if kept:
                hooks["PreToolUse"] = kept
            else:
                del hooks["PreToolUse"]
                if not hooks:
                    del data["hooks"]
            save_settings(path, data)
    return {
        "path": str(path),
        "changed": changed,
        "message": f"removed the guardrails hook from {path}" if changed else f"no guardrails hook in {path}",
    }
