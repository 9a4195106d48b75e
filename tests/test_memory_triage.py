"""Triage an on-call engineer can act on: strong matches only, same service first, and the story
of one incident told through the memory CLI from the first deploy to a restored backup."""

from __future__ import annotations

import json

import pytest
import test_memory_cli
from test_memory_trust import dump_tables

from skill.memory import search as S

invoke = test_memory_cli.invoke  # the CLI runner fixture
memory_backend = test_memory_cli.memory_backend  # every test here runs on SQLite and on PostgreSQL
pytestmark = pytest.mark.usefixtures("memory_backend")
_j = test_memory_cli._j

PAYMENTS_FIX = "raised the connection pool from 10 to 40"


def _seed_other_services(invoke):
    _remember = lambda text: _j(invoke("remember", text, "--json"))  # noqa: E731
    _remember("[devops] Deployed orders to prod: v5.1.0")
    _remember(
        "[devops] Incident INC-77: orders worker pods OOMKilled during the nightly batch, "
        "resolution=raised the memory limit to 2Gi service=orders"
    )
    _remember(
        "[devops] Incident INC-78: card authorisations slow, p99 above 2s on payment checkout, "
        f"resolution={PAYMENTS_FIX} service=payments-api"
    )


def test_an_unrelated_services_fix_is_never_suggested(invoke):
    _seed_other_services(invoke)
    rep = _j(invoke("triage", "search results empty for every query", "-s", "search", "--json"))
    assert rep["similar_incidents"] == []
    assert rep["no_strong_match"].startswith("no strong match among past incidents")
    assert PAYMENTS_FIX not in rep["suggestion"] and "2Gi" not in rep["suggestion"]
    assert "no strong match" in rep["suggestion"]
    text = invoke("triage", "search results empty for every query", "-s", "search").output
    assert "no strong match" in text and "resolution:" not in text

    # The same hint for recall: the closest memories are shown, said to be weak.
    out = invoke("recall", "search results empty for every query")
    assert out.output.startswith("no strong match (best relevance")
    hits = _j(invoke("recall", "search results empty for every query", "--json"))
    assert hits and not any(h["parts"]["strong"] for h in hits)


def test_same_service_first_and_another_service_only_when_strong_and_labelled(invoke):
    _seed_other_services(invoke)
    # orders' own OOM incident is a same-service match; payments' fix is not offered.
    own = _j(invoke("triage", "orders pods OOMKilled and restarting", "-s", "orders", "--json"))
    assert [(s["id"], s["match"]) for s in own["similar_incidents"]] == [("INC-77", "same service")]
    assert "raised the memory limit to 2Gi" in own["suggestion"] and PAYMENTS_FIX not in own["suggestion"]
    assert own["similar_incidents"][0]["relevance"] >= S.MATCH_THRESHOLD

    # A strong match on another service is shown, labelled, and said to be from elsewhere.
    other = _j(
        invoke("triage", "payment card authorisations slow, p99 over two seconds", "-s", "orders", "--json")
    )
    assert [(s["id"], s["match"]) for s in other["similar_incidents"]] == [("INC-78", "other service")]
    assert other["similar_incidents"][0]["relevance"] >= S.OTHER_SERVICE_THRESHOLD
    assert "on another service (payments-api)" in other["suggestion"]
    text = invoke("triage", "payment card authorisations slow, p99 over two seconds", "-s", "orders").output
    assert "[other service: payments-api]" in text

    # The incident node labels it the same way in its next steps.
    from skill.nodes.incident.triage import triage_incident

    rep = triage_incident("payment card authorisations slow, p99 over two seconds", service="orders")
    assert any("INC-78 (other service: payments-api) was resolved by" in step for step in rep.next_steps)
    nothing = triage_incident("search results empty for every query", service="search")
    assert any(step.startswith("No strong match among past incidents") for step in nothing.next_steps)
    assert not any(PAYMENTS_FIX in step for step in nothing.next_steps)


def _story_answers(rep: dict) -> dict:
    """What an on-call engineer reads in a triage report (times of day aside)."""
    return {
        "deploys": [(d["version"], d["env"], d["rolled_back_from"]) for d in rep["recent_deploys"]],
        "last_good": rep["last_good_version"],
        "similar": [(s["id"], s["status"], s["resolution"], s["match"]) for s in rep["similar_incidents"]],
        "suggestion": rep["suggestion"],
    }


def test_on_call_story_from_deploy_to_restored_backup(
    invoke, tmp_path, monkeypatch, isolated_home, memory_backend
):
    def remember(text):
        out = invoke("remember", text, "--json")
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    _seed_other_services(invoke)
    # Monday: two releases.
    first = remember("[devops] Deployed payments-api to prod: v2.3.0")
    assert first["deployment"]["env"] == "production"
    remember("[devops] Deployed payments-api to prod: v2.4.0")
    # The pager: refunds fail. The incident line names the service only in its text.
    inc = remember("[devops] Incident INC-501: payments-api refunds failing with 502s after the release")
    assert inc["incident"]["service"] == "payments-api" and inc["incident"]["status"] == "open"
    assert any("inferred from the text" in n for n in inc["notices"])

    during = _j(invoke("triage", "refunds return 5xx", "-s", "payments-api", "--json"))
    assert _story_answers(during)["deploys"] == [
        ("v2.4.0", "production", None),
        ("v2.3.0", "production", None),
    ]
    assert during["last_good_version"] == "v2.3.0"
    assert "roll back to v2.3.0" in during["suggestion"]
    assert [(s["id"], s["status"], s["match"]) for s in during["similar_incidents"]] == [
        ("INC-501", "open", "same service")
    ]
    assert "no resolution recorded" in during["suggestion"] and PAYMENTS_FIX not in during["suggestion"]

    # Rollback, written as the protocol line of the first deploy.
    rollback = remember("[devops] Deployed payments-api to prod: v2.3.0")
    assert rollback["created"] is False and rollback["deployment"]["rolled_back_from"] == "v2.4.0"
    resolved = remember(
        "[devops] Incident INC-501: payments-api refunds failing, resolution=rolled back to v2.3.0"
    )
    assert resolved["incident"]["status"] == "resolved"
    # The fix ships as v2.4.1.
    remember("[devops] Deployed payments-api to prod: v2.4.1")

    after = _j(invoke("triage", "refunds return 5xx again", "-s", "payments-api", "--json"))
    answers = _story_answers(after)
    assert answers["deploys"] == [
        ("v2.4.1", "production", None),
        ("v2.3.0", "production", "v2.4.0"),
        ("v2.4.0", "production", None),
        ("v2.3.0", "production", None),
    ]
    assert answers["last_good"] == "v2.3.0"  # v2.4.0 was rolled back, v2.4.1 is the suspect
    assert answers["similar"] == [("INC-501", "resolved", "rolled back to v2.3.0", "same service")]
    assert "payments-api v2.4.1 was deployed to production" in answers["suggestion"]
    assert "roll back to v2.3.0" in answers["suggestion"]
    assert "INC-501 was resolved by: rolled back to v2.3.0" in answers["suggestion"]
    assert PAYMENTS_FIX not in answers["suggestion"]
    last_good = invoke("deployments", "last-good", "payments-api", "prod", "--before", "v2.4.1")
    assert last_good.output.strip() == "v2.3.0"

    if memory_backend == "postgres":
        # Team mode: the records live in the team database, so another engineer's laptop (a new,
        # empty home, its own chroma folder) tells the same story without any import.
        monkeypatch.setenv("DEVOPS_HOME", str(tmp_path / "colleague"))
    else:
        # The laptop dies; the backup is restored into a new home and tells the same story.
        backup = tmp_path / "backup.jsonl"
        _j(invoke("export", str(backup), "--all", "--json"))
        before = dump_tables(isolated_home)
        monkeypatch.setenv("DEVOPS_HOME", str(tmp_path / "new-laptop"))
        assert _j(invoke("import", str(backup), "--json"))["errors"] == []
        assert dump_tables(tmp_path / "new-laptop") == before
    restored = _j(invoke("triage", "refunds return 5xx again", "-s", "payments-api", "--json"))
    assert _story_answers(restored) == answers
