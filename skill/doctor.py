"""`devops doctor`: check the installation without changing anything that matters.

Checks: the data dir is writable; config.toml and the guardrails policy parse; the embedding
model is in the cache; every SQLite store in the data dir passes ``PRAGMA quick_check``; the
installed Claude Code hook runs; the external tools are on PATH (gh, glab, terraform or tofu, kubectl,
helm); a configured chroma server answers its heartbeat; the optional LLM and webhook secrets
are configured. Each check is ok, warn (works, with less) or fail (something will break).
Exit code 1 when any check fails.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from skill.errors import DevopsError


class Check(BaseModel):
    name: str
    status: str  # ok | warn | fail
    detail: str


def _data_dir() -> Check:
    from skill.paths import ensure_data_dir

    try:
        path = ensure_data_dir()
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-", delete=True) as fh:
            fh.write(b"ok")
        return Check(name="data dir", status="ok", detail=f"{path} is writable")
    except OSError as exc:
        return Check(name="data dir", status="fail", detail=f"not writable: {exc}")
    except DevopsError as exc:  # ensure_data_dir() refuses (a file where the folder should be)
        return Check(name="data dir", status="fail", detail=str(exc))


# Every SQLite file the package keeps in the data dir; a store that does not exist yet is fine.
STORES = ("memory", "audit", "approvals", "graph", "inbox", "flags")


def _schema_problem(name: str, path: str) -> tuple[str, str | None]:
    """("schema vN", None) or with the problem when the file is newer than this code."""
    from skill.storage import sqlite
    from skill.storage.stores import by_file

    store = by_file(name)
    if store is None:
        return "", None
    have, known = sqlite.schema_status(path, store.schema)
    if have > known:
        return f"schema v{have}", f"schema version {have} is newer than this master-devops knows ({known})"
    return f"schema v{have}" + (f", migrates to v{known} on next use" if have < known else ""), None


def _team_database() -> list[Check]:
    """With a team database configured: can we reach it, and which stores live there at what version."""
    from skill.storage import database_url

    url = database_url()
    if not url:
        return []
    from skill.storage.manage import status, team_database
    from skill.storage.postgres import redact_url

    try:
        where, version = team_database() or ("", "")
        rows = status()
    except DevopsError as exc:
        return [Check(name="team database", status="fail", detail=f"{redact_url(url)}: {exc}")]
    out = [Check(name="team database", status="ok", detail=f"{where} reachable (PostgreSQL {version})")]
    for r in rows:
        version = "not created yet" if r.version is None else f"schema v{r.version}"
        if r.version is not None and r.version > r.known:
            out.append(
                Check(
                    name=f"{r.store} store",
                    status="fail",
                    detail=f"{r.backend}: {version} is newer than this master-devops knows ({r.known}); "
                    "fix: upgrade master-devops",
                )
            )
            continue
        where = "team database" if r.backend == "postgres" else r.location
        if r.backend == "postgres" and (r.version or 0) < r.known:
            # A store migrates itself on first use only when the role may change the schema; a
            # restricted application role (docs/team.md, Grants) fails there instead.
            out.append(
                Check(
                    name=f"{r.store} store",
                    status="warn",
                    detail=f"{r.backend} ({where}), {version} of v{r.known}; "
                    "fix: `devops db migrate` as the database owner",
                )
            )
            continue
        out.append(Check(name=f"{r.store} store", status="ok", detail=f"{r.backend} ({where}), {version}"))
    return out


def _quick_check(path: str) -> str | None:
    """None when SQLite finds the file sound, else the first problem it names."""
    import sqlite3

    try:
        # mode=rw: never create a file the user does not have; quick_check itself only reads.
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
        finally:
            conn.close()
    except sqlite3.Error as exc:  # "file is not a database", "database disk image is malformed", locked
        return str(exc)
    if rows == ["ok"]:
        return None
    lines = [ln for r in rows for ln in str(r).splitlines() if ln.strip() and not ln.startswith("***")]
    return "; ".join(lines)


def _stores() -> list[Check]:
    from skill.paths import data_dir

    out = []
    for name in STORES:
        path = os.path.join(data_dir(), f"{name}.db")
        if not os.path.isfile(path):
            continue
        problem = _quick_check(path)
        if problem is None:
            try:
                version, newer = _schema_problem(name, path)
            except Exception as exc:  # noqa: BLE001 - a row, never an abort
                version, newer = "", f"cannot read its schema version: {exc}"
            if newer:
                out.append(
                    Check(
                        name=f"{name}.db",
                        status="fail",
                        detail=f"{path}: {newer}; fix: upgrade master-devops (it will not read or change it)",
                    )
                )
                continue
            passes = f"{path} passes quick_check" + (f" ({version})" if version else "")
            out.append(Check(name=f"{name}.db", status="ok", detail=passes))
        else:
            out.append(
                Check(
                    name=f"{name}.db",
                    status="fail",
                    detail=f"{path} is damaged ({problem}); fix: stop devops, `mv {path} {path}.bad`, "
                    f"salvage what is left with `sqlite3 {path}.bad .recover | sqlite3 {path}` "
                    "(without it the next use starts an empty store)",
                )
            )
    return out


# A PreToolUse call the gate must deny: if the installed hook lets it through, it is not gating.
_PROBE_COMMAND = "rm -rf /"


def _settings_files() -> list[tuple[str, str]]:
    """(settings file, project root or "") in Claude Code's order: user, project, project local."""
    from skill.paths import project_root

    user = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")
    files = [(os.path.join(user, "settings.json"), "")]
    root = project_root()
    if root:
        files += [
            (os.path.join(root, ".claude", name), root) for name in ("settings.json", "settings.local.json")
        ]
    return files


def _hook_env(files: list[tuple[str, str]], root: str) -> dict[str, str]:
    """The environment Claude Code gives a hook: ours, every settings file's env block, the project dir."""
    import json

    env = dict(os.environ)
    for path, _ in files:
        try:
            block = json.loads(open(path, encoding="utf-8").read()).get("env")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(block, dict):
            env.update({str(k): str(v) for k, v in block.items()})
    env["CLAUDE_PROJECT_DIR"] = root or os.getcwd()
    return env


def _probe_hook(command: str, env: dict[str, str], cwd: str) -> str | None:
    """None when the hook command runs and denies the probe, else what went wrong."""
    import json
    import subprocess

    event = {
        "session_id": "devops-doctor",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": _PROBE_COMMAND, "description": "devops doctor probe"},
        "cwd": cwd,
        "permission_mode": "default",
    }
    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", command],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not run it: {exc}"
    try:
        out = json.loads(proc.stdout) if proc.stdout.strip() else {}
        decision = out.get("hookSpecificOutput", {}).get("permissionDecision")
    except (ValueError, AttributeError):
        decision = None
    if proc.returncode == 0 and decision == "deny":
        return None
    reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    if proc.returncode == 2 and "guardrails hook: blocked" in proc.stderr:
        return None  # the gate's own fail-closed answer is still a block
    if proc.returncode == 0:
        return f"it let a probe `{_PROBE_COMMAND}` through (decision {decision or 'none'})"
    return f"exit {proc.returncode}: {reason}"


def _hook() -> list[Check]:
    from skill.guardrails.install_hook import find_ours

    files = _settings_files()
    out = []
    for path, root in files:
        for command in find_ours(Path(path)):
            problem = _probe_hook(command, _hook_env(files, root), root or os.getcwd())
            if problem is None:
                out.append(
                    Check(
                        name="claude hook",
                        status="ok",
                        detail=f"{path}: runs and denies a probe `{_PROBE_COMMAND}`",
                    )
                )
            else:
                out.append(
                    Check(
                        name="claude hook",
                        status="fail",
                        detail=f"{path}: the hook does not gate ({problem}); fix: run `devops install claude` "
                        "in the project (or `--user`) on this machine",
                    )
                )
    if not out:
        return [
            Check(
                name="claude hook",
                status="warn",
                detail="no guardrails hook in any Claude Code settings (run `devops install claude`)",
            )
        ]
    return out


def _config() -> list[Check]:
    from skill.config import ignored_project_settings, load_settings, settings_files
    from skill.errors import DevopsError

    out = []
    try:
        for section in ("deploy", "memory", "llm", "server", "agent"):
            load_settings(section, {})
        found = [str(p) for p in settings_files() if p.is_file()]
        out.append(
            Check(name="config.toml", status="ok", detail=", ".join(found) or "none (embedded defaults)")
        )
        ignored = ignored_project_settings()
        if ignored:
            out.append(
                Check(
                    name="project config",
                    status="warn",
                    detail=f"sets {', '.join(ignored)}: ignored, only your own config.toml or the "
                    "environment may (a repository must not choose where approvals, memory or keys go)",
                )
            )
    except DevopsError as exc:
        out.append(Check(name="config.toml", status="fail", detail=str(exc)))
    try:
        from skill.guardrails import policy

        loader = getattr(policy, "load_policy", None)
        if callable(loader):
            loader()
        out.append(Check(name="guardrails policy", status="ok", detail="parses"))
    except DevopsError as exc:
        out.append(Check(name="guardrails policy", status="fail", detail=f"{exc} (every check fails closed)"))
    except Exception as exc:  # noqa: BLE001
        out.append(
            Check(
                name="guardrails policy", status="warn", detail=f"could not load: {type(exc).__name__}: {exc}"
            )
        )
    return out


def _model() -> Check:
    try:
        from skill.memory.embed import REQUIRED_FILES, model_dir
    except ImportError as exc:
        return Check(name="embedding model", status="warn", detail=f"memory module unavailable: {exc}")
    path = model_dir()
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        return Check(
            name="embedding model",
            status="warn",
            detail=f"missing in {path}: {', '.join(missing)} (recall falls back to keywords; "
            "seed it with ../shared/models/seed-chroma-cache.sh or set DEVOPS_MODEL_DIR)",
        )
    return Check(name="embedding model", status="ok", detail=str(path))


def _tools() -> list[Check]:
    from skill.runner import which

    out = []
    for names, why in (
        (("gh",), "GitHub pipelines (devops ci)"),
        (("glab",), "GitLab pipelines (devops ci)"),
        (("terraform", "tofu"), "plan files (devops iac)"),
        (("kubectl",), "the kubectl deploy driver and readiness"),
        (("helm",), "the helm deploy driver"),
    ):
        found = next((f"{n}: {which(n)}" for n in names if which(n)), None)
        label = "/".join(names)
        out.append(
            Check(name=label, status="ok", detail=found)
            if found
            else Check(name=label, status="warn", detail=f"not on PATH (needed for {why})")
        )
    return out


def _chroma() -> Check:
    from skill.config import load_settings

    url = os.environ.get("DEVOPS_CHROMA_URL") or load_settings("memory", {"chroma_url": ""}).get("chroma_url")
    if not url:
        return Check(
            name="chroma server", status="ok", detail="not configured (embedded chroma in the data dir)"
        )
    import httpx

    for path in ("/api/v2/heartbeat", "/api/v1/heartbeat"):
        try:
            resp = httpx.get(url.rstrip("/") + path, timeout=3)
            if resp.status_code == 200:
                return Check(name="chroma server", status="ok", detail=f"{url} answers")
        except httpx.HTTPError as exc:
            return Check(
                name="chroma server", status="fail", detail=f"{url} unreachable: {type(exc).__name__}"
            )
    return Check(name="chroma server", status="fail", detail=f"{url} did not answer its heartbeat")


def _optional() -> list[Check]:
    from skill.agent import llm
    from skill.webhooks.server import ENV, server_settings

    out = []
    if llm.enabled():
        out.append(Check(name="LLM", status="ok", detail=f"Claude configured (model {llm.model()})"))
    else:
        out.append(Check(name="LLM", status="ok", detail="off (deterministic routing and reports)"))
    cfg = server_settings()
    missing = [ENV[k] for k in ("github_secret", "gitlab_token", "token") if not cfg.get(k)]
    out.append(
        Check(
            name="webhook secrets",
            status="warn" if missing else "ok",
            detail=("not set: " + ", ".join(missing) + " (those sources get 401)") if missing else "all set",
        )
    )
    try:
        from skill.guardrails.approvals import operator_key_status

        st = operator_key_status()
        out.append(
            Check(
                name="operator key",
                status="ok",
                detail="configured" if st["configured"] else "none (approvals need a human at a terminal)",
            )
        )
    except Exception as exc:  # noqa: BLE001
        out.append(Check(name="operator key", status="warn", detail=f"cannot tell: {exc}"))
    return out


def run_checks() -> list[Check]:
    # The doctor is what a user runs when things are broken: one failing probe is a FAIL row, never
    # an abort that hides the other rows.
    out: list[Check] = []
    for probe in (_data_dir, _stores, _team_database, _config, _hook, _model, _tools, _chroma, _optional):
        try:
            got = probe()
        except DevopsError as exc:
            got = Check(name=probe.__name__.strip("_").replace("_", " "), status="fail", detail=str(exc))
        out.extend(got if isinstance(got, list) else [got])
    return out


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def doctor(as_json: bool) -> None:
    """Check the installation: data dir, config, model cache, tools on PATH, chroma server.

    \b
    devops doctor --json
    """
    import sys

    checks = run_checks()
    if as_json:
        from skill.cli_support import echo_json

        payload: dict[str, Any] = {"ok": not any(c.status == "fail" for c in checks)}
        payload["checks"] = [c.model_dump() for c in checks]
        echo_json(payload)
    else:
        marks = {
            "ok": click.style("ok  ", fg="green"),
            "warn": click.style("warn", fg="yellow"),
            "fail": click.style("FAIL", fg="red"),
        }
        for c in checks:
            click.echo(f"{marks[c.status]}  {c.name:<18} {c.detail}")
    if any(c.status == "fail" for c in checks):
        sys.exit(1)
