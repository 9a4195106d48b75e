"""Issue 13's data-level defects, each reproduced through the memory CLI (memory.py's commands).

Every test writes the way an on-call engineer or the agent does (protocol lines, aliases such as
`prod`) and reads back through the same commands people use at 3 a.m.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import test_memory_cli

from skill.memory.service import EXPORT_MEMORY_COLUMNS

invoke = test_memory_cli.invoke  # the CLI runner fixture
_j = test_memory_cli._j


def _remember(invoke, text, *extra):
    return _j(invoke("remember", text, "--json", *extra))


def _deploys(invoke, *args):
    return _j(invoke("deployments", "list", "--json", *args))


def dump_tables(data_dir: Path) -> dict[str, list[tuple]]:
    """Every row of every table of memory.db, without the derived vector bookkeeping and FTS shadows."""
    derived = {"embedding", "embedding_model", "chroma_synced"}
    conn = sqlite3.connect(data_dir / "memory.db")
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'memories_fts%' "
                "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations' ORDER BY name"
            )
        ]
        out = {}
        for table in tables:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in derived]
            out[table] = sorted(
                conn.execute(
                    f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {table}"
                ).fetchall(),
                key=repr,
            )
        return out
    finally:
        conn.close()


# ---------------------------------------------------------------------------- events are never deduped
def test_redeploy_and_rollback_by_protocol_line_are_recorded(invoke):
    line = "[devops] Deployed payments-api to production: v2.3.0"
    first = _remember(invoke, line)
    _remember(invoke, "[devops] Deployed payments-api to production: v2.4.0")
    out = invoke("remember", line)  # the rollback: the same words as the first deploy
    assert out.exit_code == 0
    assert "already remembered" in out.output and "the event is recorded again" in out.output
    assert "rollback from v2.4.0" in out.output

    deps = _deploys(invoke, "-s", "payments-api")
    assert [d["version"] for d in deps] == ["v2.3.0", "v2.4.0", "v2.3.0"]
    assert deps[0]["rolled_back_from"] == "v2.4.0" and deps[0]["memory_id"] == first["id"]
    # The live version is v2.3.0 and v2.4.0 was rolled back: nothing older to go back to.
    good = _j(
        invoke("deployments", "last-good", "payments-api", "production", "--before", "v2.3.0", "--json")
    )
    assert good["last_good_version"] is None
    assert invoke("deployments", "last-good", "payments-api", "production").output.strip() == "v2.3.0"
    tri = _j(invoke("triage", "payments 500s", "-s", "payments-api", "--json"))
    assert "roll back to" not in tri["suggestion"]

    # Redeploying the same live version is a new deployment, not a rollback.
    again = _remember(invoke, line)
    assert again["deployment"]["rolled_back_from"] is None and again["created"] is False
    assert len(_deploys(invoke, "-s", "payments-api")) == 4


def test_a_repeated_incident_line_is_applied_again(invoke):
    _remember(invoke, "[devops] Incident INC-7: checkout 502s after deploy")
    resolve = "[devops] Incident INC-7: checkout 502s after deploy, resolution=rollback to v1.4.1"
    _remember(invoke, resolve)
    _j(invoke("incidents", "update", "INC-7", "--status", "open", "--json"))  # it came back
    again = _remember(invoke, resolve)  # the same words, a second resolution
    assert again["created"] is False and again["incident"]["status"] == "resolved"
    shown = _j(invoke("incidents", "show", "INC-7", "--json"))
    assert shown["status"] == "resolved" and shown["resolution"] == "rollback to v1.4.1"


# ---------------------------------------------------------------------------- export / import is exact
def test_export_import_round_trip_is_exact_in_every_table(invoke, tmp_path, monkeypatch, isolated_home):
    _remember(invoke, "[devops] Deployed payments-api to prod: v2.3.0")
    _remember(invoke, "[devops] Deployed payments-api to prod: v2.4.0")
    _remember(invoke, "[devops] Incident INC-42: payments-api 500s after the v2.4.0 release")
    _remember(invoke, "[devops] Deployed payments-api to prod: v2.3.0")
    _remember(
        invoke, "[devops] Incident INC-42: payments-api 500s after release, resolution=rolled back to v2.3.0"
    )
    wrong = _remember(invoke, "[devops] Deployed orders to staging: v9.9.9")
    _j(invoke("deployments", "retract", wrong["deployment"]["id"], "--reason", "wrong service", "--json"))
    opened = _j(invoke("incidents", "open", "queue lag", "-s", "orders", "--severity", "SEV2", "--json"))
    _j(invoke("incidents", "update", opened["id"], "--status", "mitigated", "--json"))
    old = _remember(invoke, "payments db failover takes 30s", "-s", "payments-api", "--tag", "db")
    _remember(invoke, "payments db failover takes 90s", "-s", "payments-api", "--supersedes", old["id"])
    gone = _remember(invoke, "temporary note")
    _j(invoke("forget", gone["id"], "--reason", "noise", "--json"))

    export = tmp_path / "all.jsonl"
    _j(invoke("export", str(export), "--all", "--json"))
    before = dump_tables(isolated_home)
    assert len(before["incident_events"]) >= 4 and before["audit"]

    fresh = tmp_path / "fresh-home"
    monkeypatch.setenv("DEVOPS_HOME", str(fresh))
    first = _j(invoke("import", str(export), "--json"))
    assert first["errors"] == [] and first["created"] == len(before["memories"])
    assert dump_tables(fresh) == before
    inc = _j(invoke("incidents", "show", "INC-42", "--json"))
    assert inc["status"] == "resolved" and inc["resolution"] == "rolled back to v2.3.0"
    # Running it again changes nothing (an import killed half way is finished by a rerun).
    second = _j(invoke("import", str(export), "--json"))
    assert second["created"] == 0 and dump_tables(fresh) == before
    exported_again = tmp_path / "again.jsonl"
    _j(invoke("export", str(exported_again), "--all", "--json"))
    assert exported_again.read_text() == export.read_text()
    # The export's memory lines are still readable records (text, kind, service ...).
    line = json.loads(export.read_text().splitlines()[0])
    assert line["record"] == "memory" and set(line) <= {"record", *EXPORT_MEMORY_COLUMNS}


# ---------------------------------------------------------------------------- incident ids
def test_generated_incident_ids_cannot_take_a_persons_number(invoke):
    _j(invoke("incidents", "open", "database primary down", "--id", "INC-3", "--severity", "SEV1", "--json"))
    _remember(invoke, "[devops] Incident INC-42: checkout 502s")
    made = _j(invoke("incidents", "open", "search is slow", "--json"))
    assert re.fullmatch(r"INC-\d{8}-[0-9a-f]{4}", made["id"]), made["id"]

    unrelated = invoke("remember", "[devops] Incident INC-3: login page typo, resolution=fixed the copy")
    assert unrelated.exit_code == 2
    assert "INC-3 already exists" in unrelated.stderr and "database primary down" in unrelated.stderr
    assert len(unrelated.stderr.strip().splitlines()) <= 2  # one error line (+ its hint)
    inc3 = _j(invoke("incidents", "show", "INC-3", "--json"))
    assert inc3["status"] == "open" and inc3["resolution"] is None and inc3["severity"] == "SEV1"
    assert not [m for m in _j(invoke("list", "--json")) if "typo" in m["text"]]

    related = _remember(
        invoke, "[devops] Incident INC-3: primary database failed over, resolution=promoted replica"
    )
    assert related["incident"]["id"] == "INC-3" and related["incident"]["status"] == "resolved"


# ---------------------------------------------------------------------------- environments
def test_environment_aliases_are_one_environment_on_write_and_on_every_filter(invoke):
    _remember(invoke, "[devops] Deployed payments-api to prod: v2.3.0")
    _j(invoke("deployments", "record", "payments-api", "production", "v2.4.0", "--json"))
    _remember(invoke, "payments db failover takes 30s", "-s", "payments-api", "--env", "PRD")
    for alias in ("prod", "production", "PRD", "live"):
        assert [d["version"] for d in _deploys(invoke, "--env", alias)] == ["v2.4.0", "v2.3.0"]
        assert invoke("deployments", "last-good", "payments-api", alias).output.strip() == "v2.4.0"
        hits = _j(invoke("recall", "failover", "--env", alias, "--json"))
        assert hits and {h["memory"]["env"] for h in hits} == {"production"}
        assert len(_j(invoke("list", "--env", alias, "--json"))) == 3
    assert _deploys(invoke, "--env", "staging") == []


def test_named_migration_normalises_existing_environment_rows(isolated_home, invoke):
    import sqlite_utils

    from skill.memory.migrations import migrations

    isolated_home.mkdir(parents=True)
    db = sqlite_utils.Database(isolated_home / "memory.db")
    migrations.apply(db, stop_before="m006_environment_names")
    db.execute(
        "INSERT INTO deployments (id, service, env, version, status, started, started_ts, created_at) "
        "VALUES ('dep-old', 'api', 'prod', 'v1.0.0', 'succeeded', '2026-01-01T00:00:00Z', 1767225600, "
        "'2026-01-01T00:00:00Z')"
    )
    db.execute(
        "INSERT INTO memories (id, text, kind, service, env, created_at, created_ts, content_hash, scope) "
        "VALUES ('mem-old', 'old note', 'note', 'api', 'Stage', '2026-01-01T00:00:00Z', 1767225600, 'h', 'note|api')"
    )
    db.conn.commit()
    db.close()
    assert [d["env"] for d in _deploys(invoke)] == ["production"]
    assert _j(invoke("show", "mem-old", "--json"))["env"] == "staging"
    assert invoke("deployments", "last-good", "api", "prod").output.strip() == "v1.0.0"


# ---------------------------------------------------------------------------- incidents without a service
def test_incident_service_is_inferred_from_a_known_service_or_given(invoke):
    _remember(invoke, "[devops] Deployed payments-api to prod: v2.3.0")
    out = invoke("remember", "[devops] Incident INC-101: payments-api p99 above 2s since 14:00")
    assert out.exit_code == 0 and "service payments-api inferred from the text" in out.output
    assert _j(invoke("incidents", "show", "INC-101", "--json"))["service"] == "payments-api"
    assert [i["id"] for i in _j(invoke("incidents", "list", "-s", "payments-api", "--json"))] == ["INC-101"]

    given = _remember(invoke, "[devops] Incident INC-102: queue lag on the consumer, service=orders")
    assert (
        given["incident"]["service"] == "orders" and given["incident"]["title"] == "queue lag on the consumer"
    )
    assert any("service=" in n for n in given["notices"])
    unknown = _remember(invoke, "[devops] Incident INC-103: users see blank pages")
    assert unknown["incident"]["service"] is None
    assert any("no service recorded" in n for n in unknown["notices"])
    # A later line about the incident keeps its service.
    update = _remember(invoke, "[devops] Incident INC-101: p99 back under 300ms, resolution=scaled the pool")
    assert update["incident"]["service"] == "payments-api"


# ---------------------------------------------------------------------------- retraction
def test_a_wrong_deployment_is_retracted_and_last_good_skips_it(invoke, isolated_home):
    _remember(invoke, "[devops] Deployed api to prod: v1.4.1")
    wrong = _remember(invoke, "[devops] Deployed api to prod: v1.4.2")
    assert invoke("deployments", "last-good", "api", "prod").output.strip() == "v1.4.2"
    retracted = _j(invoke("deployments", "retract", wrong["deployment"]["id"], "--reason", "typo", "--json"))
    assert retracted["retracted_at"] and retracted["retracted_reason"] == "typo"
    assert [d["version"] for d in _deploys(invoke)] == ["v1.4.1"]
    assert [d["version"] for d in _deploys(invoke, "--all")] == ["v1.4.2", "v1.4.1"]
    assert invoke("deployments", "last-good", "api", "prod").output.strip() == "v1.4.1"
    twice = invoke("deployments", "retract", wrong["deployment"]["id"])
    assert twice.exit_code == 2 and "already retracted" in twice.stderr
    assert invoke("deployments", "retract", "dep-nope").exit_code == 2

    # Forgetting the memory of a wrong deployment retracts what it recorded.
    other = _remember(invoke, "[devops] Deployed api to prod: v1.5.0")
    _j(invoke("forget", other["id"], "--reason", "never happened", "--json"))
    assert invoke("deployments", "last-good", "api", "prod").output.strip() == "v1.4.1"
    conn = sqlite3.connect(isolated_home / "memory.db")
    actions = [r[0] for r in conn.execute("SELECT action FROM audit ORDER BY seq")]
    conn.close()
    assert actions == ["retract-deployment", "forget", "retract-deployment"]


# ---------------------------------------------------------------------------- versions and redaction
@pytest.mark.parametrize("version", ["v2.4.0", "2.4", "3f9c2ab", "20261206.1", "release-42", "1.4.2-rc.1"])
def test_a_deployment_version_looks_like_a_version(invoke, version):
    r = _remember(invoke, f"[devops] Deployed api to prod: {version}")
    assert r["kind"] == "deployment" and r["deployment"]["version"] == version


@pytest.mark.parametrize(
    "line", ["[devops] Deployed api to prod: it broke", "[DevOps] Deployed api to prod: latest"]
)
def test_a_deploy_line_without_a_version_is_kept_as_a_note_and_says_so(invoke, line):
    out = invoke("remember", line)
    assert out.exit_code == 0 and "does not look like a version" in out.output
    assert _j(invoke("list", "--json"))[0]["kind"] == "note"
    assert _deploys(invoke) == []


def test_redaction_removes_values_not_words(invoke):
    kept = _remember(invoke, "token signing key rotated on the auth service")
    assert _j(invoke("show", kept["id"], "--json"))["text"] == "token signing key rotated on the auth service"
    leaked = _remember(invoke, "rotated: the new token s3cr3t-v4lue-99 is live")
    assert "s3cr3t-v4lue-99" not in _j(invoke("show", leaked["id"], "--json"))["text"]
