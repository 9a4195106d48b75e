"""One interface over every `devops` command: --json wherever results are printed (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.memory import Memory

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "sample-service"

# Commands without --json, each with the reason; every other leaf command must accept it.
NO_JSON = {
    "serve": "a long-running HTTP server: it logs, it prints no result",
    "mcp": "speaks JSON-RPC over stdio already; stdout belongs to the protocol",
    "slo generate": "its output is a Prometheus rule file (YAML), an artifact, not a result",
}


def leaf_commands():
    """Every leaf command under `devops`, lazy groups loaded, as ("group sub", command)."""
    found = []

    def walk(cmd, path, parent):
        ctx = click.Context(cmd, info_name=path[-1] if path else "devops", parent=parent)
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name], ctx)
        else:
            found.append((" ".join(path), cmd))

    walk(cli, [], None)
    return found


LEAVES = leaf_commands()


def test_the_walk_reaches_the_lazy_groups():
    names = {name for name, _ in LEAVES}
    assert {"readiness", "ci audit", "incident postmortem", "memory incidents show", "iac review"} <= names
    assert set(NO_JSON) <= names, "an exemption names a command that no longer exists"


@pytest.mark.parametrize("name,cmd", LEAVES, ids=[n for n, _ in LEAVES])
def test_every_result_printing_command_takes_json_and_a_json_format(name, cmd):
    options = {o: p for p in cmd.params for o in getattr(p, "opts", [])}
    if name in NO_JSON:
        assert "--json" not in options, f"{name} has --json now: drop its exemption"
        return
    assert "--json" in options, f"devops {name} prints results but has no --json"
    assert options["--json"].is_flag
    if "--format" in options:
        choices = getattr(options["--format"].type, "choices", ())
        assert "json" in choices, f"devops {name} --format has no json"


def _invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_readiness_json_is_the_json_format():
    flag = _invoke("readiness", str(SAMPLE), "--json")
    fmt = _invoke("readiness", str(SAMPLE), "--format", "json")
    assert flag.exit_code == fmt.exit_code == 1, flag.output
    assert json.loads(flag.stdout) == json.loads(fmt.stdout)


def test_ci_audit_json_is_the_json_format():
    flag = _invoke("ci", "audit", str(REPO), "--json", "--fail-on", "critical")
    fmt = _invoke("ci", "audit", str(REPO), "--format", "json", "--fail-on", "critical")
    assert flag.exit_code == fmt.exit_code == 0, flag.output
    assert json.loads(flag.stdout) == json.loads(fmt.stdout)
    assert json.loads(flag.stdout)["files"]


def test_postmortem_json_carries_the_markdown():
    with Memory.open() as mem:
        inc = mem.open_incident("checkout 5xx after v1.4.0", severity="SEV2", service="api")
    text = _invoke("incident", "postmortem", inc.id, "--no-refine")
    flag = _invoke("incident", "postmortem", inc.id, "--no-refine", "--json")
    assert flag.exit_code == 0, flag.output
    assert json.loads(flag.stdout) == {"incident": inc.id, "markdown": text.stdout}


@pytest.mark.parametrize(
    "args",
    [
        ("readiness", str(SAMPLE), "--json", "--format", "sarif"),
        ("ci", "audit", str(REPO), "--format", "md", "--json"),
    ],
)
def test_json_with_another_explicit_format_is_a_usage_error(args):
    result = _invoke(*args)
    assert result.exit_code == 2 and "ask for two formats" in result.stderr
