"""guardrails.py as a real process: exit codes, --json, --explain, --batch, --plan, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIELDS = {"tier", "decision", "reasons", "rule_ids", "deciding", "environment", "request_id", "approval_used"}
pytestmark = pytest.mark.usefixtures("pinned_tiers")


def one_line_error(res):
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    return res.stderr


@pytest.mark.parametrize(
    "args,code,decision",
    [
        (["--command", "ls -la"], 0, "allow"),
        (["--command", "mytool ask now"], 3, "ask"),
        (["--command", "mytool block now"], 4, "block"),
        (["--command", "rm -rf /"], 4, "block"),
        (["--action", "infra_plan", "--target", "vpc"], 0, "allow"),
        (["--action", "infra_change", "--target", "vpc"], 3, "ask"),
        (["--action", "deploy_production"], 4, "block"),
    ],
)
def test_exit_codes_and_json(run, args, code, decision):
    res = run("guardrails.py", "check", *args, "--json")
    assert res.returncode == code, res.stderr
    obj = json.loads(res.stdout)
    assert set(obj) == FIELDS
    assert obj["decision"] == decision
    assert (obj["request_id"] is not None) == (decision != "allow")
    assert isinstance(obj["reasons"], list) and obj["reasons"] and isinstance(obj["rule_ids"], list)


def test_json_names_the_deciding_subcommand_and_environment(run):
    res = run(
        "guardrails.py", "check", "--json", "--command", "ls && kubectl delete ns payments --context prod"
    )
    obj = json.loads(res.stdout)
    assert obj["deciding"].startswith("kubectl delete ns payments")
    assert obj["environment"] == "production" and res.returncode == 4


def test_human_output_and_explain(run):
    res = run("guardrails.py", "check", "--command", "sudo bash -c 'mytool block it'", "--explain")
    assert res.returncode == 4
    assert res.stdout.startswith("BLOCK  T4  mytool block it")
    assert "request: rq-" in res.stdout and "approve rq-" in res.stdout
    assert "explain:" in res.stdout and "part T2 'mytool block it'" in res.stdout
    assert "policy rule pin.block" in res.stdout and "T2 -> T4" in res.stdout
    js = run("guardrails.py", "check", "--command", "mytool ask x", "--explain", "--json")
    obj = json.loads(js.stdout)
    assert any("policy rule pin.ask" in line for line in obj["explain"])


def test_fast_path_and_argparse_agree(run):
    fast = run("guardrails.py", "check", "--command=mytool ask x", "--json", "--caller", "a")
    # An abbreviated option is not on the fast path: argparse parses this one.
    slow = run("guardrails.py", "check", "--comm", "mytool ask x", "--json", "--caller", "a")
    assert fast.returncode == slow.returncode == 3
    assert json.loads(fast.stdout) == json.loads(slow.stdout)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["check"], "needs --action, --command or --batch"),
        (["check", "--action", "deploy", "--command", "ls"], "not allowed with argument"),
        (["check", "--command", "ls", "--target", "api"], "go with --action"),
        (["check", "--command", "ls", "--frobnicate"], "unrecognized arguments"),
        (["check", "--command"], "expected one argument"),
        (["approve", "rq-1"], "--by"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(run, args, needle):
    res = run("guardrails.py", *args)
    assert res.returncode == 2
    assert needle in one_line_error(res)


def test_help_exits_0(run):
    res = run("guardrails.py", "--help")
    assert res.returncode == 0 and "check" in res.stdout and "approve" in res.stdout


def test_batch_file_and_stdin_keep_order_and_survive_bad_lines(run, tmp_path):
    lines = [
        json.dumps({"command": "ls"}),
        json.dumps({"action": "deploy_production", "target": "api"}),
        "this is not json",
        json.dumps({"command": "mytool ask a"}),
        json.dumps({"command": "x", "action": "deploy"}),
        json.dumps(["a list"]),
        json.dumps({"command": 42}),
        "",
        json.dumps({"action": "deploy", "target": "api", "env": "staging"}),
    ]
    raw = ("\n".join(lines) + "\n").encode() + b'{"command": "\xff\xfe"}\n'
    path = tmp_path / "batch.jsonl"
    path.write_bytes(raw)
    for source, stdin in ((str(path), None), ("-", raw)):
        proc = subprocess.run(
            [sys.executable, str(REPO / "guardrails.py"), "check", "--batch", source],
            input=stdin,
            capture_output=True,
            cwd=REPO,
            timeout=60,
        )
        out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
        assert [o["decision"] for o in out] == [
            "allow",
            "block",
            "block",
            "ask",
            "block",
            "block",
            "block",
            "allow",
            "block",
        ]
        assert all(FIELDS <= set(o) for o in out)
        assert out[2]["rule_ids"] == ["batch.bad-line"] and out[2]["line"] == 3
        assert "exactly one of" in out[4]["reasons"][0]
        assert proc.returncode == 4 and b"Traceback" not in proc.stderr


def test_plan_takes_the_stricter_tier(run, tmp_path):
    pytest.importorskip("skill.nodes.iac")
    plan = REPO / "tests" / "fixtures" / "guardrails" / "plan_delete_db.json"
    res = run(
        "guardrails.py",
        "check",
        "--action",
        "infra_change",
        "--target",
        "orders-db",
        "--env",
        "staging",
        "--plan",
        str(plan),
        "--json",
    )
    obj = json.loads(res.stdout)
    assert obj["tier"] == 4 and res.returncode == 4, res.stderr
    assert any(r.startswith("plan review") for r in obj["reasons"])


def test_plan_without_the_review_module_fails_closed(tmp_path):
    plan = REPO / "tests" / "fixtures" / "guardrails" / "plan_delete_db.json"
    code = (
        "import sys; sys.modules['skill.plan_review'] = None\n"
        "from skill.guardrails.cli import main\n"
        f"sys.exit(main(['check', '--action', 'infra_change', '--target', 'vpc', '--env', 'dev', '--plan', {str(plan)!r}, '--json']))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    obj = json.loads(res.stdout)
    assert res.returncode == 4 and obj["decision"] == "block"
    assert "plan.unavailable" in obj["rule_ids"] and "failing closed" in " ".join(obj["reasons"])


def test_plan_with_a_named_action_only(run, tmp_path):
    res = run("guardrails.py", "check", "--action", "deploy", "--plan", str(tmp_path / "missing.json"))
    assert res.returncode == 2 and "does not exist" in one_line_error(res)


@pytest.mark.parametrize("target", ["engine._check_command", "engine.check_command"])
def test_internal_error_exits_4_with_one_line(target):
    module, name = target.split(".")
    code = (
        "import sys\n"
        f"from skill.guardrails import {module} as m\n"
        "def boom(*a, **k):\n    raise RuntimeError('injected failure')\n"
        f"m.{name} = boom\n"
        "from skill.guardrails.cli import main\n"
        "sys.exit(main(['check', '--command', 'ls']))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert res.returncode == 4
    assert "injected failure" in one_line_error(res)
    if name == "_check_command":  # the engine itself turned it into a block decision
        assert res.stdout.startswith("BLOCK")


def test_hook_internal_error_exits_2():
    code = (
        "import sys, io\n"
        "from skill.guardrails import engine\n"
        "def boom(*a, **k):\n    raise RuntimeError('injected')\n"
        "engine.check_command = boom\n"
        "from skill.guardrails.cli import main\n"
        "sys.exit(main(['hook']))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        input='{"tool_name": "Bash", "tool_input": {"command": "ls"}}',
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert res.returncode == 2 and "internal error" in res.stderr and res.stdout == ""


HEAVY = ("langgraph", "chromadb", "anthropic", "mcp", "pydantic", "click")


@pytest.mark.parametrize(
    "args,stdin",
    [
        (["check", "--command", "kubectl delete ns payments --context prod"], None),
        (["check", "--action", "deploy_production", "--target", "api", "--json"], None),
        (["hook"], '{"tool_name": "Bash", "cwd": "/tmp", "tool_input": {"command": "git push --force"}}'),
        (["hook"], '{"tool_name": "Write", "tool_input": {"file_path": "/x/.env"}}'),
    ],
)
def test_check_and_hook_paths_import_nothing_heavy(args, stdin):
    # -X importtime lists every module the real process imported (structural, not a timing test).
    res = subprocess.run(
        [sys.executable, "-X", "importtime", str(REPO / "guardrails.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")
    }
    assert "skill.guardrails.engine" in modules  # the probe itself works
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_batch_consumes_an_approval_once(tmp_path):
    from skill.guardrails import approvals
    from skill.guardrails.engine import check_command

    d = check_command("mytool block db", cwd=str(tmp_path), audit=False)
    approvals.approve(d.request_id, by="alice", ttl_seconds=600, authorize=lambda p: "test")
    line = json.dumps({"command": "mytool block db", "cwd": str(tmp_path)}) + "\n"
    other = json.dumps({"command": "mytool block other", "cwd": str(tmp_path)}) + "\n"
    proc = subprocess.run(
        [sys.executable, str(REPO / "guardrails.py"), "check", "--batch", "-"],
        input=(other + line * 3).encode(),
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [o["decision"] for o in out] == ["block", "allow", "block", "block"], proc.stderr
    assert out[1]["approval_used"] and out[2]["request_id"] == d.request_id


@pytest.mark.parametrize("command", ["", "   ", "\n"])
def test_empty_command_is_a_usage_error(run, command):
    res = run("guardrails.py", "check", "--command", command)
    assert res.returncode == 2
    assert "empty" in one_line_error(res)


def test_empty_command_in_the_hook_blocks(run):
    payload = json.dumps({"tool_name": "Bash", "tool_input": {"command": "  "}, "cwd": "/tmp"})
    res = run("guardrails.py", "hook", input=payload)
    assert res.returncode == 2 and res.stdout == ""
