"""`devops db copy` moves memory.db into the team database (memory's own export and import, in one
command): what a laptop remembered is recalled and triaged from another home in team mode, and a
rerun copies nothing twice. Real processes, separate homes, a real PostgreSQL."""

from __future__ import annotations

import json

from agent.test_two_machines import _cli as devops
from agent.test_two_machines import _host as home


def memory(run, env, *args: str):
    done = run("memory.py", *args, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def copy(env, url) -> dict[str, tuple[int, int]]:
    done = devops(env, "db", "copy", "--to", url, "--json")
    assert done.returncode == 0, done.stderr
    return {
        r["table"]: (r["copied"], r["already_there"])
        for r in json.loads(done.stdout)
        if r["store"] == "memory"
    }


def test_memory_remembered_on_a_laptop_is_recalled_and_triaged_from_another_home_after_db_copy(
    postgres_url, tmp_path, run
):
    laptop = home(tmp_path, "laptop", "", "")
    other = home(tmp_path, "other", postgres_url, "")
    memory(run, laptop, "remember", "[devops] checkout 502s traced to the payments-api connection pool limit")
    memory(run, laptop, "remember", "[devops] rotate the staging TLS cert by Friday")
    memory(run, laptop, "deployments", "record", "payments-api", "production", "2.3.1", "--by", "ana")
    opened = memory(run, laptop, "incidents", "open", "checkout returns 502", "-s", "payments-api", "--json")
    memory(run, laptop, "incidents", "resolve", opened["id"], "-r", "rolled back to 2.3.0", "--json")
    gone = memory(run, laptop, "remember", "[devops] a note written by mistake", "--json")
    memory(run, laptop, "forget", gone["id"])
    before = memory(run, other, "recall", "checkout 502 connection pool", "--json")
    assert before == [], "the team database starts empty"

    first = copy(laptop, postgres_url)
    assert first["memories"][1] == 0 and first["memories"][0] >= 5, first
    assert first["deployments"] == (1, 0) and first["incidents"] == (1, 0), first
    assert first["incident_events"][0] >= 1 and first["audit"][0] >= 1, first

    recalled = memory(run, other, "recall", "checkout 502 connection pool", "--json")
    assert "connection pool limit" in recalled[0]["memory"]["text"], recalled
    assert not any("written by mistake" in r["memory"]["text"] for r in recalled), "forgotten stays forgotten"
    triaged = memory(
        run, other, "triage", "checkout returns 502", "-s", "payments-api", "--window", "1h", "--json"
    )
    assert [i["id"] for i in triaged["similar_incidents"]] == [opened["id"]], triaged
    assert "rolled back to 2.3.0" in json.dumps(triaged["similar_incidents"][0])
    last = memory(run, other, "deployments", "last-good", "payments-api", "production", "--json")
    assert last["last_good_version"] == "2.3.1", last

    second = copy(laptop, postgres_url)
    assert second == {table: (0, sum(counts)) for table, counts in first.items()}, second
    listed = memory(run, other, "list", "--json")
    assert len(listed) == first["memories"][0] - 1, "each memory once (the forgotten one hidden)"
