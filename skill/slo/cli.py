"""``devops slo``: list the SLO specs, generate their Prometheus rules, show their live status."""

from __future__ import annotations

import click

from skill.cli_support import ErrorHandlingGroup, echo_json, emit
from skill.errors import UsageError

spec_option = click.option(
    "--spec",
    "spec",
    default=None,
    type=click.Path(exists=True),
    help="Spec file or repository folder (default: [slo] spec, else the project root).",
)
window_option = click.option(
    "--window", default=None, help="SLO window for specs that do not state one (Sloth; default 30d)."
)


def _slos(spec: str | None, window: str | None, service: str | None = None):
    from skill.slo.settings import slo_settings
    from skill.slo.spec import load_slos, select

    path = spec or slo_settings()["spec"] or "."
    slos = select(load_slos(path, window=window), service)
    if not slos:
        raise UsageError(f"no SLO specs found in {path}", hint="write .devops/slo.yaml (see docs/slo.md)")
    return slos


@click.group("slo", cls=ErrorHandlingGroup)
def slo():
    """SLOs and error budgets: specs, generated Prometheus rules, live budget status."""


@slo.command("list")
@spec_option
@window_option
@click.option("--json", "as_json", is_flag=True)
def list_cmd(spec, window, as_json):
    """The SLOs found in the specs.

    \b
    devops slo list --spec .devops/slo.yaml
    """
    slos = _slos(spec, window)
    if as_json:
        echo_json([s.model_dump(mode="json") for s in slos])
        return
    for s in slos:
        click.echo(f"{s.service}/{s.name}  {s.objective:g}% over {s.window}  ({s.source})")


@slo.command("generate")
@spec_option
@window_option
@click.option("--service", default=None, help="Only this service's SLOs.")
@click.option(
    "--budget-interval", default="5m", show_default=True, help="Evaluation interval of the budget rules."
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the rule file here."
)
def generate_cmd(spec, window, service, budget_interval, output):
    """Prometheus rules: SLI error ratios, error budget, multi-window multi-burn-rate alerts.

    \b
    devops slo generate -o prometheus/slo-rules.yaml
    promtool check rules prometheus/slo-rules.yaml
    """
    from skill.durations import parse_duration
    from skill.slo.rules import render

    parse_duration(budget_interval)
    emit(render(_slos(spec, window, service), budget_interval=budget_interval), output)


@slo.command("status")
@click.argument("service", required=False)
@spec_option
@window_option
@click.option(
    "--prometheus", "prometheus_url", default=None, help="Prometheus URL (default: [slo] prometheus_url)."
)
@click.option("--at", "at", default=None, help="Evaluate at this time (ISO-8601 or a duration ago, e.g. 2h).")
@click.option("--json", "as_json", is_flag=True)
def status_cmd(service, spec, window, prometheus_url, at, as_json):
    """SLI, budget left, burn rates per window, alerts that would fire, time to exhaustion.

    \b
    devops slo status checkout --prometheus http://prometheus:9090
    devops slo status --json
    """
    from skill.durations import parse_when
    from skill.slo.settings import slo_settings
    from skill.slo.status import render_table, slo_status

    settings = slo_settings()
    url = prometheus_url or settings["prometheus_url"]
    if not url:
        raise UsageError("no Prometheus URL", hint="pass --prometheus URL or set [slo] prometheus_url")
    when = parse_when(at).timestamp() if at else None
    report = slo_status(_slos(spec, window, service), url, at=when, timeout=settings["timeout"])
    if as_json:
        echo_json(report.model_dump(mode="json"))
    else:
        click.echo(render_table(report))
