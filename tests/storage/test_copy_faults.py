"""`devops db copy` when the team database fails: one line, exit 5, and a rerun completes the copy
without doubling what the failed one had written (a real server, stopped mid-copy)."""

from __future__ import annotations

import json

from agent.test_approvals import sandbox  # noqa: F401 - the fixture
from click.testing import CliRunner


def test_the_server_going_down_mid_copy_is_one_line_exit_5_and_a_rerun_completes(
    own_postgres,
    sandbox,  # noqa: F811
    monkeypatch,
):
    from langgraph.checkpoint.postgres import PostgresSaver

    from skill.agent.graph import run
    from skill.cli import cli

    paused = run("deploy api 1.1.0 to production")
    assert paused.status == "awaiting_approval", paused.report
    url = own_postgres.create_database("team")

    put, calls = PostgresSaver.put, []

    def put_then_stop_the_server(self, *args, **kwargs):
        done = put(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:  # two checkpoints in: the server goes away under the copy
            own_postgres.stop()
        return done

    monkeypatch.setattr(PostgresSaver, "put", put_then_stop_the_server)
    failed = CliRunner().invoke(cli, ["db", "copy", "--to", url])
    assert failed.exit_code == 5, failed.output
    lines = failed.output.strip().splitlines()
    assert "cannot reach the team database" in lines[0] and "Traceback" not in failed.output
    assert len([line for line in lines if not line.startswith("hint:")]) == 1, lines
    monkeypatch.setattr(PostgresSaver, "put", put)

    own_postgres.start()
    rerun = CliRunner().invoke(cli, ["db", "copy", "--to", url, "--json"])
    assert rerun.exit_code == 0, rerun.output
    counts = {
        f"{r['store']}.{r['table']}": (r["copied"], r["already_there"]) for r in json.loads(rerun.output)
    }
    copied, there = counts["runs.checkpoints"]
    assert there == 2 and copied >= 1, counts
    assert counts["runs.runs"] == (0, 1), "the runs were copied before the checkpoints"

    again = CliRunner().invoke(cli, ["db", "copy", "--to", url, "--json"])
    counts = {
        f"{r['store']}.{r['table']}": (r["copied"], r["already_there"]) for r in json.loads(again.output)
    }
    assert counts["runs.checkpoints"] == (0, copied + there)
    assert counts["runs.checkpoint_writes"][0] == 0
