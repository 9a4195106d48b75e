"""Fault injection: whatever breaks, the gate never allows what it should not and never crashes."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from polling import wait_for

REPO = Path(__file__).resolve().parents[2]
SCRIPT = str(REPO / "guardrails.py")


def gate(*args, stdin=None, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, SCRIPT, *args], input=stdin, capture_output=True, env=env, cwd=REPO, timeout=60
    )


def no_traceback(res):
    err = res.stderr.decode() if isinstance(res.stderr, bytes) else res.stderr
    assert "Traceback" not in err
    return err


def audit_rows(home):
    conn = sqlite3.connect(Path(home) / "audit.db")
    try:
        return conn.execute("SELECT input, decision FROM decisions ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("text", ["[[rules]\n", "\x00\xff garbage", '[settings]\nhook_emit_allow = "yes"\n'])
def test_corrupt_policy_blocks_everything_with_one_line(text):
    cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_bytes(
        text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    )
    res = gate("check", "--command", "ls")
    assert res.returncode == 4
    err = no_traceback(res)
    assert len(err.strip().splitlines()) == 1 and "policy" in err
    res = gate("check", "--action", "infra_plan", "--json")
    assert res.returncode == 4 and json.loads(res.stdout)["rule_ids"] == ["policy.error"]
    hook = gate("hook", stdin=b'{"tool_name": "Bash", "tool_input": {"command": "ls"}}')
    assert hook.returncode == 0
    assert json.loads(hook.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_locked_audit_db_does_not_change_decisions_and_spools():
    home = Path(os.environ["DEVOPS_HOME"])
    assert gate("check", "--command", "ls").returncode == 0  # creates the database
    holder = sqlite3.connect(home / "audit.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        allowed = gate("check", "--command", "echo locked-allow")
        blocked = gate("check", "--command", "rm -rf /")
        assert allowed.returncode == 0 and blocked.returncode == 4
        no_traceback(allowed)
        assert (home / "audit-spool.jsonl").exists()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The next reader ingests the spool: nothing was lost.
    listed = gate("audit", "--json")
    inputs = [json.loads(line)["input"] for line in listed.stdout.decode().splitlines()]
    assert "echo locked-allow" in inputs and "rm -rf /" in inputs
    assert not (home / "audit-spool.jsonl").exists()
    assert ("rm -rf /", "block") in audit_rows(home)


@pytest.mark.parametrize("damage", ["junk", "directory"])
def test_corrupt_or_unusable_audit_db(damage):
    home = Path(os.environ["DEVOPS_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    db = home / "audit.db"
    if damage == "junk":
        db.write_bytes(b"this is not a database" * 100)
    else:
        db.mkdir()
    res = gate("check", "--command", "rm -rf /")
    assert res.returncode == 4
    no_traceback(res)
    ok = gate("check", "--command", "ls")
    assert ok.returncode == 0
    # the decision stands, and the broken audit store is said on every check that spools
    for proc in (res, ok):
        warning = proc.stderr.decode()
        assert "warning: audit database unavailable" in warning and "audit-spool.jsonl" in warning
    spooled = (home / "audit-spool.jsonl").read_text().splitlines()
    assert [json.loads(line)["decision"] for line in spooled] == ["block", "allow"]
    if damage == "junk":
        # the audit command still shows what was decided, from the spool, and names the file to move
        listed = gate("audit", "--json")
        assert listed.returncode == 0, listed.stderr
        inputs = [json.loads(line)["input"] for line in listed.stdout.decode().splitlines()]
        assert inputs == ["ls", "rm -rf /"]
        assert "move" in listed.stderr.decode() and "audit.db" in listed.stderr.decode()


def test_data_dir_that_cannot_be_created_still_decides(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = {"DEVOPS_HOME": str(blocker / "home")}
    res = gate("check", "--command", "rm -rf /", env_extra=env)
    assert res.returncode == 4
    err = no_traceback(res)
    assert "audit" in err and len(err.strip().splitlines()) <= 2
    assert gate("check", "--command", "ls", env_extra=env).returncode == 0
    hook = gate("hook", stdin=b'{"tool_name": "Bash", "tool_input": {"command": "rm -rf /"}}', env_extra=env)
    assert json.loads(hook.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_missing_data_dir_is_created(tmp_path):
    home = tmp_path / "does" / "not" / "exist"
    res = gate("check", "--command", "ls", env_extra={"DEVOPS_HOME": str(home)})
    assert res.returncode == 0
    assert audit_rows(home) == [("ls", "allow")]


def _hook(command: str):
    return gate("hook", stdin=json.dumps({"tool_name": "Bash", "tool_input": {"command": command}}).encode())


def _verdict(res):
    if res.returncode == 2:
        return "blocked"
    out = res.stdout.decode().strip()
    return json.loads(out)["hookSpecificOutput"]["permissionDecision"] if out else "silent"


def test_one_mib_command_is_never_allowed():
    big = "echo " + "a" * (1 << 20) + " && rm -rf /"
    res = _hook(big)
    no_traceback(res)
    assert _verdict(res) in ("ask", "deny", "blocked")
    plain = "echo " + "a" * (1 << 20)
    assert _verdict(_hook(plain)) in ("ask", "deny", "blocked")  # over budget: a human looks


def test_deeply_nested_shells_are_never_allowed():
    # Quoting grows with every level, so nest as deep as fits in ~60 KB (well past any real use).
    cmd, depth = "rm -rf /important", 0
    while True:
        deeper = "bash -c " + shlex.quote(cmd) if depth % 2 else "sh -c " + json.dumps(cmd)
        if len(deeper) > 60_000:
            break
        cmd, depth = deeper, depth + 1
    assert depth >= 8
    res = _hook(cmd)
    no_traceback(res)
    assert _verdict(res) in ("ask", "deny", "blocked")
    subst = "echo " + "$(echo " * 500 + "x" + ")" * 500
    res = _hook(subst)
    no_traceback(res)
    assert _verdict(res) != "allow"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00garbage",
        bytes(range(256)) * 4,
        b'{"tool_name": "Bash", "tool_input": {"command": "ls \xff"}}',
        b'{"tool_name": "Bash", "tool_input": {"command": "ls"}',
        b"\x1f\x8b\x08\x00compressed?",
        b"null",
    ],
)
def test_junk_on_hook_stdin_blocks(raw):
    res = gate("hook", stdin=raw)
    assert res.returncode == 2 and res.stdout == b""
    assert no_traceback(res).startswith("guardrails hook: blocked")


def test_surrogates_and_control_bytes_in_commands_are_not_allowed():
    # Lone surrogates (what invalid UTF-8 becomes) and terminal control bytes inside a command.
    for command in ("rm -rf \udcff\udcfe", "ls \x1b]52;c;aGk=\x07", "ls \x00 rm -rf /"):
        line = json.dumps({"command": command}) + "\n"
        res = gate("check", "--batch", "-", stdin=line.encode())
        no_traceback(res)
        obj = json.loads(res.stdout.decode())
        assert obj["decision"] != "allow", command


def test_slow_or_hung_check_is_cut_off_by_the_watchdog():
    code = (
        "import sys, time\n"
        "from skill.guardrails import cli, engine\n"
        "cli.WATCHDOG_SECONDS = 1\n"
        "engine._check_command = lambda *a, **k: time.sleep(30)\n"
        "sys.exit(cli.main(['hook']))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        input=b'{"tool_name": "Bash", "tool_input": {"command": "ls"}}',
        capture_output=True,
        cwd=REPO,
        timeout=20,
    )
    assert res.returncode == 2 and b"longer than 1s" in res.stderr


def test_hook_main_never_escapes_on_arbitrary_input(monkeypatch, capsys):
    """Any stdin: exit 0 with a valid decision (or nothing), or exit 2. Never an exception."""
    import io
    import random

    from skill.guardrails import hook

    rng = random.Random(1234)
    shapes = [
        lambda: rng.randbytes(rng.randint(0, 300)),
        lambda: json.dumps(rng.choice([None, 1, "x", [], {}, {"tool_name": None}])).encode(),
        lambda: json.dumps(
            {
                "tool_name": rng.choice(["Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "Read", 7]),
                "tool_input": rng.choice(
                    [
                        {"command": rng.choice(["ls", "rm -rf /", "", "\udcff", "$(" * 50, 3])},
                        {"file_path": rng.choice(["/x/.env", "", "~/.ssh/id_rsa", None, "\x00"])},
                        {"notebook_path": "/x/a.ipynb"},
                        [],
                        "str",
                    ]
                ),
                "cwd": rng.choice(["/tmp", None, 5, "/does/not/exist", "\x00"]),
            },
            ensure_ascii=rng.random() < 0.5,
        ).encode("utf-8", "surrogatepass"),
    ]
    for _ in range(150):
        raw = rng.choice(shapes)()
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
        code = hook.main()
        out = capsys.readouterr().out
        assert code in (0, 2), raw
        if code == 0 and out.strip():
            spec = json.loads(out)["hookSpecificOutput"]
            assert spec["permissionDecision"] in ("allow", "ask", "deny")
        if code == 2:
            assert out == ""


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_hook_stopped_by_a_signal_still_blocks(signame):
    # A signal death exits with neither 2 nor 4, which Claude Code would let through.
    import signal

    proc = subprocess.Popen(
        [sys.executable, SCRIPT, "hook"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        sig = getattr(signal, signame)
        status = Path(f"/proc/{proc.pid}/status")

        def handler_installed() -> bool:
            caught = [ln for ln in status.read_text().splitlines() if ln.startswith("SigCgt:")]
            return bool(caught) and bool(int(caught[0].split()[1], 16) & (1 << (sig - 1)))

        # Wait for the handler (SigCgt), not a fixed time: a loaded machine starts Python slowly,
        # and a signal sent before the handler exists kills the process the default way.
        wait_for(handler_installed, f"the hook to catch {signame}", timeout=120, interval=0.02)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 2, (proc.returncode, err)
    assert out == b"" and b"Traceback" not in err and b"blocking" in err
