"""``devops iac``: review a plan (tier + exit code for gating ``apply``) and lint .tf code."""

from __future__ import annotations

import json
import sys

import click

from skill.cli_support import ErrorHandlingGroup, emit, format_option, output_option
from skill.errors import EXIT_FINDINGS, EXIT_OK
from skill.findings import SEVERITY_ORDER, Finding, at_or_above
from skill.plan_review.models import PlanReview
from skill.plan_review.tiers import TIER_DECISION
from skill.report import sort_findings, to_json, to_markdown, to_sarif

_TOOL = "devops-iac"


@click.group(cls=ErrorHandlingGroup)
def iac() -> None:
    """Review Terraform/OpenTofu plans and code.

    \b
    devops iac review plan.json --env prod     tier, explained changes; exit 0/3/4
    devops iac lint infra/                     static checks over .tf code
    """


def _json_flag(f):
    return click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(f)


@iac.command("review")
@click.argument("source", metavar="PLAN.json|PLANFILE|DIR|-")
@click.option("--env", default=None, help="Target environment (prod raises every change by one tier).")
@click.option(
    "--code",
    "code_dir",
    type=click.Path(exists=True),
    default=None,
    help="Also run the static .tf checks on this directory (automatic when SOURCE is a directory).",
)
@click.option("--all", "show_all", is_flag=True, help="List unchanged (no-op) resources too.")
@format_option
@_json_flag
@output_option
@click.pass_context
def review(ctx, source, env, code_dir, show_all, fmt, as_json, output):
    """Review a plan: every change explained, a guardrail tier, drift and findings.

    Exit 0 for T1-T2, 3 for T3 (approval needed), 4 for T4 (data-destroying), 2 for bad input,
    so `devops iac review plan.json && terraform apply tfplan` gates the apply.
    """
    from skill.nodes.iac.plan import review_plan

    rep = review_plan(source, env)
    if code_dir:
        from skill.nodes.iac.hcl_checks import review_code

        rep.findings += review_code(code_dir)
    fmt = "json" if as_json else fmt
    emit(render_review(rep, fmt, show_all=show_all), output)
    ctx.exit(rep.exit_code)


@iac.command("lint")
@click.argument("path", type=click.Path(exists=True), default=".")
@click.option(
    "--fail-on",
    type=click.Choice(list(SEVERITY_ORDER)),
    default="high",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity.",
)
@click.option(
    "--with",
    "with_peers",
    multiple=True,
    metavar="PEER",
    help="Also run checkov over the same code and merge its results (same resource and class: one "
    "finding saying both agree). Exit 2 when checkov is not installed.",
)
@format_option
@_json_flag
@output_option
@click.pass_context
def lint(ctx, path, fail_on, with_peers, fmt, as_json, output):
    """Static checks over .tf code: remote/encrypted state, secrets, pinning, environments."""
    from pathlib import Path

    from skill.errors import InputError, UsageError
    from skill.nodes.iac.hcl_checks import RULES, has_code, review_code
    from skill.peers import merge, parse_with, peer_rules, require, run_checkov

    peers = parse_with(with_peers)
    if "hadolint" in peers:
        raise UsageError("--with hadolint: iac lint reads Terraform; hadolint belongs to devops readiness")
    if peers:
        require("checkov")
    if not has_code(path):  # a wrong path must not pass as clean code
        raise InputError(f"no Terraform code under {path} (.tf, .tf.json, .tfvars, terraform.tfstate)")
    findings = review_code(path)
    if peers:
        severity_of = {r.id: r.severity for r in RULES.values()}
        findings = merge(
            findings, run_checkov(Path(path), ("terraform",)), base=Path.cwd(), severity_of=severity_of
        )
    fmt = "json" if as_json else fmt
    title = f"IaC lint: {path}"
    if fmt == "json":
        text = to_json(
            {"path": path, "findings": [f.model_dump(mode="json", exclude_none=True) for f in findings]}
        )
    elif fmt == "sarif":
        text = to_sarif(_TOOL, findings, [*RULES.values(), *peer_rules(findings)])
    elif fmt == "md":
        text = to_markdown(title, findings)
    elif output is None and sys.stdout.isatty():
        from skill.report import print_table

        print_table(title, findings)
        text = ""
    else:
        text = _plain_findings(title, findings)
    if text:
        emit(text, output)
    unparsed = sorted({f.file or "?" for f in findings if f.id == "iac.parse-error"})
    if unparsed:  # code nobody checked must not pass as clean, whatever --fail-on says
        shown = ", ".join(unparsed[:5]) + (f" and {len(unparsed) - 5} more" if len(unparsed) > 5 else "")
        click.echo(
            f"error: {len(unparsed)} file(s) could not be parsed and were not checked: {shown}", err=True
        )
        ctx.exit(EXIT_FINDINGS)
    ctx.exit(EXIT_FINDINGS if at_or_above(findings, fail_on) else EXIT_OK)


@iac.command("stateful")
@click.argument("resource_type", required=False)
@_json_flag
def stateful(resource_type, as_json):
    """List the resource types whose delete/replace destroys data (or look one up)."""
    from skill.plan_review.stateful import CONSEQUENCES, STATEFUL_TYPES

    if resource_type:
        category = STATEFUL_TYPES.get(resource_type)
        payload = {"type": resource_type, "stateful": category is not None, "category": category}
        if category:
            payload["consequence"] = CONSEQUENCES[category]
        if as_json:
            click.echo(to_json(payload))
        elif category:
            click.echo(f"{resource_type}: stateful ({category}): {CONSEQUENCES[category]}")
        else:
            click.echo(f"{resource_type}: not in the stateful list")
        return
    by_category: dict[str, list[str]] = {}
    for t, c in sorted(STATEFUL_TYPES.items()):
        by_category.setdefault(c, []).append(t)
    if as_json:
        click.echo(to_json(by_category))
        return
    for category, types in by_category.items():
        click.echo(f"{category} ({CONSEQUENCES[category]}):")
        click.echo("  " + ", ".join(types))


# --------------------------------------------------------------------------- rendering


def _plain_findings(title: str, findings: list[Finding]) -> str:
    rows = [f for f in sort_findings(findings) if f.is_problem]
    if not rows:
        return f"{title}: no findings.\n"
    out = [f"{title}: {len(rows)} finding(s)"]
    for f in rows:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or f.object or "")
        out.append(f"  {f.severity:<8} {f.id:<22} {where}  {f.message}")
        if f.fix:
            out.append(f"  {'':<8} {'':<22} fix: {f.fix}")
    return "\n".join(out) + "\n"


def _shown_changes(rep: PlanReview, show_all: bool):
    changes = [c for c in rep.changes if show_all or c.kind != "no-op" or c.moved or c.imported]
    return sorted(changes, key=lambda c: (-c.tier, c.address))


def _located(rep: PlanReview) -> list[Finding]:
    """Plan findings pointed at the plan file: code scanning (GitHub) drops results without a location.

    The line is where the resource's entry sits in resource_changes / resource_drift, else 1.
    """
    from pathlib import Path

    source = Path(rep.source)
    if rep.source in ("", "-", "plan") or not source.is_file():
        return rep.findings
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    starts = {key: text.find(f'"{key}"') for key in ("resource_changes", "resource_drift")}
    out = []
    for f in rep.findings:
        if f.file:
            out.append(f)
            continue
        line = 1
        section = starts["resource_drift" if f.id == "iac.drift" else "resource_changes"]
        if f.object and section >= 0:
            needles = (f'"address": {json.dumps(f.object)}', f'"address":{json.dumps(f.object)}')
            hits = [at for at in (text.find(n, section) for n in needles) if at >= 0]
            if hits:
                line = text.count("\n", 0, min(hits)) + 1
        out.append(f.model_copy(update={"file": rep.source, "line": line}))
    return out


def render_review(rep: PlanReview, fmt: str, *, show_all: bool = False) -> str:
    """The review in text, json, md or sarif. Built from the review only: no plan values."""
    if fmt == "json":
        payload = rep.model_dump(mode="json")
        payload["findings"] = [f.model_dump(mode="json", exclude_none=True) for f in rep.findings]
        payload["headline"] = rep.headline
        payload["exit_code"] = rep.exit_code
        return to_json(payload)
    if fmt == "sarif":
        from skill.nodes.iac.hcl_checks import RULES
        from skill.plan_review.review import PLAN_RULES

        return to_sarif(_TOOL, _located(rep), [*PLAN_RULES, *RULES.values()])
    changes = _shown_changes(rep, show_all)
    if fmt == "md":
        lines = [f"**Tier T{rep.tier} ({TIER_DECISION[rep.tier]})**: {rep.headline.split(': ', 1)[-1]}", ""]
        if rep.environment:
            lines.append(f"Environment: {rep.environment} (from {rep.environment_source})")
            lines.append("")
        if changes:
            lines += ["| Tier | Action | Resource | What happens |", "|---|---|---|---|"]
            for c in changes:
                message = c.message.replace("|", "\\|")
                stateful = " (stateful)" if c.stateful else ""
                lines.append(f"| T{c.tier} | {c.kind}{stateful} | `{c.address}` | {message} |")
        if rep.drift:
            lines += ["", "Drift (changed outside Terraform):", ""]
            lines += [f"- {d.message}" for d in rep.drift]
        return to_markdown("Terraform plan review", rep.findings, summary_lines=lines)
    out = [
        f"Plan review: {rep.source}"
        + (f" (terraform {rep.terraform_version})" if rep.terraform_version else "")
    ]
    out.append(f"Tier: {rep.headline}")
    if changes:
        out.append("")
        out.append("Changes (riskiest first):")
        for c in changes:
            flag = " stateful" if c.stateful and c.kind in ("delete", "replace") else ""
            out.append(f"  T{c.tier} {c.kind:<8}{flag} {c.message}")
    hidden = sum(1 for c in rep.changes if c not in changes)
    if hidden:
        out.append(f"  ({hidden} unchanged resource(s) not listed; --all shows them)")
    if rep.drift:
        out.append("")
        out.append("Drift (changed outside Terraform, not part of this plan):")
        out += [f"  {d.message}" for d in rep.drift]
    others = [f for f in rep.findings if f.id not in ("iac.destroy", "iac.destroy-stateful", "iac.drift")]
    if others:
        out.append("")
        out.append(_plain_findings("Findings", others).rstrip("\n"))
    if rep.notes:
        out.append("")
        out += [f"note: {n}" for n in rep.notes]
    verdict = {
        0: "OK to apply without approval",
        3: "needs a human approval before apply (exit 3)",
        4: "blocked: destroys data or production state; approve explicitly (exit 4)",
    }[rep.exit_code]
    out.append("")
    out.append(f"Verdict: {verdict}")
    return "\n".join(out) + "\n"
