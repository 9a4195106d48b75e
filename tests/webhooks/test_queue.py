"""The webhook queue's semantics on both real stores (SQLite, PostgreSQL): leases, expiry, renewal,
bounded retries, dead items, and claims from several real processes that never take the same item
twice."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from skill.errors import NotFoundError, UsageError
from skill.webhooks.inbox import Inbox


@pytest.fixture(params=["sqlite", "postgres"])
def queue(request):
    """Inboxes on the embedded file, or on a fresh PostgreSQL database (subprocesses follow)."""
    if request.param == "postgres":
        request.getfixturevalue("team_mode")
    opened: list[Inbox] = []

    def make(**kwargs) -> Inbox:
        q = Inbox(**kwargs)
        assert q.backend == request.param
        opened.append(q)
        return q

    yield make
    for q in opened:
        q.close()


def _add(q: Inbox, n: int, source: str = "generic") -> list[int]:
    return [q.add(source, f"d-{i}", b'{"type": "alert"}', {"x-delivery-id": f"d-{i}"})[0] for i in range(n)]


def test_a_claimed_item_is_leased_to_one_worker_and_done_once(queue):
    q = queue()
    [first] = _add(q, 1)
    assert q.add("generic", "d-0", b"{}", {}) == (first, False)  # a redelivery is not queued again
    item = q.claim("host/1/w0")
    assert item["id"] == first and item["attempts"] == 1 and item["body"] == b'{"type": "alert"}'
    assert q.claim("host/2/w0") is None, "a leased item is not claimable by another worker"
    held = q.get(first)
    assert held.status == "processing" and held.lease_owner == "host/1/w0"
    assert held.lease_until > time.time() + 50
    assert q.finish(first, "host/2/w0", run_id="evt-x", run_status="done") is False
    assert q.finish(first, "host/1/w0", run_id=f"evt-{first}", run_status="done") is True
    done = q.get(first)
    assert (done.status, done.run_id, done.lease_owner) == ("done", f"evt-{first}", None)
    assert q.claim("host/1/w0") is None


def test_an_expired_lease_makes_the_item_claimable_again_and_the_old_owner_loses_it(queue):
    q = queue(lease_seconds=0.3)
    [item_id] = _add(q, 1)
    assert q.claim("host/1/w0")["id"] == item_id
    assert q.renew([item_id], "host/1/w0") == [], "the owner renews its own lease"
    time.sleep(0.4)
    taken = q.claim("host/2/w0")
    assert taken["id"] == item_id and taken["attempts"] == 2
    assert q.renew([item_id], "host/1/w0") == [item_id], "the stalled worker learns it lost the item"
    assert q.finish(item_id, "host/1/w0", run_id="evt-1", run_status="done") is False
    assert q.fail(item_id, "host/1/w0", "late", retry=True) is None
    assert q.finish(item_id, "host/2/w0", run_id="evt-1", run_status="done") is True


def test_retries_back_off_and_stop_at_a_dead_state_that_can_be_retried(queue):
    q = queue(max_attempts=2)
    [item_id] = _add(q, 1)
    q.claim("w")
    assert q.fail(item_id, "w", "ConnectionError: boom", retry=True) == "pending"
    pending = q.get(item_id)
    assert pending.not_before > time.time() + 1, "a failed item waits before its next attempt"
    assert q.claim("w") is None
    with q._transaction() as conn:  # skip the backoff instead of sleeping through it
        conn.execute("UPDATE inbox SET not_before = 0 WHERE id = ?", (item_id,))
    assert q.claim("w")["attempts"] == 2
    assert q.fail(item_id, "w", "ConnectionError: boom again", retry=True) == "dead"
    dead = q.get(item_id)
    assert dead.status == "dead" and "boom again" in dead.error and dead.finished
    assert q.claim("w") is None
    assert [i.id for i in q.list(status="dead")] == [item_id]
    assert q.counts() == {"dead": 1}

    again = q.retry(item_id)
    assert (again.status, again.attempts) == ("pending", 0)
    with pytest.raises(UsageError, match="is not dead"):
        q.retry(item_id)
    with pytest.raises(NotFoundError):
        q.get(999)


def test_hosts_with_skewed_clocks_measure_leases_by_the_database_clock(team_mode, monkeypatch):
    """Two hosts' clocks differ; in team mode the lease is measured by the server's clock, so a
    host running ten minutes ahead does not take over an event another host is working on."""
    host_a, host_b = Inbox(), Inbox()
    try:
        [item_id] = _add(host_a, 1)
        assert host_a.claim("host-a/1/w0")["id"] == item_id
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 600)  # host B's clock, ten minutes ahead
        assert host_b.claim("host-b/1/w0") is None, "the lease has not expired by the database's clock"
        assert host_b.renew([item_id], "host-b/1/w0") == [item_id]
        monkeypatch.setattr(time, "time", lambda: real() - 600)  # host A's clock, ten minutes behind
        assert host_a.renew([item_id], "host-a/1/w0") == [], "its renewal still extends the lease"
        assert host_b.claim("host-b/1/w0") is None
        assert host_a.finish(item_id, "host-a/1/w0", run_id="evt-1", run_status="done") is True
    finally:
        host_a.close()
        host_b.close()


def test_a_bad_event_is_dead_at_once_and_a_worker_that_keeps_dying_makes_it_dead(queue):
    q = queue(lease_seconds=0.2, max_attempts=2)
    bad, poison = _add(q, 2)
    q.claim("w")
    assert q.fail(bad, "w", "InputError: not a valid event", retry=False) == "dead"
    for attempt in (1, 2):  # the worker dies holding it: never finishes, never renews
        item = q.claim(f"host/{attempt}/w0")
        assert (item["id"], item["attempts"]) == (poison, attempt)
        time.sleep(0.3)
    assert q.claim("host/3/w0") is None
    dead = q.get(poison)
    assert dead.status == "dead" and "lease expired on attempt 2" in dead.error


def test_release_orphans_takes_back_only_leases_of_dead_local_processes(queue):
    import os
    import socket

    q = queue()
    a, b = _add(q, 2)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    host = socket.gethostname()
    q.claim(f"{host}/{dead_pid}/w0")
    q.claim(f"{host}/{os.getpid()}/w0")
    assert q.release_orphans() == 1
    item = q.claim(f"{host}/{os.getpid()}/w1")
    assert item["id"] == a and item["attempts"] == 2
    assert q.get(b).lease_owner == f"{host}/{os.getpid()}/w0"


CLAIMER = r"""
import json, os, sys, time
from skill.webhooks.inbox import Inbox
q = Inbox()
owner, go, got = sys.argv[1], sys.argv[2], []
while not os.path.exists(go):  # all claimers start together
    time.sleep(0.01)
while True:
    item = q.claim(owner)
    if item is None:
        break
    got.append(item["id"])
    time.sleep(0.01)  # the work, so that one claimer cannot drain the queue before the others run
    q.finish(item["id"], owner, run_id=None, run_status="done")
print(json.dumps(got))
"""


def test_claimers_in_several_processes_take_every_item_exactly_once(queue, repo_root, tmp_path):
    q = queue()
    ids = _add(q, 300)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, f"proc-{n}", str(go)],
            cwd=repo_root,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    time.sleep(1.0)
    go.touch()
    claimed: list[int] = []
    per_process = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        got = json.loads(out)
        per_process.append(len(got))
        claimed += got
    assert sorted(claimed) == sorted(ids), "no item lost, none taken twice"
    assert q.counts() == {"done": 300}
    assert sum(1 for n in per_process if n) >= 2, f"the claimers shared the work: {per_process}"


def test_inbox_cli_lists_dead_items_and_retries_them(queue, run):
    q = queue(max_attempts=1)
    ok, dead = _add(q, 2)
    q.claim("w")
    q.finish(ok, "w", run_id=f"evt-{ok}", run_status="done")
    q.claim("w")
    q.fail(dead, "w", "RuntimeError: the tool crashed", retry=True)

    listed = run("-m", "skill.cli", "inbox", "list", "--status", "dead")
    assert listed.returncode == 0, listed.stderr
    assert "queue: dead 1, done 1" in listed.stdout
    assert "dead" in listed.stdout and "RuntimeError: the tool crashed" in listed.stdout
    assert f"evt-{ok}" not in listed.stdout
    as_json = json.loads(run("-m", "skill.cli", "inbox", "list", "--json").stdout)
    assert as_json["counts"] == {"dead": 1, "done": 1} and len(as_json["items"]) == 2

    shown = run("-m", "skill.cli", "inbox", "show", str(dead))
    assert "status dead  attempts 1" in shown.stdout and "the tool crashed" in shown.stdout
    retried = run("-m", "skill.cli", "inbox", "retry", str(dead), "--json")
    assert retried.returncode == 0 and json.loads(retried.stdout)["status"] == "pending"
    twice = run("-m", "skill.cli", "inbox", "retry", str(dead))
    assert twice.returncode == 2 and twice.stderr.strip().startswith("Error: inbox item")
    assert len(twice.stderr.strip().splitlines()) == 1
    missing = run("-m", "skill.cli", "inbox", "show", "4242")
    assert missing.returncode != 0 and "no inbox item 4242" in missing.stderr
