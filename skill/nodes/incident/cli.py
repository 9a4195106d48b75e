"""``devops incident``: triage, post-mortem, and open/resolve/list shortcuts over the memory."""

from __future__ import annotations

import click

from skill.cli_support import ErrorHandlingGroup, echo_json, emit, json_option
from skill.errors import UsageError


def _labels(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"invalid --label {pair!r}", hint="use KEY=VALUE, e.g. severity=critical")
        out[key.strip()] = value.strip()
    return out


@click.group("incident", cls=ErrorHandlingGroup)
def incident():
    """Triage incidents by the escalation matrix, with memory and runbooks; draft post-mortems."""


@incident.command("triage")
@click.argument("symptoms")
@click.option("--service", "-s", default=None, help="Affected service.")
@click.option("--window", default="24h", show_default=True, help="How far back to look for changes.")
@click.option(
    "--repo",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="Repo with docs/runbooks/.",
)
@click.option(
    "--env", "-e", "env", default=None, help="Only suggest a rollback of this environment's deploys."
)
@click.option("--severity", default=None, help="Override the matrix (SEV1..SEV4, critical, P1 ...).")
@click.option("--label", "labels", multiple=True, help="Alert label KEY=VALUE (e.g. severity=critical).")
@click.option("--open", "open_incident", is_flag=True, help="Also open an incident in memory.")
@click.option("--json", "as_json", is_flag=True)
def triage_cmd(symptoms, service, window, repo, env, severity, labels, open_incident, as_json):
    """Triage SYMPTOMS: severity, similar incidents, recent deploys, runbook, rollback.

    \b
    devops incident triage "5xx rate up on checkout after deploy" --service api
    """
    from skill.durations import parse_duration
    from skill.nodes.incident.triage import render_triage, triage_incident

    parse_duration(window)
    rep = triage_incident(
        symptoms,
        service,
        window,
        repo,
        labels=_labels(labels),
        env=env,
        severity=severity,
        open_incident=open_incident,
    )
    if as_json:
        echo_json(rep.model_dump(mode="json"))
    else:
        click.echo(render_triage(rep))


def _refiner():
    """The LLM refinement hook when the agent's client offers one and is configured."""
    try:
        from skill.agent import llm  # provided by the agent graph issue; optional
    except ImportError:
        return None
    factory = getattr(llm, "postmortem_refiner", None)
    return factory() if callable(factory) else None


@incident.command("postmortem")
@click.argument("incident_id")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the Markdown here."
)
@click.option("--no-refine", is_flag=True, help="Skip the LLM refinement even when configured.")
@json_option
def postmortem_cmd(incident_id, output, no_refine, as_json):
    """Draft a blameless post-mortem for INCIDENT_ID from the memory records.

    \b
    devops incident postmortem INC-3 --output postmortem-INC-3.md
    devops incident postmortem INC-3 --json      {"incident": ..., "markdown": ...}
    """
    import json

    from skill.errors import InputError
    from skill.nodes.incident.postmortem import draft_postmortem

    text = draft_postmortem(incident_id, refine=None if no_refine else _refiner())
    if as_json:
        text = json.dumps({"incident": incident_id, "markdown": text}, indent=2, ensure_ascii=False) + "\n"
    try:
        emit(text, output)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    if output:
        click.echo(f"wrote {output}", err=True)


@incident.command("open")
@click.argument("title")
@click.option("--severity", default=None, help="SEV1..SEV4 (default: from the title by the matrix).")
@click.option("--service", "-s", default=None)
@click.option("--summary", default=None)
@click.option("--json", "as_json", is_flag=True)
def open_cmd(title, severity, service, summary, as_json):
    """Open an incident in memory.

    \b
    devops incident open "checkout 5xx after deploy" --service api
    """
    from skill.memory import Memory
    from skill.nodes.incident.severity import classify_severity

    sev = (severity or classify_severity(f"{title} {summary or ''}").severity).upper()
    with Memory.open() as mem:
        inc = mem.open_incident(title, severity=sev, service=service, summary=summary)
    if as_json:
        echo_json(inc.model_dump(mode="json"))
    else:
        click.echo(f"opened {inc.id} ({inc.severity}) {inc.title}")


@incident.command("resolve")
@click.argument("incident_id")
@click.option("--resolution", required=True, help="What ended the incident.")
@click.option("--root-cause", default=None)
@click.option("--json", "as_json", is_flag=True)
def resolve_cmd(incident_id, resolution, root_cause, as_json):
    """Resolve an incident, recording what fixed it (recalled by later triage).

    \b
    devops incident resolve INC-3 --resolution "rolled back to v1.3.9" --root-cause "bad cache key"
    """
    from skill.memory import Memory

    with Memory.open() as mem:
        inc = mem.resolve_incident(incident_id, resolution=resolution, root_cause=root_cause)
    if as_json:
        echo_json(inc.model_dump(mode="json"))
    else:
        click.echo(f"resolved {inc.id}: {inc.resolution}")


@incident.command("list")
@click.option("--status", type=click.Choice(["open", "mitigated", "resolved"]), default=None)
@click.option("--service", "-s", default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def list_cmd(status, service, limit, as_json):
    """List incidents, newest first."""
    from skill.memory import Memory

    with Memory.open() as mem:
        rows = mem.incidents(status=status, service=service, limit=limit)
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        click.echo("no incidents")
    for r in rows:
        click.echo(f"{r.id:8} {r.severity} {r.status:9} {r.started} {r.service or '-':12} {r.title}")
