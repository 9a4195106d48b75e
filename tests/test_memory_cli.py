"""The memory CLI (in-process through click's runner, plus real processes for the entry points)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from skill.memory.cli import cli


@pytest.fixture
def invoke():
    runner = CliRunner()

    def _invoke(*args, input=None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return _invoke


@pytest.fixture(params=["sqlite", "postgres"])
def memory_backend(request) -> str:
    """Memory's records in memory.db, or in a fresh PostgreSQL database (team mode, issue 16).

    Vectors stay in the local chroma folder either way; only the records store moves.
    """
    if request.param == "postgres":
        request.getfixturevalue("team_mode")
    return request.param


def _j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_remember_recall_show_list_forget_roundtrip(invoke):
    dep = _j(invoke("remember", "[devops] Deployed api to prod: v1.4.2", "--json"))
    assert dep["kind"] == "deployment" and dep["deployment"]["version"] == "v1.4.2"
    inc = _j(
        invoke(
            "remember",
            "[devops] Incident INC-42: checkout 502s after deploy, resolution=rollback to v1.4.1",
            "--importance",
            "0.9",
            "--json",
        )
    )
    assert inc["incident"]["id"] == "INC-42"
    note = _j(
        invoke(
            "remember", "rotate staging certs before friday", "--tag", "certs", "--service", "edge", "--json"
        )
    )
    again = _j(invoke("remember", "rotate staging certs before friday", "--service", "edge", "--json"))
    assert again["created"] is False and again["duplicate_of"] == note["id"]

    hits = _j(invoke("recall", "checkout errors after a release", "--json", "--limit", "3"))
    assert hits[0]["memory"]["id"] == inc["id"]
    assert {"cosine", "coverage", "recency", "importance"} <= set(hits[0]["parts"])
    text = invoke("recall", "certificates", "--explain", "--tag", "certs")
    assert note["id"] in text.output and "cosine=" in text.output
    assert _j(invoke("recall", "v1.4.2", "--kind", "deployment", "--json"))[0]["memory"]["id"] == dep["id"]

    shown = _j(invoke("show", note["id"], "--json"))
    assert shown["tags"] == ["certs"] and shown["service"] == "edge"
    assert len(_j(invoke("list", "--json"))) == 3
    _j(invoke("forget", note["id"], "--reason", "done", "--json"))
    assert note["id"] not in [m["id"] for m in _j(invoke("list", "--json"))]
    assert note["id"] in [m["id"] for m in _j(invoke("list", "--all", "--json"))]


def test_errors_are_one_line_with_exit_codes(invoke):
    r = invoke("show", "mem-missing")
    assert r.exit_code == 2 and r.stderr.strip() == "Error: no memory with id 'mem-missing'"
    r = invoke("remember", "   ")
    assert r.exit_code == 2 and "empty" in r.stderr
    r = invoke("remember", "x", "--importance", "3")
    assert r.exit_code == 2 and "between 0 and 1" in r.stderr
    r = invoke("remember", "x", "--metadata", "{nope")
    assert r.exit_code == 2 and "JSON" in r.stderr
    r = invoke("recall", "x", "--since", "yesterday-ish")
    assert r.exit_code == 2 and "invalid duration" in r.stderr
    r = invoke("incidents", "update", "INC-404", "--summary", "x")
    assert r.exit_code == 2 and "no incident" in r.stderr


def test_bad_input_is_one_line_and_loses_nothing(invoke, tmp_path):
    kept = _j(invoke("remember", "keep this note", "--json"))
    for args, needle in [
        (("remember", ""), "empty"),
        (("recall", "  "), "needs a query"),
        (("remember", "x", "--importance", "-1"), "between 0 and 1"),
        (("recall", "x", "--kind", "bogus"), "bogus"),
        (("list", "--kind", "bogus"), "bogus"),
        (("forget", "mem-nope"), "no memory"),
        (("forget", "mem-nope", "--hard"), "no memory"),
        (("import", str(tmp_path / "missing.jsonl")), "cannot read"),
        (("export", str(tmp_path / "no" / "such" / "dir" / "out.jsonl")), "cannot write"),
    ]:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert needle in r.stderr and "Traceback" not in r.output, (args, r.output)
        assert r.stderr.strip().splitlines()[-1].startswith("Error: "), (args, r.stderr)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(bytes(range(256)) * 4)
    r = invoke("import", str(binary))
    assert r.exit_code == 2 and "cannot read" in r.stderr
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('not json\n{"text": "a good line"}\n[1, 2]\n{"kind": "note"}\n', encoding="utf-8")
    r = invoke("import", str(mixed), "--json")
    assert r.exit_code == 1  # some lines rejected: reported, the good one imported
    assert {m["text"] for m in _j(invoke("list", "--json"))} == {"keep this note", "a good line"}
    assert _j(invoke("show", kept["id"], "--json"))["text"] == "keep this note"
    assert not list(tmp_path.glob("**/*.tmp*"))


def test_deployments_incidents_triage_commands(invoke):
    _j(invoke("deployments", "record", "api", "prod", "v1.0.0", "--started", "3d", "--json"))
    _j(invoke("deployments", "record", "api", "prod", "v1.1.0", "--started", "1h", "--by", "ci", "--json"))
    listed = _j(invoke("deployments", "list", "--service", "api", "--since", "24h", "--json"))
    assert [d["version"] for d in listed] == ["v1.1.0"]
    good = _j(invoke("deployments", "last-good", "api", "prod", "--before", "v1.1.0", "--json"))
    assert good["last_good_version"] == "v1.0.0"
    opened = _j(
        invoke("incidents", "open", "api latency spike", "--severity", "SEV2", "--service", "api", "--json")
    )
    _j(invoke("incidents", "update", opened["id"], "--status", "mitigated", "--json"))
    done = _j(invoke("incidents", "resolve", opened["id"], "-r", "scaled the pool", "--json"))
    assert done["status"] == "resolved"
    assert [i["id"] for i in _j(invoke("incidents", "list", "--status", "resolved", "--json"))] == [
        opened["id"]
    ]
    rep = _j(invoke("triage", "api is slow and timing out", "--service", "api", "--window", "24h", "--json"))
    assert [d["version"] for d in rep["recent_deploys"]] == ["v1.1.0"]
    assert rep["similar_incidents"][0]["id"] == opened["id"]
    assert rep["similar_incidents"][0]["resolution"] == "scaled the pool"
    assert rep["last_good_version"] == "v1.0.0"
    human = invoke("triage", "api is slow", "--service", "api")
    assert "Last good version: v1.0.0" in human.output


def test_import_export_keep_caller_ids_and_are_idempotent(invoke, tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "ext-1", "text": "payments queue backed up after the kafka upgrade", "service": "payments"},
        {"id": "ext-2", "text": "[devops] Deployed web to prod: 2.3.1"},
        {"text": "note without an id", "tags": ["misc"], "importance": 0.2},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    r = invoke("import", str(src), "--json")
    assert r.exit_code == 1  # the bad line is reported, the rest imported
    first = json.loads(r.stdout)
    assert first["created"] == 3 and len(first["errors"]) == 1
    second = json.loads(invoke("import", str(src), "--json").stdout)
    assert second["created"] == 0 and second["duplicates"] == 3
    hits = _j(invoke("recall", "kafka upgrade backlog", "--json"))
    assert hits[0]["memory"]["id"] == "ext-1"
    out = tmp_path / "out.jsonl"
    _j(invoke("export", str(out), "--json"))
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    memories = [e for e in exported if e["record"] == "memory"]
    assert {"ext-1", "ext-2"} <= {e["id"] for e in memories} and len(memories) == 3
    assert next(e for e in memories if e["id"] == "ext-2")["kind"] == "deployment"
    # The one deployment row (the second import did not add another), and its memory.
    assert [(e["memory_id"], e["env"]) for e in exported if e["record"] == "deployments"] == [
        ("ext-2", "production")
    ]
    stdout_export = invoke("export")
    assert stdout_export.stdout.splitlines() == out.read_text().splitlines()


def test_stats_and_reindex(invoke):
    _j(invoke("remember", "one thing", "--json"))
    _j(invoke("remember", "another thing entirely", "--json"))
    st = _j(invoke("stats", "--json"))
    assert st["memories"] == 2 and st["vectors_sqlite"] == 2 and st["chroma_count"] == 2
    out = _j(invoke("reindex", "--full", "--json"))
    assert out["embedded"] == 2
    assert _j(invoke("stats", "--json"))["chroma_count"] == 2


def test_entry_points_run_as_processes(run):
    helped = run("memory.py", "--help")
    assert helped.returncode == 0 and "recall" in helped.stdout and "triage" in helped.stdout
    r = run("memory.py", "remember", "[devops] Deployed api to prod: v9.9.9", "--json")
    assert r.returncode == 0, r.stderr
    mid = json.loads(r.stdout)["id"]
    via_devops = run("-m", "skill.cli", "memory", "recall", "v9.9.9", "--json")
    assert via_devops.returncode == 0, via_devops.stderr
    assert json.loads(via_devops.stdout)[0]["memory"]["id"] == mid


def test_reindex_fails_loudly_when_the_index_is_unreachable(invoke, monkeypatch):
    import socket

    _j(invoke("remember", "a note kept in SQLite", "--json"))
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DEVOPS_CHROMA_URL", f"http://127.0.0.1:{port}")
    r = invoke("reindex")
    assert r.exit_code == 5  # an operational failure, not a finding
    assert r.stderr.strip().splitlines()[-1].startswith("Error: reindex could not update the vector index")
    monkeypatch.delenv("DEVOPS_CHROMA_URL")
    assert _j(invoke("stats", "--json"))["memories"] == 1


def test_without_the_model_records_wait_and_reindex_fills_them(invoke, monkeypatch, tmp_path):
    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setenv("DEVOPS_MODEL_DIR", str(empty))
    r = invoke("remember", "kafka consumer lag on orders after the upgrade", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["vector"] == "pending"
    assert "embedding model unavailable" in r.stderr and "Traceback" not in r.output
    r = invoke("recall", "kafka lag", "--json")
    assert r.exit_code == 0 and "fell back to lexical" in r.stderr
    assert json.loads(r.stdout)[0]["memory"]["text"].startswith("kafka consumer lag")
    r = invoke("reindex")
    assert r.exit_code == 5 and r.stderr.strip().splitlines()[-1].startswith("Error: cannot reindex")
    assert _j(invoke("stats", "--json"))["vectors_pending"] == 1
    monkeypatch.delenv("DEVOPS_MODEL_DIR")
    r = invoke("reindex")  # human output: a progress bar on stderr
    assert r.exit_code == 0 and "embedding" in r.stderr and "embedded 1" in r.stdout
    st = _j(invoke("stats", "--json"))
    assert st["vectors_pending"] == 0 and st["vectors_sqlite"] == 1 and st["chroma_count"] == 1
