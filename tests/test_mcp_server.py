"""The MCP server: every tool through the SDK's in-memory client, and once as a real stdio process."""

from __future__ import annotations

import json
import os
import sys

import pytest
from mcp import Client, StdioServerParameters

from skill.mcp_server import TOOL_NAMES, build_server

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "sample-service")


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def _call(client, name, args):
    result = await client.call_tool(name, args)
    return result


@pytest.mark.anyio
async def test_lists_every_tool_with_schemas():
    async with Client(build_server()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == set(TOOL_NAMES)
    assert "command" in tools["guardrails_check"].input_schema["properties"]
    assert tools["deploy"].output_schema and "status" in tools["deploy"].output_schema["properties"]


@pytest.mark.anyio
async def test_guardrails_check_and_errors_as_tool_errors():
    async with Client(build_server()) as client:
        ok = await _call(client, "guardrails_check", {"command": "kubectl get pods -n prod"})
        assert not ok.is_error and ok.structured_content["decision"] == "allow"
        bad = await _call(client, "guardrails_check", {"command": "rm -rf /"})
        assert bad.structured_content["decision"] == "block"
        assert bad.structured_content["how_to_approve"] is None  # deny rules cannot be approved
        prod = await _call(client, "guardrails_check", {"action": "deploy_production", "target": "api"})
        assert (
            prod.structured_content["tier"] == 4
            and "guardrails.py approve" in prod.structured_content["how_to_approve"]
        )
        err = await _call(client, "guardrails_check", {})
        assert err.is_error and "exactly one of command or action" in err.content[0].text


@pytest.mark.anyio
async def test_memory_tools_round_trip():
    async with Client(build_server()) as client:
        r = await _call(client, "memory_remember", {"text": "[devops] Deployed api to prod: v1.4.2"})
        assert not r.is_error and r.structured_content["kind"] == "deployment"
        await _call(
            client,
            "memory_remember",
            {
                "text": "[devops] Incident INC-7: api 502s after deploy, resolution=rollback to v1.4.1",
                "importance": 0.9,
            },
        )
        hits = await _call(client, "memory_recall", {"query": "api 502", "limit": 5})
        assert any("INC-7" in h["memory"]["text"] for h in hits.structured_content["hits"])
        triage = await _call(
            client, "memory_triage", {"symptom": "api returns 502", "service": "api", "window": "1h"}
        )
        assert not triage.is_error
        assert any(d["version"] == "v1.4.2" for d in triage.structured_content["recent_deploys"])
        bad = await _call(client, "memory_triage", {"symptom": "x", "window": "soon"})
        assert bad.is_error and "duration" in bad.content[0].text


@pytest.mark.anyio
async def test_analyzers_readiness_ci_audit_iac():
    async with Client(build_server()) as client:
        rep = await _call(client, "readiness_review", {"path": SAMPLE})
        assert not rep.is_error and rep.structured_content["level_achieved"] in (
            "L0",
            "L1",
            "L2",
            "L3",
            "L4",
            None,
        )
        assert rep.structured_content["checks"]
        audit = await _call(client, "ci_audit", {"path": SAMPLE})
        assert not audit.is_error and "findings" in audit.structured_content
        plan = os.path.join(SAMPLE, "infra", "plan.json")
        iac = await _call(client, "iac_review", {"source": plan, "env": "prod"})
        assert not iac.is_error and iac.structured_content["tier"] >= 3
        missing = await _call(client, "iac_review", {"source": "/nonexistent/plan.json"})
        assert missing.is_error


@pytest.mark.anyio
async def test_deploy_is_gated_and_plan_is_side_effect_free():
    async with Client(build_server()) as client:
        plan = await _call(
            client,
            "deploy_plan",
            {"service": "api", "env": "prod", "version": "v1.5.0", "rollback_to": "v1.4.2"},
        )
        assert not plan.is_error and plan.structured_content["rollback"]["version"] == "v1.4.2"
        mutable = await _call(client, "deploy_plan", {"service": "api", "env": "prod", "version": "latest"})
        assert mutable.is_error
        out = await _call(
            client, "deploy", {"service": "api", "env": "prod", "version": "v1.5.0", "rollback_to": "v1.4.2"}
        )
        assert out.structured_content["status"] == "approval_required"
        assert out.structured_content["request_id"] and out.structured_content["tier"] == 4
        pending = await _call(client, "approvals_list", {})
        assert not pending.is_error and isinstance(pending.structured_content["runs"], list)


def _stdio(home) -> StdioServerParameters:
    """`devops mcp` as a real subprocess, the way an MCP host starts it."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "skill.cli", "mcp"],
        env={**os.environ, "DEVOPS_HOME": str(home)},
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )


@pytest.mark.anyio
async def test_real_stdio_subprocess(isolated_home):
    params = _stdio(isolated_home)
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert tools == set(TOOL_NAMES)
        result = await client.call_tool("guardrails_check", {"command": "terraform destroy -auto-approve"})
        payload = result.structured_content or json.loads(result.content[0].text)
        assert payload["decision"] in ("ask", "block") and payload["tier"] >= 3


@pytest.mark.anyio
async def test_published_contract_version_annotations_enums_and_descriptions(isolated_home):
    params = _stdio(isolated_home)
    from skill import __version__

    async with Client(params) as client:
        assert client.server_info.version == __version__
        tools = {t.name: t for t in (await client.list_tools()).tools}
        deploy, recall = tools["deploy"], tools["memory_recall"]
        assert deploy.annotations.destructive_hint is True and deploy.annotations.read_only_hint is False
        assert tools["memory_triage"].annotations.read_only_hint is True
        assert tools["guardrails_check"].annotations.idempotent_hint is True
        assert deploy.input_schema["properties"]["strategy"]["enum"] == ["rolling", "blue-green", "canary"]
        assert "production" in deploy.input_schema["properties"]["env"]["description"]
        assert "24h" in json.dumps(recall.input_schema["properties"]["since"])
        assert "ci_failure" in json.dumps(recall.input_schema["properties"]["kind"])
        assert deploy.input_schema.get("additionalProperties") is False

        typo = await client.call_tool("deploy", {"service": "api", "enviroment": "prod", "version": "v1"})
        assert typo.is_error and "enviroment" in typo.content[0].text
        empty = await client.call_tool("memory_recall", {"query": "   "})
        assert empty.is_error and "must not be empty" in empty.content[0].text
        mars = await client.call_tool(
            "guardrails_check", {"action": "deploy", "target": "api", "env": "marsbase"}
        )
        assert mars.is_error and "unknown environment 'marsbase'" in mars.content[0].text


@pytest.mark.anyio
async def test_hints_name_the_tools_parameters_not_cli_flags():
    async with Client(build_server()) as client:
        # no deployment in memory: no rollback plan, and the fix is the tool's rollback_to parameter
        out = await _call(client, "deploy", {"service": "api", "env": "staging", "version": "v2.0.0"})
        assert out.is_error
        text = out.content[0].text
        assert "rollback_to" in text and "--rollback-to" not in text


@pytest.mark.anyio
async def test_guardrails_check_takes_an_approval_and_a_plan():
    plan = os.path.join(SAMPLE, "infra", "plan.json")
    async with Client(build_server()) as client:
        asked = await _call(
            client, "guardrails_check", {"action": "rollback", "target": "api", "env": "prod"}
        )
        rid = asked.structured_content["request_id"]
        assert asked.structured_content["decision"] == "ask" and rid
        from skill.guardrails import approvals

        granted = approvals.approve(rid, by="alice", ttl_seconds=600, authorize=lambda pending: "test")
        ok = await _call(
            client,
            "guardrails_check",
            {"action": "rollback", "target": "api", "env": "prod", "approval": granted["token"]},
        )
        assert ok.structured_content["decision"] == "allow"
        reviewed = await _call(
            client, "guardrails_check", {"action": "infra_change", "target": "orders", "plan": plan}
        )
        assert reviewed.structured_content["tier"] == 4
        assert any("plan" in r for r in reviewed.structured_content["reasons"])
        wrong = await _call(client, "guardrails_check", {"command": "ls", "plan": plan})
        assert wrong.is_error and "infra_" in wrong.content[0].text
