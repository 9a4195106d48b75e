"""The shared core: redaction, durations, findings renderers, the tool runner, the CLI shell."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta

import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.durations import parse_duration, parse_when
from skill.errors import ToolFailedError, ToolMissingError, UsageError
from skill.findings import Finding, at_or_above
from skill.redact import find_secrets, redact, redact_obj
from skill.report import to_markdown, to_sarif
from skill.runner import run_tool

# Fake secrets are assembled at run time so that secret scanners (ours included: the
# readiness check repo.secrets-committed) do not flag this file as a leak.
_GH = "ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789"
_AWS = "AKIA" + "IOSFODNN7EXAMPLE"
_GL = "glpat" + "-abcdefghijklmnopqrst"
_SLACK = "xoxb" + "-1234567890-abcdefghij"
_JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
_PEM = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH " + "PRIVATE KEY-----"
SECRETS = {
    "postgres://admin:" + "hunter2@db.prod:5432/app": "hunter2",
    "AWS_ACCESS_KEY_ID=" + _AWS: _AWS,
    "token " + _GH: _GH,
    _GL: _GL,
    _SLACK: _SLACK,
    "password" + "=s3cr3t!": "s3cr3t!",
    "api_key" + ": 'abcd1234'": "abcd1234",
    "Authorization: Bearer " + "abcdefghijklmnopqrstuvwxyz": "abcdefghijklmnopqrstuvwxyz",
    _PEM: "b3BlbnNzaC1rZXk",
    _JWT: "dozjgNryP4J3jVmNHl0w5N",
    "mysql -u root -p" + "S3cretPw db": "S3cretPw",
    "--password " + "hunter22": "hunter22",
}


@pytest.mark.parametrize("text,secret", SECRETS.items())
def test_redact_removes_each_kind_of_secret(text, secret):
    out = redact(text)
    assert secret not in out
    assert "[REDACTED:" in out
    assert find_secrets(text)


@pytest.mark.parametrize(
    "clean",
    [
        "Deployed api to prod: v1.4.2",
        "grep -r token src/",
        "git commit -m 'rotate the secret key'",
        "kubectl get pods -n prod",
        "see https://example.com/path",
    ],
)
def test_redact_leaves_ordinary_text_alone(clean):
    assert redact(clean) == clean


def test_redact_obj_walks_nested_structures():
    out = redact_obj({"env": {"DB_PASSWORD": "x1", "URL": "https://u:pw123@h/"}, "list": ["password=abc12"]})
    assert out["env"]["DB_PASSWORD"] == "[REDACTED:secret]"
    assert "pw123" not in out["env"]["URL"]
    assert "abc12" not in out["list"][0]


def test_durations():
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("45") == timedelta(seconds=45)
    for junk in ("", "abc", "3 parsecs", "10m junk"):
        with pytest.raises(UsageError):
            parse_duration(junk)
    assert parse_when("2026-01-02T03:04:05Z").year == 2026


def _findings():
    return [
        Finding(
            id="k8s.liveness-probe",
            severity="high",
            message="no liveness probe",
            file="deploy.yaml",
            line=12,
            object="Deployment/prod/api",
            fix="add livenessProbe",
        ),
        Finding(id="docker.healthcheck", severity="low", message="ok", status="pass", file="Dockerfile"),
    ]


def test_sarif_has_results_only_for_problems_and_valid_regions():
    log = json.loads(to_sarif("devops-readiness", _findings()))
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["k8s.liveness-probe"]
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[results[0]["ruleIndex"]]["id"] == "k8s.liveness-probe"


def test_markdown_and_threshold():
    md = to_markdown("Readiness", _findings(), summary_lines=["**No-go**"])
    assert "`k8s.liveness-probe`" in md and "deploy.yaml:12" in md and "docker.healthcheck" not in md
    assert [f.id for f in at_or_above(_findings(), "medium")] == ["k8s.liveness-probe"]
    assert at_or_above(_findings(), "critical") == []


def test_run_tool_missing_and_timeout(tmp_path):
    with pytest.raises(ToolMissingError):
        run_tool(["definitely-not-a-tool-xyz"])
    script = tmp_path / "slow"
    script.write_text("#!/bin/sh\nsleep 5\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ToolFailedError, match="timed out"):
        run_tool([str(script)], timeout=0.3)
    ok = run_tool(["sh", "-c", "echo hi; exit 3"])
    assert ok.returncode == 3 and ok.stdout == "hi\n"
    with pytest.raises(ToolFailedError, match="exit 3"):
        run_tool(["sh", "-c", "echo boom >&2; exit 3"], check=True)


def test_devops_help_lists_commands_without_heavy_imports(run):
    proc = run(
        "-c",
        "import sys; from skill.cli import cli; cli(['--help'], standalone_mode=False); "
        "print(sorted(m for m in ('langgraph','chromadb','anthropic','mcp') if m in sys.modules))",
    )
    assert proc.returncode == 0, proc.stderr
    assert "readiness" in proc.stdout and proc.stdout.strip().endswith("[]")


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2


def _foreign_python() -> str | None:
    """A python3 on this machine that lacks the project's dependencies (system or pyenv)."""
    import shutil
    import subprocess

    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")):
        if candidate and os.path.exists(candidate):
            probe = subprocess.run([candidate, "-c", "import tree_sitter"], capture_output=True)
            if probe.returncode != 0:
                return candidate
    return None


@pytest.mark.parametrize(
    "script,args,code",
    [
        ("guardrails.py", ["check", "--command", "ls"], 0),
        ("guardrails.py", ["check", "--command", "rm -rf /"], 4),
        ("memory.py", ["--help"], 0),
    ],
)
def test_scripts_run_under_a_python_without_our_dependencies(repo_root, script, args, code):
    import subprocess

    foreign = _foreign_python()
    if foreign is None or not (repo_root / ".venv" / "bin" / "python").exists():
        pytest.skip("no dependency-less python3 or no .venv on this machine")
    proc = subprocess.run(
        [foreign, str(repo_root / script), *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == code, proc.stderr


def test_emit_to_an_unwritable_place_is_a_clean_input_error(tmp_path):
    from skill.cli_support import emit
    from skill.errors import InputError

    with pytest.raises(InputError, match="cannot write"):
        emit("report", str(tmp_path / "no-such-dir" / "out.md"))
    emit("report", str(tmp_path / "out.md"))
    assert (tmp_path / "out.md").read_text() == "report\n"


def test_output_to_a_device_writes_through_and_never_replaces_it(tmp_path):
    import stat as st

    from skill.cli_support import emit

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    emit("report", str(fifo))
    reader.join(5)
    assert got == ["report\n"]
    assert st.S_ISFIFO(os.stat(fifo).st_mode)
    assert not list(tmp_path.glob("pipe.tmp*"))


def test_unusable_data_dir_is_a_storage_error(tmp_path, monkeypatch):
    from skill.errors import StorageError
    from skill.paths import ensure_data_dir

    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    monkeypatch.setenv("DEVOPS_HOME", str(blocker / "home"))
    with pytest.raises(StorageError, match="cannot create the data dir"):
        ensure_data_dir()


def test_replacing_a_file_keeps_its_mode_unless_one_is_given(tmp_path):
    from skill.files import write_text

    target = tmp_path / "settings.json"
    target.write_text("{}")
    target.chmod(0o600)
    write_text(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}' and (target.stat().st_mode & 0o777) == 0o600
    write_text(target, "#!/bin/sh\n", mode=0o755)
    assert (target.stat().st_mode & 0o777) == 0o755
