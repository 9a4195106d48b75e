"""Pointing the gate elsewhere for one command is changing its configuration.

`devops deploy` (and every `devops` command that changes something) asks the gate itself, with
the policy, approval store and audit its environment names. A line that sets DEVOPS_POLICY to a
permissive file, or DEVOPS_HOME/DEVOPS_DATABASE_URL to a store the agent filled, would get an
allow from that inner gate while the hook saw only an unknown program: such a line is T4, as
writing policy.toml is, in every spelling a shell or inline code has.
"""

from __future__ import annotations

import json

import pytest

from skill.guardrails.engine import check_action, check_command

REDIRECTS = [
    "DEVOPS_POLICY=/tmp/p.toml devops deploy --service api --env prod --version v2",
    "env DEVOPS_TRUST_PROJECT_POLICY=1 devops deploy --service api --env prod --version v2",
    "export DEVOPS_POLICY=/tmp/p.toml; devops deploy --service api --env prod --version v2",
    "export DEVOPS_HOME=/tmp/x",
    "declare -x DEVOPS_DATABASE_URL=postgresql://me@/forged",
    "typeset -x DEVOPS_CONFIG_DIR=/tmp/cfg",
    "unset DEVOPS_POLICY; devops flag set checkout on --env prod",
    "unset -v DEVOPS_POLICY && devops flag set checkout on --env prod",
    "env -u DEVOPS_POLICY devops deploy --service api --env prod --version v2",
    "env --unset=DEVOPS_CONFIG_DIR devops flag set checkout on --env prod",
    "sudo DEVOPS_HOME=/tmp/x devops deploy --service api --env prod --version v2",
    "nice -n 5 env DEVOPS_CONFIG=/tmp/c.toml devops serve",
    "bash -c 'DEVOPS_PROJECT_DIR=/tmp/p devops readiness .'",
    "DEVOPS_SOURCE=/tmp/evil ./scripts/devops deploy --service api --env prod --version v2",
    "DEVOPS_PYTHON=/tmp/py ./scripts/guardrails.py check --command ls",
    "DEVOPS_OPERATOR_KEY=dok_x devops approvals list",
    "DEVOPS_HOME+=/x devops deploy --service api --env prod --version v2",
    'python3 -c \'import os; os.environ["DEVOPS_HOME"] = "/tmp/x"; os.system("devops deploy")\'',
    'python3 -c \'import os; os.environ.pop("DEVOPS_POLICY"); os.system("devops deploy")\'',
    'node -e \'delete process.env["DEVOPS_POLICY"]; require("child_process").execSync("devops deploy")\'',
    "fish -c 'set -x DEVOPS_HOME /tmp/x; devops deploy'",
    'perl -e \'$ENV{DEVOPS_POLICY}="/tmp/p.toml"; system("devops deploy")\'',
    'perl -e \'$ENV{"DEVOPS_HOME"} = "/tmp/x"; exec("devops", "deploy")\'',
    "tcsh -c 'setenv DEVOPS_POLICY /tmp/p.toml; devops deploy'",
]


@pytest.mark.parametrize("command", REDIRECTS)
def test_setting_or_unsetting_a_gate_variable_is_t4_for_a_human(command):
    d = check_command(command, audit=False)
    assert d.decision == "block" and d.tier == 4, d.to_dict()
    assert "gate.env-redirect" in d.rule_ids, d.to_dict()
    assert d.approvable, "a human may approve it, as a policy change"


@pytest.mark.parametrize(
    "command",
    [
        "echo $DEVOPS_HOME",
        "printenv DEVOPS_HOME",
        "ls ${DEVOPS_HOME}/",
        'test "$DEVOPS_DATABASE_URL" == ""',
        "grep -rn DEVOPS_POLICY docs/",
        "env | grep DEVOPS_",
        "DEVOPS_LLM=off devops ask 'what failed on main?'",
        "DEVOPS_CI_TIMEOUT=30 devops ci status",
        "python3 -c 'import os; print(os.environ.get(\"DEVOPS_HOME\"))'",
        "perl -e 'print $ENV{DEVOPS_HOME}'",
        "echo ${DEVOPS_HOME}=the-data-dir",
    ],
)
def test_reading_a_gate_variable_or_setting_another_is_not(command):
    d = check_command(command, audit=False)
    assert "gate.env-redirect" not in d.rule_ids, d.to_dict()


def test_the_vector_is_real_and_the_hook_stops_it(tmp_path, monkeypatch, run):
    """A permissive policy named by DEVOPS_POLICY makes the gate inside the command allow a
    production deploy; the hook, judging the line, blocks it."""
    permissive = tmp_path / "p.toml"
    permissive.write_text(
        '[[allow]]\nid = "mine"\naction = "deploy_production"\nexpires = "2099-01-01T00:00:00Z"\n'
    )
    assert check_action("deploy_production", target="api", audit=False).decision == "block"
    monkeypatch.setenv("DEVOPS_POLICY", str(permissive))
    assert check_action("deploy_production", target="api", audit=False).decision == "allow"
    monkeypatch.delenv("DEVOPS_POLICY")

    line = f"DEVOPS_POLICY={permissive} devops deploy --service api --env production --version v2"
    payload = {
        "session_id": "s-1",
        "cwd": str(tmp_path),
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": line},
    }
    res = run("guardrails.py", "hook", input=json.dumps(payload))
    out = json.loads(res.stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny", out
    assert "DEVOPS_POLICY" in out["permissionDecisionReason"]
