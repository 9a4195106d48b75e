"""The optional Claude path with the real anthropic SDK against a loopback Messages API stub."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agent.stubs import MessagesStub
from skill.agent import llm
from skill.agent.graph import run


@pytest.fixture
def stub(tmp_path, monkeypatch):
    cfg = tmp_path / "devops-config"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.toml").write_text('[llm]\nmodel = "claude-test-model"\nmax_retries = 0\ntimeout = 3\n')
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic"))
    with MessagesStub() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


def test_disabled_without_a_key(monkeypatch):
    assert not llm.enabled()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "x")
    assert llm.enabled()
    monkeypatch.setenv("DEVOPS_LLM", "off")
    assert not llm.enabled()


def test_route_through_tool_use(stub):
    stub.reply_tool("route_deploy", {"op": "rollback", "service": "api", "env": "production"})
    route, notice = llm.route(
        "the api release from this morning is hurting prod, take it back", ("ci", "deploy", "memory")
    )
    assert notice is None
    assert (route.node, route.by) == ("deploy", "llm")
    assert route.params == {"op": "rollback", "service": "api", "env": "production"}
    req = stub.requests[0]
    assert req["path"] == "/v1/messages"
    assert req["body"]["model"] == "claude-test-model"
    assert [t["name"] for t in req["body"]["tools"]] == ["route_ci", "route_deploy", "route_memory"]
    assert req["body"]["tool_choice"] == {"type": "any"}
    assert "hurting prod" in req["body"]["messages"][0]["content"]
    assert "ci, deploy, memory" in req["body"]["system"]  # the prompt file's variable was filled


def test_graph_uses_claude_for_route_and_summary_and_redacts(stub):
    stub.reply_tool("route_memory", {"op": "recall", "query": "redis"})
    stub.reply_text("Nothing about redis is in memory yet. Record the upgrade next time.")
    out = run("anything we know about redis? the dsn is postgres://admin:hunter2@db.prod:5432/app")
    assert out.status == "done"
    assert (out.node, out.routed_by) == ("memory", "llm")
    assert out.summary == "Nothing about redis is in memory yet. Record the upgrade next time."
    assert len(stub.requests) == 2
    for req in stub.requests:
        assert "hunter2" not in str(req["body"]), "secrets are redacted before anything is sent"
    assert "[REDACTED" in stub.requests[0]["body"]["messages"][0]["content"]


@pytest.mark.parametrize("status", [529, 500, 429])
def test_api_errors_fall_back_with_a_notice(stub, status):
    stub.reply_error(status, "overloaded_error" if status == 529 else "api_error")
    stub.reply_error(status)
    out = run("roll back api in prod")  # rules route it; the summary call fails too
    assert out.routed_by == "rules"
    assert out.node == "deploy"
    notices = [n for n in out.notices if "Claude unavailable" in n]
    assert len(notices) == 2 and str(status) in notices[0]
    assert all("\n" not in n for n in notices)
    assert out.summary == ""


def test_timeout_falls_back(stub, tmp_path):
    (tmp_path / "devops-config" / "config.toml").write_text("[llm]\nmax_retries = 0\ntimeout = 0.3\n")
    stub.reply_error(200, delay=1.5)
    route, notice = llm.route("deploy api 1.2.3 to staging", ("deploy",))
    assert route is None
    assert "Timeout" in notice


def test_no_tool_use_falls_back(stub):
    stub.reply_text("I think this is about CI.")
    route, notice = llm.route("something", ("ci",))
    assert route is None and "did not pick" in notice


def test_cli_prints_one_line_notice_and_succeeds(stub, repo_root):
    stub.reply_error(529)
    stub.reply_error(529)
    env = {**os.environ}
    proc = subprocess.run(
        [sys.executable, "-m", "skill.cli", "ask", "what was the last good version of api?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo_root,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "memory/recall" in proc.stdout
    notice_lines = [line for line in proc.stderr.splitlines() if line.startswith("notice:")]
    assert len(notice_lines) == 2 and "OverloadedError" in notice_lines[0]
    assert "Traceback" not in proc.stderr


def test_prompts_need_their_variables():
    from skill.errors import ConfigError

    with pytest.raises(ConfigError, match="needs variables: nodes"):
        llm.render_prompt("route", request="x")
    system, user = llm.render_prompt(
        "summarize", run={"token": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}, report="r"
    )
    assert "ghp_abcdef" not in user and system.startswith("You write")


def test_postmortem_refiner(stub, capsys):
    assert llm.postmortem_refiner() is not None
    refine = llm.postmortem_refiner()
    stub.reply_text("# Post-mortem (refined)\n\nImpact: 9% of checkouts failed for 21 minutes.")
    assert refine("# Post-mortem\n\nImpact: ...", {}).startswith("# Post-mortem (refined)")
    assert "Impact: ..." in stub.requests[-1]["body"]["messages"][0]["content"]
    stub.reply_error(500, "api_error")
    assert refine("# Draft kept", {}) == "# Draft kept"
    assert "notice: Claude unavailable" in capsys.readouterr().err


def test_refiner_is_off_without_a_key():
    assert llm.postmortem_refiner() is None


def test_model_from_the_environment_wins(stub, monkeypatch):
    monkeypatch.setenv("DEVOPS_LLM_MODEL", "claude-haiku-4-5")
    stub.reply_text("ok")
    text, notice = llm.ask("summarize", run={}, report="r")
    assert (text, notice) == ("ok", None)
    assert stub.requests[-1]["body"]["model"] == "claude-haiku-4-5"
    headers = {k.lower(): v for k, v in stub.requests[-1]["headers"].items()}
    assert "sk-ant-test-key" in headers.get("authorization", "") + headers.get("x-api-key", "")


def test_tool_use_naming_an_unknown_node_falls_back_to_the_rules(stub):
    stub.reply_tool("route_shell", {"command": "rm -rf /"})
    stub.reply_text("ok")
    out = run("roll back api in prod")
    assert (out.node, out.routed_by) == ("deploy", "rules")
    assert any("did not pick a node" in n for n in out.notices)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        {"type": "message", "role": "assistant"},  # no content at all
        {"type": "message", "content": "a string, not blocks", "stop_reason": "end_turn"},
        {"type": "message", "content": [{"type": "tool_use", "name": "route_deploy", "input": "x"}]},
    ],
    ids=["not-json", "no-content", "content-string", "tool-input-not-object"],
)
def test_malformed_answers_fall_back_with_one_line_notices(stub, body):
    stub.reply_raw(200, body)
    stub.reply_raw(200, body)
    out = run("what was the last good version of api?")
    assert out.status == "done"
    assert (out.node, out.op, out.routed_by) == ("memory", "recall", "rules")
    assert out.summary == ""
    assert out.notices and all("\n" not in n for n in out.notices)
    assert len(stub.requests) == 2


def test_missing_key_never_calls_the_stub(stub, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    out = run("roll back api in prod")
    assert out.routed_by == "rules" and stub.requests == []
    assert not any("Claude" in n for n in out.notices)


def test_secrets_in_an_event_are_redacted_before_the_summary_is_sent(stub):
    stub.reply_text("Alert triaged.")
    event = {
        "source": "generic",
        "type": "alert.firing",
        "id": "evt-secret-1",
        "service": "api",
        "title": "api down",
        "summary": "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked in logs",
    }
    from skill.webhooks.events import parse_event

    out = run(event=parse_event(__import__("json").dumps(event).encode(), source="generic"))
    assert out.summary == "Alert triaged."
    sent = str(stub.requests[-1]["body"])
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in sent
    assert "REDACTED" in sent, "the token was in the report and was replaced, not merely absent"
