"""The ``devops`` command: one click group over the library.

Subcommands are registered here by name and imported lazily, so ``devops --help`` stays fast
and each capability keeps its command next to its code.
"""

from __future__ import annotations

import click

from skill import __version__
from skill.cli_support import LazyGroup

# name -> ("module:attribute", one-line help shown by `devops --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "readiness": (
        "skill.nodes.readiness.cli:readiness",
        "Score a repository L1-L4 for production readiness (go/no-go).",
    ),
    "ci": (
        "skill.nodes.ci.cli:ci",
        "Pipelines: status, watch, triage, rerun, pushflow, and the workflow audit.",
    ),
    "iac": ("skill.nodes.iac.cli:iac", "Review Terraform/OpenTofu plans and code."),
    "memory": ("skill.memory.cli:cli", "Remember and recall deployments, incidents and notes."),
    "deploy": (
        "skill.nodes.deploy.cli:deploy",
        "Deploy a version with a plan, a gate, health checks and rollback.",
    ),
    "flag": ("skill.nodes.deploy.cli:flag", "Toggle a feature flag through the safety gate."),
    "incident": ("skill.nodes.incident.cli:incident", "Triage an incident and draft its post-mortem."),
    "slo": ("skill.slo.cli:slo", "SLOs: generate burn-rate rules, show error budgets from Prometheus."),
    "audit": (
        "skill.guardrails.audit_cli:audit",
        "Verify the gate's audit chain; ship it to the team store.",
    ),
    "approvals": ("skill.agent.cli:approvals", "List, approve or reject runs paused for approval."),
    "runs": ("skill.agent.cli:runs", "Show past agent runs."),
    "ask": ("skill.agent.cli:ask", "Answer a free-text request through the agent graph."),
    "handle": (
        "skill.agent.cli:handle",
        "Run one webhook event (GitHub, GitLab, Alertmanager, PagerDuty) through the graph.",
    ),
    "serve": ("skill.webhooks.server:serve", "Receive webhooks and process them from a durable queue."),
    "inbox": ("skill.webhooks.cli:inbox", "The webhook queue: list items, show one, retry a dead one."),
    "demo": ("skill.demo:demo", "Run the end-to-end story on the sample service (the main job)."),
    "install": ("skill.install:install", "Install the skill into Claude Code (skill folder + hook)."),
    "mcp": ("skill.mcp_server:mcp_command", "Serve the tools over MCP (stdio)."),
    "db": ("skill.storage.cli:db", "Stores: backend and schema status, migrations, copy to team PostgreSQL."),
    "doctor": ("skill.doctor:doctor", "Check the installation: data dir, model cache, tools on PATH."),
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="devops")
def cli() -> None:
    """Master DevOps: CI/CD, infrastructure as code, deployments and operations, safely.

    \b
    Every action that changes something passes the safety gate (guardrails.py);
    outcomes are remembered (memory.py) and recalled during triage.

    \b
    Exit codes, the same for every command:
      0  ok / allowed
      1  findings at or above --fail-on, a NO-GO, a failed deploy
      2  usage or input error
      3  approval required (the output names the request id)
      4  blocked by the safety gate
      5  operational failure (a store or an external tool failed)
    """


def main() -> None:
    cli(prog_name="devops")


if __name__ == "__main__":
    main()
