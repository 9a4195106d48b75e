"""Memory library: protocol lines, redaction on every store path, dedup, links, supersede,
forget, deployments, incidents, triage, safe FTS queries, the embedder vs chromadb's."""

from __future__ import annotations

import json
import re

import pytest
import test_memory_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.errors import NotFoundError, UsageError
from skill.memory import search as S
from skill.memory.embed import Embedder, chroma_model_dir, plan_batches
from skill.memory.protocol import parse
from skill.memory.service import Memory

memory_backend = test_memory_cli.memory_backend  # every test of `mem` runs on SQLite and on PostgreSQL

SECRET_TEXTS = [
    "deploy used AKIAIOSFODNN7EXAMPLE to push",
    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked in logs",
    "db url postgres://admin:s3cr3tpass@db.internal/app",
    "password=hunter2hunter2 in the env file",
]
RAW_SECRETS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "s3cr3tpass",
    "hunter2hunter2",
]


@pytest.fixture(scope="session")
def embedder():
    e = Embedder()
    if not e.available():
        pytest.skip("embedding model not seeded (run ../shared/models/seed-chroma-cache.sh)")
    return e


@pytest.fixture
def mem(tmp_path, embedder, memory_backend):
    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    assert m.backend == memory_backend
    yield m
    m.close()


def _dump_everything(m: Memory, tmp_path) -> str:
    """Every byte the memory holds: SQLite (all tables) and the chroma folder."""
    m.close()
    blob = b""
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            blob += path.read_bytes()
    return blob.decode("latin-1")


def _files_holding(tmp_path, word: str) -> list[str]:
    return [
        str(p.relative_to(tmp_path))
        for p in (tmp_path / "data").rglob("*")
        if p.is_file() and word.encode() in p.read_bytes()
    ]


def test_protocol_lines_parse():
    d = parse("[devops] Deployed api to prod: v1.4.2")
    assert (d.kind, d.service, d.env, d.version) == ("deployment", "api", "prod", "v1.4.2")
    i = parse("[devops] Incident INC-42: checkout 502s after deploy, resolution=rollback to v1.4.1")
    assert (i.kind, i.incident_id, i.summary, i.resolution) == (
        "incident",
        "INC-42",
        "checkout 502s after deploy",
        "rollback to v1.4.1",
    )
    assert parse("just a note about [devops] things").kind == "note"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Deployed api-gateway to production: 2.3.0", ("api-gateway", "production", "2.3.0", None)),
        ("[devops] Deployed api-gateway to production: 2.3.0", ("api-gateway", "production", "2.3.0", None)),
        ("Deployed web to staging: 3f9c2ab", ("web", "staging", "3f9c2ab", None)),
        ("[DevOps] Deployed web to staging: 3f9c2ab", ("web", "staging", "3f9c2ab", None)),
        ("  [devops]   Deployed   web  to  staging :  3f9c2ab  ", ("web", "staging", "3f9c2ab", None)),
        ("[devops]Deployed api to prod: v2.", ("api", "prod", "v2", None)),
        ("deployed api to prod: v1.4.2 (canary, 10%)", ("api", "prod", "v1.4.2", "(canary, 10%)")),
    ],
)
def test_deployment_line_variants(line, expected):
    d = parse(line)
    assert d.kind == "deployment"
    assert (d.service, d.env, d.version, d.notes) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "[devops] Incident INC-42: checkout 502s, resolution=rollback to v1.4.1",
            ("INC-42", "checkout 502s", "rollback to v1.4.1"),
        ),
        (
            "[devops] Incident INC-42: checkout 502s after deploy",
            ("INC-42", "checkout 502s after deploy", None),
        ),
        (
            "[DEVOPS]  incident  inc-7 :  db down;  resolution = failover to replica.",
            ("inc-7", "db down", "failover to replica"),
        ),
        (
            "Incident INC-9: disk full on runner, resolution=pruned images",
            ("INC-9", "disk full on runner", "pruned images"),
        ),
    ],
)
def test_incident_line_variants(line, expected):
    i = parse(line)
    assert i.kind == "incident"
    assert (i.incident_id, i.summary, i.resolution) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Deployed api to prod: it broke again",  # no prefix, no version-like word: prose
        "Incident report: all fine",
        "[devops] Deployed api to prod:",  # no version at all
        "we deployed api to prod yesterday",
        "just a note about [devops] things",
    ],
)
def test_free_text_stays_a_note(line):
    assert parse(line).kind == "note"


def test_remember_protocol_creates_structured_records(mem):
    r = mem.remember("[devops] Deployed api to prod: v1.4.2")
    assert r.created and r.kind == "deployment" and r.vector == "stored"
    # The environment is stored under the gate's canonical name; the text keeps what was written.
    assert r.deployment and (r.deployment.service, r.deployment.env, r.deployment.version) == (
        "api",
        "production",
        "v1.4.2",
    )
    rec = mem.get(r.id)
    assert (rec.service, rec.env, rec.version) == ("api", "production", "v1.4.2")
    inc = mem.remember(
        "[devops] Incident INC-42: checkout 502s after deploy, resolution=rollback to v1.4.1", importance=0.9
    )
    assert inc.kind == "incident" and inc.incident.id == "INC-42"
    assert inc.incident.resolution == "rollback to v1.4.1" and inc.incident.status == "resolved"
    note = mem.remember("remember to rotate the staging certs")
    assert note.kind == "note"
    assert [d.version for d in mem.deployments(service="api")] == ["v1.4.2"]


def test_secrets_redacted_on_every_store_path(tmp_path, embedder):
    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    for i, text in enumerate(SECRET_TEXTS):
        m.remember(text, service="api", tags=[f"t{i}"], metadata={"note": text, "api_key": "zzzzsecretzzzz"})
    m.record_deployment("api", "prod", "v2.0.0", notes=SECRET_TEXTS[1], by="ci")
    inc = m.open_incident(f"login broken {SECRET_TEXTS[2]}", service="api", summary=SECRET_TEXTS[3])
    m.update_incident(inc.id, summary=SECRET_TEXTS[0])
    m.resolve_incident(inc.id, resolution=f"rotated {SECRET_TEXTS[1]}", root_cause=SECRET_TEXTS[2])
    m.import_jsonl(
        [json.dumps({"text": "imported " + t, "id": f"imp-{i}"}) for i, t in enumerate(SECRET_TEXTS)]
    )
    # Secrets in the side fields: tags, metadata keys and nested values, deployment fields,
    # structured import lines, and the protocol lines' free parts.
    m.remember("tagged note", tags=[SECRET_TEXTS[3], "ok"], metadata={"nested": {"list": [SECRET_TEXTS[0]]}})
    m.record_deployment(
        "web", "prod", "v3.0.0", commit="abc123", strategy="canary", by=SECRET_TEXTS[3], notes="fine"
    )
    m.import_jsonl(
        [
            json.dumps(
                {
                    "text": "structured import",
                    "kind": "incident",
                    "service": "api",
                    "tags": [SECRET_TEXTS[1]],
                    "metadata": {"url": SECRET_TEXTS[2]},
                }
            )
        ]
    )
    m.remember(f"[devops] Deployed api to prod: v9.9.9 {SECRET_TEXTS[0]}")
    m.remember(f"[devops] Incident INC-77: {SECRET_TEXTS[1]}, resolution=rotated {SECRET_TEXTS[3]}")
    hits = m.recall("leaked token password", limit=50)
    assert hits and all(s not in h.memory.text for h in hits for s in RAW_SECRETS)
    everything = _dump_everything(m, tmp_path)
    for secret in [*RAW_SECRETS, "zzzzsecretzzzz"]:
        assert secret not in everything, secret
    assert "[REDACTED:" in everything


def test_exact_duplicates_scoped_by_kind_and_service(mem):
    a = mem.remember("cache warmed after deploy", service="api")
    b = mem.remember("Cache  warmed after deploy", service="api")
    c = mem.remember("cache warmed after deploy", service="web")
    d = mem.remember("cache warmed after deploy", service="api", kind="ci_failure")
    assert a.created and not b.created and b.duplicate_of == a.id
    assert c.created and d.created and len({a.id, c.id, d.id}) == 3


def test_near_duplicate_is_linked_and_folded(mem):
    a = mem.remember("Redis cache eviction storm caused latency spikes on checkout", service="checkout")
    b = mem.remember("Redis cache eviction storm caused latency spikes on the checkout", service="checkout")
    other = mem.remember("Redis cache eviction storm caused latency spikes on the checkout", service="search")
    assert b.created and b.linked_to == a.id
    assert other.linked_to is None
    hits = mem.recall("redis eviction latency", service="checkout")
    ids = [h.memory.id for h in hits]
    assert a.id in ids and b.id not in ids
    assert b.id in hits[ids.index(a.id)].parts["linked"]


def test_correction_supersedes_without_overwriting(mem):
    old = mem.remember("payments db failover takes 30s", service="payments")
    new = mem.remember("payments db failover takes 90s (measured)", service="payments", supersedes=old.id)
    assert mem.get(old.id).text == "payments db failover takes 30s"
    assert mem.get(old.id).superseded_by == new.id
    ids = [h.memory.id for h in mem.recall("payments failover time")]
    assert new.id in ids and old.id not in ids


def test_forget_soft_is_audited_and_hard_erases(mem, tmp_path):
    a = mem.remember("temporary note about the flaky canary")
    b = mem.remember("another note about the flaky canary job")
    mem.forget(a.id, reason="wrong")
    assert mem.get(a.id).deleted_at
    audit = mem._q("SELECT action, target FROM audit")
    assert {"action": "forget", "target": a.id} in audit
    assert a.id not in [h.memory.id for h in mem.recall("flaky canary")]
    mem.forget(b.id, hard=True)
    with pytest.raises(NotFoundError):
        mem.get(b.id)
    assert b.id not in mem.index.ids() and a.id not in mem.index.ids()
    with pytest.raises(NotFoundError):
        mem.forget("mem-nope")


def test_hard_forget_leaves_no_byte_of_the_text(tmp_path, embedder):
    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    for i in range(20):
        m.remember(f"filler note {i} about the deploy pipeline")
    gone = m.remember("plover xylophone quartz runbook", tags=["zebratag"], metadata={"k": "wombatmeta"})
    kept = m.remember("a live note stays")
    out = m.forget(gone.id, hard=True)
    assert gone.id not in [h.memory.id for h in m.recall("plover xylophone quartz")]
    assert m.stats().chroma_count == 21
    everything = _dump_everything(m, tmp_path)  # closes m: SQLite, its WAL, the chroma folder
    for word in ("plover", "xylophone", "quartz", "zebratag", "wombatmeta"):
        # Once seen failing under heavy load and not reproduced since: name where the word was.
        assert word not in everything, (word, _files_holding(tmp_path, word), out, m.warnings)
    assert "a live note stays" in everything and "filler note 7" in everything
    again = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    assert again.recall("a live note")[0].memory.id == kept.id
    assert gone.id not in again.index.ids()
    # A deployment memory erased: the deployment fact stays (last good version), its notes and
    # its link to the erased text go.
    dep = again.record_deployment("api", "prod", "v2.0.0", notes="cassowary rollout notes")
    again.forget(dep.memory_id, hard=True)
    assert again.last_good_version("api", "prod") == "v2.0.0"
    assert [(d.memory_id, d.notes) for d in again.deployments()] == [(None, None)]
    assert "cassowary" not in _dump_everything(again, tmp_path)


def test_reindex_finishes_a_hard_forget_whose_scrub_found_chroma_busy(tmp_path, embedder, monkeypatch):
    from skill.errors import StorageError

    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    kept = m.remember("a live note stays")
    gone = m.remember("plover xylophone quartz runbook")

    def busy(ids):
        raise StorageError("database is locked")

    monkeypatch.setattr(m.index, "scrub", busy)
    out = m.forget(gone.id, hard=True)
    assert out["index"].startswith("removed, not scrubbed") and any("not scrubbed" in w for w in m.warnings)
    chroma_file = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    assert b"xylophone" in chroma_file.read_bytes()
    assert m.reindex()["scrubbed"] == 1
    assert b"xylophone" not in chroma_file.read_bytes()
    assert m.index.ids() == {kept.id}
    m.close()


def test_recall_filters_in_sql(mem):
    mem.remember("disk full on the api nodes", service="api", env="prod", tags=["disk"])
    mem.remember("disk full on the web nodes", service="web", env="staging", tags=["disk"])
    mem.remember(
        "disk full on the batch nodes", service="batch", env="prod", created_at="2020-01-01T00:00:00Z"
    )
    assert {h.memory.service for h in mem.recall("disk full", service="api")} == {"api"}
    assert {h.memory.env for h in mem.recall("disk full", env="prod")} == {"production"}
    assert {h.memory.service for h in mem.recall("disk full", env="production")} == {"api", "batch"}
    assert {h.memory.service for h in mem.recall("disk full", since="30d")} == {"api", "web"}
    assert {h.memory.service for h in mem.recall("disk full", until="2021-01-01")} == {"batch"}
    assert {h.memory.service for h in mem.recall("disk full", tags=["disk"])} == {"api", "web"}
    assert mem.recall("disk full", kind="incident") == []


@pytest.mark.parametrize(
    "query",
    ["v1.4.2", "api-gateway", '"unterminated', "AND OR NOT (", "NEAR(a b", "col:val *", "^start", "-", "''"],
)
def test_fts_queries_never_raise(mem, query):
    mem.remember("api-gateway v1.4.2 rolled out")
    mem.recall(query)
    mem.recall(query, mode="lexical")


def test_version_and_hyphenated_terms_match_lexically(mem):
    target = mem.remember("api-gateway v1.4.2 returned 502 after rollout")
    mem.remember("api gateway notes for v2 planning")
    assert mem.recall("v1.4.2", mode="lexical")[0].memory.id == target.id
    assert mem.recall("api-gateway 502", mode="lexical")[0].memory.id == target.id


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_any_text_is_a_safe_fts_query(mem, text):
    mem.recall(text, mode="lexical")
    mem.recall(text)
    q = S.fts_query(text)
    assert q is None or all(part.startswith('"') for part in q.split(" OR "))


def test_deployments_and_last_good_version(mem):
    mem.record_deployment("api", "prod", "v1.0.0", started="2026-01-01T10:00:00Z")
    mem.record_deployment("api", "prod", "v1.1.0", started="2026-01-02T10:00:00Z")
    mem.record_deployment("api", "prod", "v1.2.0", started="2026-01-03T10:00:00Z", status="failed")
    mem.record_deployment("api", "prod", "v1.1.0-hotfix", started="2026-01-04T10:00:00Z")
    mem.record_deployment(
        "api",
        "prod",
        "v1.1.0",
        started="2026-01-05T10:00:00Z",
        rolled_back_from="v1.1.0-hotfix",
        notes="rollback",
    )
    mem.record_deployment("api", "staging", "v9", started="2026-01-05T10:00:00Z")
    assert [d.version for d in mem.deployments(service="api", env="prod")][:2] == ["v1.1.0", "v1.1.0-hotfix"]
    assert mem.last_good_version("api", "prod") == "v1.1.0"
    assert mem.last_good_version("api", "prod", before_version="v1.1.0") == "v1.0.0"
    assert mem.last_good_version("api", "staging") == "v9"
    assert mem.last_good_version("nope", "prod") is None
    with pytest.raises(UsageError):
        mem.record_deployment("api", "prod", "v3", status="exploded")


def test_last_good_after_a_rollback_and_a_failure(mem):
    for v in ("v1.4.1", "v1.4.2", "v1.4.3"):
        mem.record_deployment("checkout", "production", v)
    assert mem.last_good_version("checkout", "production") == "v1.4.3"
    # v1.4.3 misbehaves: the rollback is a deployment of v1.4.2 from v1.4.3 (no explicit times:
    # record order decides).
    mem.record_deployment("checkout", "production", "v1.4.2", rolled_back_from="v1.4.3", by="oncall")
    assert mem.last_good_version("checkout", "production") == "v1.4.2"
    assert mem.last_good_version("checkout", "production", before_version="v1.4.2") == "v1.4.1"
    mem.record_deployment("checkout", "production", "v1.5.0", status="failed")
    mem.record_deployment("checkout", "production", "v1.4.3")  # redeployed: still rolled back once
    assert mem.last_good_version("checkout", "production") == "v1.4.2"
    assert mem.last_good_version("checkout", "production", before_version="v1.5.0") == "v1.4.2"
    mem.record_deployment("checkout", "production", "v1.6.0", status="rolled_back")
    assert mem.last_good_version("checkout", "production") == "v1.4.2"
    assert mem.last_good_version("checkout", "staging") is None


def test_export_then_import_into_a_fresh_home_gives_the_same_records(tmp_path, embedder):
    import io

    a = Memory.open(tmp_path / "a", chroma_url="", embedder=embedder)
    old = a.remember(
        "payments failover takes 30s", service="payments", tags=["db"], importance=0.7, env="prod"
    )
    a.remember("payments failover takes 90s (measured)", service="payments", supersedes=old.id)
    a.record_deployment("api", "prod", "v1.4.2", commit="abc", strategy="canary", by="ci")
    a.record_deployment("api", "prod", "v1.4.3")
    a.record_deployment("api", "prod", "v1.4.2", rolled_back_from="v1.4.3", by="oncall")
    a.record_deployment("api", "prod", "v1.4.3")  # the same line again: a second row, one memory
    inc = a.open_incident("checkout 502s", severity="SEV2", service="checkout", summary="after deploy")
    a.update_incident(inc.id, status="mitigated")
    a.resolve_incident(inc.id, resolution="rollback to v1.4.1", root_cause="pool size")
    a.remember("Redis cache eviction storm caused latency spikes on checkout", service="checkout")
    linked = a.remember(
        "Redis cache eviction storm caused latency spikes on the checkout", service="checkout"
    )
    assert linked.linked_to
    gone = a.remember("temporary note")
    a.forget(gone.id)

    def snapshot(m: Memory) -> tuple:
        buf = io.StringIO()
        m.export_jsonl(buf, include_deleted=True)
        deps = [d.model_dump(exclude={"id", "created_at", "memory_id"}) for d in m.deployments()]
        incs = [i.model_dump(exclude={"memory_id", "updated_at"}) for i in m.incidents()]
        return buf.getvalue(), deps, incs, m.last_good_version("api", "prod", before_version="v1.4.3")

    exported, deps, incs, good = snapshot(a)
    assert good == "v1.4.2" and len(deps) == 4
    b = Memory.open(tmp_path / "b", chroma_url="", embedder=embedder)
    memory_lines = [line for line in exported.splitlines() if '"record": "memory"' in line]
    assert b.import_jsonl(exported.splitlines())["created"] == len(memory_lines)
    assert snapshot(b) == (exported, deps, incs, good)
    assert b.import_jsonl(exported.splitlines())["created"] == 0  # idempotent
    assert snapshot(b) == (exported, deps, incs, good)
    assert gone.id not in [h.memory.id for h in b.recall("temporary note")]
    # Into a home that has its own INC-1: the snapshot does not rewrite it.
    c = Memory.open(tmp_path / "c", chroma_url="", embedder=embedder)
    own = c.open_incident("billing queue stuck", severity="SEV4", service="billing")
    c.import_jsonl(exported.splitlines())
    assert c.get_incident(own.id).model_dump() == own.model_dump()
    a.close()
    b.close()
    c.close()


def test_incident_lifecycle_keeps_history(mem):
    inc = mem.open_incident("checkout 502s", severity="sev2", service="checkout")
    assert re.fullmatch(r"INC-\d{8}-[0-9a-f]{4}", inc.id) and inc.severity == "SEV2" and inc.status == "open"
    mem.update_incident(inc.id, status="mitigated", summary="rolled traffic to blue")
    done = mem.resolve_incident(
        inc.id, resolution="rollback to v1.4.1", root_cause="bad connection pool size"
    )
    assert done.status == "resolved" and done.resolution == "rollback to v1.4.1"
    events = mem._q("SELECT change FROM incident_events WHERE incident_id = ?", (inc.id,))
    assert len(events) == 3 and "mitigated" in events[1]["change"]
    assert [i.id for i in mem.incidents(status="resolved")] == [inc.id]
    with pytest.raises(UsageError):
        mem.open_incident("dup", id=inc.id)
    with pytest.raises(UsageError):
        mem.update_incident(inc.id, colour="red")


def test_triage_scopes_by_service_and_window_then_similarity(mem):
    mem.record_deployment("checkout", "prod", "v1.4.1", started="10d")
    mem.record_deployment("checkout", "prod", "v1.4.2", started="2h")
    mem.record_deployment("search", "prod", "v7", started="1h")
    old = mem.open_incident("checkout returns 502 after deploy", service="checkout", started="30d")
    mem.resolve_incident(old.id, resolution="rollback to previous version")
    other = mem.open_incident("search index lagging behind writes", service="search", started="20d")
    mem.resolve_incident(other.id, resolution="reindex")
    rep = mem.triage("checkout is throwing 502 errors", service="checkout", window="24h")
    assert [d.version for d in rep.recent_deploys] == ["v1.4.2"]
    assert rep.similar_incidents[0].id == old.id
    assert rep.similar_incidents[0].resolution == "rollback to previous version"
    assert rep.last_good_version == "v1.4.1"
    assert "v1.4.1" in rep.suggestion
    assert all(m.service == "checkout" for m in rep.recent_changes)


def test_model_unavailable_stores_pending_and_falls_back(tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("DEVOPS_MODEL_DIR", str(tmp_path / "no-model"))
    m = Memory.open(tmp_path / "data", chroma_url="")
    r = m.remember("kafka consumer lag on the orders topic", service="orders")
    assert r.created and r.vector == "pending" and "unavailable" in (r.warning or "")
    hits = m.recall("kafka lag")
    assert [h.memory.id for h in hits] == [r.id]
    assert any("fell back to lexical" in w for w in m.warnings)
    assert m.stats(check_index=False).vectors_pending == 1
    m.close()
    monkeypatch.delenv("DEVOPS_MODEL_DIR")
    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    out = m.reindex()
    assert out["embedded"] == 1
    st_ = m.stats()
    assert st_.vectors_pending == 0 and st_.vectors_sqlite == 1 and st_.chroma_count == 1
    assert m.recall("consumers falling behind", mode="vector")[0].memory.id == r.id
    m.close()


def test_chroma_collection_is_cosine(mem):
    mem.remember("something to index")
    assert mem.index.space() == "cosine"


def test_model_dir_matches_chromadb():
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    assert chroma_model_dir() == ONNXMiniLM_L6_V2.DOWNLOAD_PATH / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME


def test_embedder_matches_chromadb_default(embedder):
    import numpy as np
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    texts = [
        "[devops] Deployed api to prod: v1.4.2",
        "checkout 502s after deploy",
        "A bad config caused all of the edge routers to crash. " * 8,
        "x",
        "",
    ]
    ours = embedder.embed(texts)
    theirs = np.array(DefaultEmbeddingFunction()(texts), dtype=np.float32)
    cos = (ours * theirs).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    assert ours.shape == (5, 384)
    assert float(cos.min()) >= 0.9999


@given(st.lists(st.integers(1, 256), max_size=200), st.integers(1, 2048), st.integers(1, 64))
def test_batch_plan_covers_every_text_once_within_budget(lengths, budget, cap):
    plan = plan_batches(lengths, budget, cap)
    assert sorted(i for b in plan for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in plan for i in b]
    assert flat == sorted(flat)  # length-sorted, so each batch pads only to its own longest text
    for b in plan:
        assert len(b) <= cap
        assert len(b) == 1 or len(b) * lengths[b[-1]] <= budget


def test_vectors_do_not_depend_on_how_texts_are_batched(embedder):
    import numpy as np

    texts = [
        "[devops] Deployed api to prod: v1.4.2",
        "checkout 502s after deploy " * 12,
        "db",
        "A bad config caused all of the edge routers to crash and traffic failed over. " * 3,
    ] * 6
    bulk = embedder.embed(texts)
    one_row = Embedder(embedder.directory, token_budget=1, max_batch=1)
    alone = one_row.embed(texts)
    assert float((bulk * alone).sum(axis=1).min()) >= 0.9999
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-5)


def test_team_mode_url_from_env_or_config(tmp_path, monkeypatch):
    cfg = tmp_path / "devops-config"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.toml").write_text('[memory]\nchroma_url = "http://chroma.example:8123"\n')
    m = Memory.open(tmp_path / "data")
    assert m.team_mode and m.index.url == "http://chroma.example:8123"
    m.close()
    monkeypatch.setenv("DEVOPS_CHROMA_URL", "http://127.0.0.1:9999")
    m = Memory.open(tmp_path / "data")
    assert m.index.url == "http://127.0.0.1:9999"
    m.close()
    monkeypatch.setenv("DEVOPS_CHROMA_URL", "")
    m = Memory.open(tmp_path / "data")
    assert not m.team_mode and m.index.mode == "local"
    m.close()


def test_corrupt_chroma_folder_keeps_records_and_reindex_rebuilds(tmp_path, embedder):
    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    first = m.remember("payments ledger reconciled overnight")
    (tmp_path / "data" / "chroma" / "chroma.sqlite3").write_bytes(b"garbage" * 100)
    second = m.remember("kafka broker disk replaced")
    assert second.created and any("vector index unavailable" in w for w in m.warnings)
    st_ = m.stats()
    assert st_.memories == 2 and st_.chroma_error and st_.chroma_pending == 1
    assert m.recall("kafka disk")[0].memory.id == second.id
    (tmp_path / "data" / "chroma").rename(tmp_path / "data" / "chroma.broken")
    assert m.reindex()["pushed"] == 2
    st_ = m.stats()
    assert st_.chroma_count == 2 and st_.chroma_pending == 0
    assert m.index.ids() == {first.id, second.id}
    m.close()


def test_reindex_moves_an_unreadable_chroma_folder_aside_and_rebuilds(tmp_path, embedder):
    m = Memory.open(tmp_path / "data", chroma_url="", embedder=embedder)
    first = m.remember("payments ledger reconciled overnight")
    (tmp_path / "data" / "chroma" / "chroma.sqlite3").write_bytes(b"garbage" * 100)
    second = m.remember("kafka broker disk replaced")
    res = m.reindex()
    aside = list((tmp_path / "data").glob("chroma.corrupt-*"))
    assert res["moved_aside"] == str(aside[0]) and "index_error" not in res
    assert (aside[0] / "chroma.sqlite3").read_bytes() == b"garbage" * 100  # kept, not deleted
    assert m.index.ids() == {first.id, second.id} and m.stats().chroma_pending == 0
    m.close()


def test_one_memory_shared_by_threads(mem):
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> str:
        r = mem.remember(f"thread {i} saw the cache miss storm on shard {i}", service="cache")
        mem.recall("cache miss storm", service="cache")
        return r.id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(work, range(12)))
    assert len(set(ids)) == 12
    assert mem.stats().memories == 12


def test_deployments_of_different_versions_are_not_near_duplicates(tmp_path, embedder):
    mem = Memory.open(tmp_path / "home", embedder=embedder)
    try:
        first = mem.remember("[devops] Deployed checkout to prod: v1.4.2")
        second = mem.remember("[devops] Deployed checkout to prod: v1.4.3")
        again = mem.remember("[devops] Deployed checkout to prod: v1.4.3 ")
        assert first.created and second.created
        assert second.linked_to is None
        assert again.duplicate_of == second.id or again.linked_to == second.id
    finally:
        mem.close()


def test_open_on_an_unusable_data_dir_is_a_storage_error(tmp_path, monkeypatch):
    from skill.errors import StorageError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    monkeypatch.setenv("DEVOPS_HOME", str(blocker / "home"))
    with pytest.raises(StorageError, match="Not a directory"):
        Memory.open()
    with pytest.raises(StorageError, match="cannot open memory"):
        Memory.open(blocker / "home")
