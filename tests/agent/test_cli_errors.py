"""The graph commands on bad input: one line on stderr, a documented exit code, never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from skill.cli import cli


@pytest.fixture
def files(tmp_path):
    (tmp_path / "binary.json").write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe")
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "array.json").write_text("[1, 2]")
    (tmp_path / "untyped.json").write_text('{"a": 1}')
    (tmp_path / "weird.json").write_text('{"type": "weird.thing", "id": "w1"}')
    (tmp_path / "empty.json").write_text("")
    return tmp_path


CASES = [
    (["handle", "{d}/missing.json"], 2, "cannot read"),
    (["handle", "{d}/binary.json"], 2, "not valid JSON"),
    (["handle", "{d}/broken.json"], 2, "not valid JSON"),
    (["handle", "{d}/empty.json"], 2, "not valid JSON"),
    (["handle", "{d}/array.json"], 2, "must be a JSON object"),
    (["handle", "{d}/untyped.json"], 2, 'needs a "type"'),
    (["handle", "{d}/untyped.json", "--source", "bogus"], 2, "Invalid value for '--source'"),
    (["handle", "{d}/untyped.json", "--source", "github"], 2, "X-GitHub-Event"),
    (["handle", "{d}/untyped.json", "--event-type", "weird"], 2, "is not handled"),
    (["handle", "{d}/weird.json", "--source", "generic"], 2, "unknown generic event type 'weird.thing'"),
    (["approvals", "approve", "rq-nope", "--by", "alice"], 2, "no run or approval request 'rq-nope'"),
    (["approvals", "reject", "rq-nope"], 2, "no run or approval request"),
    (["approvals", "approve", "rq-nope"], 2, "Missing option '--by'"),
    (["runs", "show", "run-nope"], 2, "no run or approval request 'run-nope'"),
    (["runs", "prune", "--older-than", "soon"], 2, "soon"),
    (["handle", "{d}/untyped.json", "--source", "gitlab", "--event-type", "push"], 2, "cannot go with"),
    (["runs", "list", "--status", "finished"], 2, "Invalid value for '--status'"),
    (["ask", "is it ready?", "--cwd", "{d}/nowhere"], 2, "does not exist"),
    (["ask", ""], 2, "give a request text"),
    (["ask", "   "], 2, "give a request text"),
]


@pytest.mark.parametrize("args,code,message", CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_bad_input_is_one_line_and_a_usage_exit(files, args, code, message):
    result = CliRunner().invoke(cli, [a.format(d=files) for a in args])
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.output


def test_nothing_is_recorded_for_rejected_input(files):
    runner = CliRunner()
    runner.invoke(cli, ["ask", "   "])
    runner.invoke(cli, ["handle", str(files / "weird.json")])
    listed = runner.invoke(cli, ["runs", "list", "--json"])
    assert json.loads(listed.stdout) == []


def test_approving_a_finished_run_is_refused(files):
    runner = CliRunner()
    done = json.loads(runner.invoke(cli, ["ask", "hello there", "--json"]).stdout)
    assert done["status"] == "done"
    for args in (["approve", done["run_id"], "--by", "alice"], ["reject", done["run_id"]]):
        result = runner.invoke(cli, ["approvals", *args])
        assert result.exit_code == 2
        assert f"run {done['run_id']} is not waiting for approval (status: done)" in result.stderr


def test_serve_on_a_port_in_use_is_one_line(repo_root):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "skill.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=repo_root,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "Traceback" not in proc.stderr


def test_doctor_with_an_unusable_data_dir_still_shows_every_row(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DEVOPS_HOME", str(blocker))  # a file where the folder should be (root ignores modes)
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    rows = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert rows["data dir"]["status"] == "fail" and "cannot create the data dir" in rows["data dir"]["detail"]
    assert {"config.toml", "gh", "chroma server"} <= set(rows)


def test_demo_refuses_a_folder_that_already_holds_data(tmp_path):
    used = tmp_path / "used"
    (used / "data").mkdir(parents=True)
    (used / "data" / "memory.db").write_text("someone's data")
    result = CliRunner().invoke(cli, ["demo", "--data-dir", str(used)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: --data-dir {used} is not empty; give a new or empty folder"
    assert sorted(p.name for p in used.rglob("*")) == ["data", "memory.db"]


@pytest.mark.parametrize(
    "request_text",
    ["is {d}/nowhere ready for production?", "audit the workflows in {d}/nowhere"],
)
def test_a_review_of_a_missing_folder_fails_instead_of_passing(files, request_text):
    result = CliRunner().invoke(cli, ["ask", request_text.format(d=files), "--json"])
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "failed"
    assert out["error"] == f"{files}/nowhere does not exist"
