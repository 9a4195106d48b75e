"""``devops install claude``: put the skill where Claude Code finds it, and register the gate.

What it writes, all reversible with ``--uninstall``:

    <base>/skills/master-devops/SKILL.md         the skill (name = folder name, as the spec wants)
    <base>/skills/master-devops/references/      the practice references (progressive disclosure)
    <base>/skills/master-devops/scripts/         guardrails.py, memory.py, devops: tiny launchers that
                                                  pin this interpreter and this source tree
    <base>/settings.json                          the guardrails PreToolUse hook, merged in

``<base>`` is ``<project>/.claude`` (``--project``, the default) or ``~/.claude`` (``--user``;
``$CLAUDE_CONFIG_DIR`` wins).

A user install is this machine's alone: launchers pin this interpreter and this source tree by
absolute path. A project install is committed and runs on teammates' machines, so nothing in
``.claude/settings.json`` or the skill folder names a path of this machine: the hook command is
relative to ``$CLAUDE_PROJECT_DIR``, the launchers find their interpreter at run time
(``$DEVOPS_PYTHON``/``$DEVOPS_SOURCE``, which this machine gets from the ``env`` block of the
uncommitted ``.claude/settings.local.json``; else ``devops``/``devops-guardrails`` on PATH), and a
launcher that finds none exits 2 with the fix. The hook command ends in ``|| exit 2`` because
Claude Code treats any other failing exit (127 for a missing file) as "proceed": a teammate
without the package is blocked with a message, never silently ungated.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from pydantic import BaseModel

from skill.cli_support import ErrorHandlingGroup, echo_json
from skill.errors import ConfigError, InputError
from skill.files import write_text

MARKER_FILE = ".installed-by-master-devops"
SOURCE_ROOT = Path(__file__).resolve().parent.parent

_LAUNCHERS = {
    "guardrails.py": "from skill.guardrails.cli import main\n\nsys.exit(main())\n",
    "memory.py": "from skill.memory.cli import main\n\nmain()\n",
    "devops": "from skill.cli import main\n\nmain()\n",
}
# launcher name -> (module run with -m, console script of a pip-installed master-devops)
_ENTRY_POINTS = {
    "guardrails.py": ("skill.guardrails.cli", "devops-guardrails"),
    "memory.py": ("skill.memory.cli", "devops-memory"),
    "devops": ("skill.cli", "devops"),
}
# Set per machine in .claude/settings.local.json; read by the portable launchers.
LOCAL_ENV = ("DEVOPS_PYTHON", "DEVOPS_SOURCE")
FAIL_CLOSED = " || exit 2"

# A sh script that Python can also read (a string, then a re-exec through sh): the hook runs it on
# every tool call, and sh starts in a millisecond where a system python3 can take a tenth of a
# second; `python3 guardrails.py` still works. sh stops at `exit 2` before it reaches the Python;
# the sh part must never contain three single quotes.
_PORTABLE = """#!/bin/sh
''':'
# Launcher written by `devops install claude --project`; it names no path of any machine, so the
# skill folder can be committed. Each machine says where master-devops lives in the env block of
# its own .claude/settings.local.json (`devops install claude` writes it); else an installed
# master-devops on PATH is used; else exit 2, which blocks the hook instead of skipping it.
if [ -n "$DEVOPS_PYTHON" ] && [ -x "$DEVOPS_PYTHON" ]; then
  if [ -n "$DEVOPS_SOURCE" ]; then
    PYTHONPATH="$DEVOPS_SOURCE${{PYTHONPATH:+:$PYTHONPATH}}"
    export PYTHONPATH
  fi
  exec "$DEVOPS_PYTHON" -m {module} "$@"
fi
# DEVOPS_LAUNCHED stops a launcher that finds itself on PATH from starting itself again.
if [ -z "$DEVOPS_LAUNCHED" ] && command -v {console} >/dev/null 2>&1; then
  DEVOPS_LAUNCHED=1 exec {console} "$@"
fi
if [ -n "$DEVOPS_PYTHON" ]; then
  echo "master-devops: DEVOPS_PYTHON=$DEVOPS_PYTHON is not executable" >&2
fi
echo "master-devops is not installed for this project on this machine: run 'devops install claude' in the project, or pip install master-devops so that {console} is on PATH" >&2
exit 2
#'''
import os
import sys

os.execv("/bin/sh", ["/bin/sh", os.path.abspath(__file__)] + sys.argv[1:])
"""


class InstallReport(BaseModel):
    skill_dir: str
    settings: str
    changes: list[str]
    uninstalled: bool = False


def _skill_sources() -> tuple[Path, Path]:
    """SKILL.md and the references folder: from the checkout, or as packaged in the wheel."""
    for skill_md, refs in (
        (SOURCE_ROOT / "SKILL.md", SOURCE_ROOT / "docs" / "references"),
        (Path(__file__).parent / "_skill" / "SKILL.md", Path(__file__).parent / "_skill" / "references"),
    ):
        if skill_md.is_file() and refs.is_dir():
            return skill_md, refs
    raise InputError("cannot find SKILL.md and its references next to the package; reinstall master-devops")


def skill_name(skill_md: Path) -> str:
    import yaml

    text = skill_md.read_text(encoding="utf-8")
    try:
        meta = yaml.safe_load(text.split("---\n", 2)[1])
        return str(meta["name"])
    except (IndexError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise InputError(f"{skill_md} has no valid frontmatter name: {exc}") from exc


def claude_base(scope: str, cwd: str | None = None) -> Path:
    if scope == "user":
        return Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    from skill.paths import project_root

    root = Path(project_root(cwd) or cwd or os.getcwd())
    return Path(root) / ".claude"


def _launcher(body: str) -> str:
    # A venv interpreter must stay a symlink path: resolving it would lose the venv's site-packages.
    python = os.path.abspath(sys.executable)
    return (
        f"#!{python}\n"
        "# Launcher written by `devops install claude`: this interpreter, this source tree.\n"
        "import sys\n\n"
        f"sys.path.insert(0, {str(SOURCE_ROOT)!r})\n"
        f"{body}"
    )


def _portable_launcher(name: str) -> str:
    module, console = _ENTRY_POINTS[name]
    return _PORTABLE.format(module=module, console=console)


def project_hook_command(skill_folder: str) -> str:
    """The committed hook command: relative to the project, failing closed when it cannot run."""
    return f'"$CLAUDE_PROJECT_DIR"/.claude/skills/{skill_folder}/scripts/guardrails.py hook{FAIL_CLOSED}'


def _local_env() -> dict[str, str]:
    # A venv interpreter must stay a symlink path: resolving it would lose the venv's site-packages.
    return {"DEVOPS_PYTHON": os.path.abspath(sys.executable), "DEVOPS_SOURCE": str(SOURCE_ROOT)}


def _merge_local_env(path: Path, wanted: dict[str, str] | None) -> bool:
    """Set (or with None remove) our keys in the env block of settings.local.json; other keys stay."""
    from skill.guardrails.install_hook import load_settings, save_settings

    data = load_settings(path)
    env = data.get("env", {})
    if not isinstance(env, dict):
        raise ConfigError(f"{path}: 'env' is not an object; nothing was changed")
    before = dict(env)
    for key in LOCAL_ENV:
        env.pop(key, None)
    env.update(wanted or {})
    if env == before:
        return False
    if env:
        data["env"] = env
    else:
        data.pop("env", None)
    save_settings(path, data)
    return True


def _write(path: Path, content: str, changes: list[str], *, executable: bool = False) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, content, mode=0o755 if executable else None)
    changes.append(f"wrote {path}")


def install_claude(scope: str = "project", cwd: str | None = None) -> InstallReport:
    """Install (or refresh) the skill folder and merge the hook; idempotent."""
    from skill.guardrails import install_hook

    skill_md, refs = _skill_sources()
    base = claude_base(scope, cwd)
    target = base / "skills" / skill_name(skill_md)
    if target.exists() and not (target / MARKER_FILE).exists() and any(target.iterdir()):
        raise ConfigError(f"{target} exists and was not installed by master-devops; move it away first")
    changes: list[str] = []
    _write(target / "SKILL.md", skill_md.read_text(encoding="utf-8"), changes)
    wanted = {p.name for p in refs.glob("*.md")}
    for ref in sorted(refs.glob("*.md")):
        _write(target / "references" / ref.name, ref.read_text(encoding="utf-8"), changes)
    for stale in (target / "references").glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
            changes.append(f"removed stale {stale}")
    portable = scope == "project"
    for name, body in _LAUNCHERS.items():
        text = _portable_launcher(name) if portable else _launcher(body)
        _write(target / "scripts" / name, text, changes, executable=True)
    _write(target / MARKER_FILE, "This folder is managed by `devops install claude`.\n", changes)
    settings = base / "settings.json"
    if portable:
        command = project_hook_command(target.name)
        local = base / "settings.local.json"
        if _merge_local_env(local, _local_env()):
            changes.append(f"wrote this machine's interpreter into {local} (env {', '.join(LOCAL_ENV)})")
        # A hook from `guardrails.py install-hook --project` would run the gate a second time.
        if local.exists() and install_hook.uninstall(local)["changed"]:
            changes.append(f"removed the machine-specific guardrails hook from {local}")
    else:
        command = f"{os.path.abspath(sys.executable)} {target / 'scripts' / 'guardrails.py'} hook"
    hook = install_hook.install(settings, command=command)
    if hook["changed"]:
        changes.append(hook["message"])
    return InstallReport(skill_dir=str(target), settings=str(settings), changes=changes)


def uninstall_claude(scope: str = "project", cwd: str | None = None) -> InstallReport:
    """Remove what install_claude wrote: the skill folder (only if ours) and our hook entry."""
    from skill.guardrails import install_hook

    skill_md, _ = _skill_sources()
    base = claude_base(scope, cwd)
    target = base / "skills" / skill_name(skill_md)
    changes: list[str] = []
    if (target / MARKER_FILE).exists():
        shutil.rmtree(target)
        changes.append(f"removed {target}")
    elif target.exists():
        raise ConfigError(f"{target} was not installed by master-devops; left it alone")
    settings = base / "settings.json"
    hook = install_hook.uninstall(settings)
    if hook["changed"]:
        changes.append(hook["message"])
    local = base / "settings.local.json"
    if scope == "project" and local.exists() and _merge_local_env(local, None):
        changes.append(f"removed {', '.join(LOCAL_ENV)} from {local}")
    return InstallReport(skill_dir=str(target), settings=str(settings), changes=changes, uninstalled=True)


@click.group(cls=ErrorHandlingGroup)
def install() -> None:
    """Install the skill into an assistant."""


@install.command("claude")
@click.option("--project", is_flag=True, help="Into this project's .claude/ (default).")
@click.option("--user", is_flag=True, help="Into ~/.claude/ for every project.")
@click.option("--uninstall", is_flag=True, help="Remove the skill folder and the hook again.")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
def claude(project: bool, user: bool, uninstall: bool, as_json: bool) -> None:
    """Install the skill folder into .claude/skills/ and merge the guardrails hook into settings.json.

    \b
    devops install claude            # this project
    devops install claude --user     # every project of this user
    devops install claude --uninstall
    """
    if project and user:
        raise click.UsageError("--project and --user are two places; give one")
    scope = "user" if user else "project"
    report = uninstall_claude(scope) if uninstall else install_claude(scope)
    if as_json:
        echo_json(report.model_dump())
        return
    if not report.changes:
        click.echo(f"Nothing to change: {report.skill_dir} and the hook in {report.settings} are up to date.")
    for line in report.changes:
        click.echo(line)
