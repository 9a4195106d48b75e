"""`devops demo`: the end-to-end story on the sample service, offline, in a sandbox data dir.

Every step is a real run of the agent graph (the same code path as `devops ask` / `devops
handle`); the deploy target is a real HTTP service on 127.0.0.1 whose version a real driver
script swaps, and canary analysis reads a Prometheus-compatible stub (skill.demo_support).
The one thing a human would normally do, approving production changes, the demo does as the
operator with a sandbox operator key, and says so.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from skill.errors import UsageError

SERVICE = "orders-api"
REPO = Path(__file__).resolve().parent.parent

_ENV_KEYS = (
    "DEVOPS_HOME",
    "DEVOPS_CONFIG_DIR",
    "DEVOPS_PROJECT_DIR",
    "DEVOPS_CONFIG",
    "DEVOPS_POLICY",
    "DEVOPS_OPERATOR_KEY",
    "DEVOPS_LLM",
    "DEVOPS_DEMO_STATE",
    # A team database or chroma server must never receive the sample story's deployments,
    # incidents and approvals: they would turn up in the team's real triage.
    "DEVOPS_DATABASE_URL",
    "DEVOPS_CHROMA_URL",
)


@contextmanager
def sandbox_env(values: dict[str, str]) -> Iterator[None]:
    """Point every data/config location at the sandbox for the demo's duration, then restore."""
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    try:
        for key in _ENV_KEYS:
            os.environ.pop(key, None)
        os.environ.update(values)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _seed_memory() -> None:
    """History the triage step recalls: earlier releases and a resolved incident."""
    from skill.memory import Memory

    with Memory.open() as mem:
        for env in ("staging", "production"):
            mem.record_deployment(SERVICE, env, "1.2.0", strategy="rolling", status="succeeded", by="ci")
            mem.record_deployment(SERVICE, env, "1.3.0", strategy="rolling", status="succeeded", by="ci")
        inc = mem.open_incident(  # the demo home is empty: a person's short id reads best here
            "orders-api 5xx error rate spike after release 1.2.0",
            id="INC-1",
            severity="SEV2",
            service=SERVICE,
            summary="5xx ratio reached 9% on checkout; database connection pool exhausted",
        )
        mem.resolve_incident(
            inc.id,
            resolution="rolled back to 1.1.0, then raised the DB pool from 10 to 40 before re-releasing",
            root_cause="a retry loop held connections while waiting; the pool of 10 ran dry under load",
        )
        mem.remember(
            "orders-api: the inventory client retries without backoff; watch 5xx after releases touching it",
            kind="note",
            service=SERVICE,
            tags=("ops",),
            source="demo",
        )


class Story:
    def __init__(self, echo, sample: Path):
        self.echo = echo
        self.sample = sample
        self.steps: list[dict[str, Any]] = []

    def header(self, n: int, title: str, command: str) -> None:
        self.echo("")
        self.echo(click.style(f"== {n}. {title}", bold=True))
        self.echo(click.style(f"   (same as: {command})", dim=True))

    def show(self, outcome, indent: str = "   ") -> None:
        for line in outcome.report.splitlines():
            self.echo(indent + line)
        self.echo(f"{indent}-> status: {outcome.status}")

    def record(self, title: str, outcome) -> None:
        self.steps.append(
            {
                "step": title,
                "run_id": outcome.run_id,
                "status": outcome.status,
                "node": outcome.node,
                "request_id": (outcome.pending or outcome.decision or {}).get("request_id"),
                "report": outcome.report,
            }
        )


def run_story(echo=click.echo, sample: Path | None = None) -> list[dict[str, Any]]:
    """The story, in the current (sandboxed) environment. Returns one dict per step."""
    from skill.agent import runs as run_store
    from skill.agent.graph import resume, run
    from skill.demo_support import MetricsStub, SampleService, deploy_config, provision_operator_key

    sample = sample or REPO / "examples" / "sample-service"
    if not sample.is_dir():
        raise UsageError(f"sample service not found at {sample}", hint="pass --sample PATH")
    story = Story(echo, sample)
    home = Path(os.environ["DEVOPS_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    from skill.slo.demo_story import DemoSLO

    with (
        SampleService(home, "1.3.0", bad_versions=["1.5.0"]) as service,
        MetricsStub(service) as metrics,
        DemoSLO(SERVICE, home) as slo,  # backfills a month of history while the first steps run
    ):
        cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "config.toml").write_text(deploy_config(service, metrics))
        os.environ["DEVOPS_DEMO_STATE"] = str(service.state_file)
        _seed_memory()
        echo(f"Sandbox data dir: {home}")
        echo(f"Deploy target: {service.url} (serving {SERVICE} 1.3.0); metrics API: {metrics.url}")
        echo("Memory seeded with releases 1.2.0 and 1.3.0 and one resolved incident.")

        def ask(n: int, title: str, text: str, cwd: Path = sample) -> Any:
            try:
                where = str(cwd.relative_to(Path.cwd()))
            except ValueError:
                where = str(cwd)
            story.header(n, title, f'devops ask "{text}" --cwd {where}')
            out = run(text, cwd=str(cwd))
            story.show(out)
            story.record(title, out)
            return out

        # Paths relative to the sample's parent read better in the story.
        base, name = sample.parent, sample.name
        ask(1, "Production-readiness review", f"is ./{name} ready for production?", base)
        ask(2, "CI workflow audit", f"audit the workflows in {name}/.github/workflows", base)
        ask(3, "Terraform plan review", f"review the terraform plan {name}/infra/plan.json", base)
        ask(4, "Deploy to staging (T2: the gate allows it)", f"deploy {SERVICE} 1.4.0 to staging")

        # 5: production needs a human. The demo approves as the operator.
        paused = ask(
            5, "Deploy to production (T4: stops for approval)", f"deploy {SERVICE} 1.4.0 to production"
        )
        key = provision_operator_key()
        os.environ["DEVOPS_OPERATOR_KEY"] = key
        _approve(story, resume, run_store, paused, "the operator approves")

        # 6: a canary of a bad build: analysis fails at 10%, automatic rollback.
        canary = ask(
            6,
            "Canary deploy of a faulty build (analysis fails -> automatic rollback)",
            f"deploy {SERVICE} 1.5.0 to production with canary steps 10,50,100",
        )
        exposed = time.monotonic()  # from the approval to the verified rollback: the canary's traffic
        approved = _approve(story, resume, run_store, canary, "the operator approves the canary")
        exposed = time.monotonic() - exposed
        budget = [x for x in (slo.status_line(), slo.canary_line(_executed(approved), exposed)) if x]
        slo.stop()  # not needed any more: the last step runs without it
        for line in budget:
            echo("   " + line)
        if approved is not None:
            story.steps[-1]["error_budget"] = budget
        echo(
            f"   service now serves {service.state()['version']} (driver calls: "
            + ", ".join(
                f"{c['action']} {c['version']}{' @' + c['weight'] + '%' if c['weight'] else ''}"
                for c in service.calls()
            )
            + ")"
        )

        # 7: an alert arrives; triage recalls the similar incident and the deploy history.
        from skill.webhooks.events import parse_event

        alert_file = REPO / "examples" / "events" / "alertmanager_orders_api_firing.json"
        story.header(7, "Alert triaged with memory recall", f"devops handle {alert_file.relative_to(REPO)}")
        event = parse_event(alert_file.read_bytes(), source="alertmanager")
        out = run(event=event, cwd=str(sample))
        story.show(out)
        story.record("Alert triage", out)
        if out.status == "awaiting_approval":
            rej = resume(
                out.run_id, approved=False, by="operator", reason="the faulty canary was already rolled back"
            )
            echo(f"   operator rejects the suggested rollback -> {rej.status}")
    return story.steps


def _executed(outcome) -> dict | None:
    if outcome is None:
        return None
    data = (outcome.executed or {}).get("data")  # the DeployResult the execute node recorded
    return data if isinstance(data, dict) else None


def _approve(story: Story, resume, run_store, paused, what: str):
    if paused.status != "awaiting_approval":
        return None
    rid = (paused.pending or {}).get("request_id")
    story.echo("")
    story.echo(
        f"   devops approvals list ->  {rid}  T{(paused.pending or {}).get('tier')}  run {paused.run_id}"
    )
    story.echo(
        click.style(
            f"   [demo] {what}: devops approvals approve {rid} --by demo-operator "
            "(with the sandbox operator key; a real approval needs a human at a terminal or the operator key)",
            fg="yellow",
        )
    )
    out = resume(rid, approved=True, by="demo-operator")
    # The plan was shown when the run paused: show what the resume added.
    lines = out.report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Gate:")), 0)
    for line in lines[start:]:
        story.echo("   " + line)
    story.echo(f"   -> status: {out.status}")
    story.record(f"approved {paused.run_id}", out)
    return out


@click.command("demo")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Sandbox data dir to use (default: a new temp dir, removed afterwards).",
)
@click.option(
    "--sample", type=click.Path(file_okay=False, exists=True), default=None, help="Sample service folder."
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps' outcomes as JSON at the end.")
def demo(data_dir: str | None, sample: str | None, as_json: bool) -> None:
    """Run the end-to-end story on the sample service (offline, no API key, under a minute).

    Everything happens in a sandbox: its own data dir and embedded stores, even where a team
    database or chroma server is configured, so the sample history never reaches them.

    \b
    devops demo
    devops demo --data-dir /tmp/devops-demo     # keep the sandbox to look around afterwards
    """
    from skill.cli_support import fail
    from skill.errors import DevopsError

    started = time.monotonic()
    if data_dir and Path(data_dir).is_dir() and any(Path(data_dir).iterdir()):
        # The demo seeds memory and provisions an operator key there: never over someone's data
        # (or over an earlier demo, whose runs and approvals would mix with the new story).
        fail(f"--data-dir {data_dir} is not empty; give a new or empty folder", 2)
    tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="devops-demo-")
    root = Path(data_dir or tmp.name).resolve()
    root.mkdir(parents=True, exist_ok=True)
    env = {
        "DEVOPS_HOME": str(root / "data"),
        "DEVOPS_CONFIG_DIR": str(root / "config"),
        "DEVOPS_PROJECT_DIR": str(root),
        "DEVOPS_LLM": "off",
        "DEVOPS_DATABASE_URL": "",  # empty: the embedded stores, whatever a config file says
        "DEVOPS_CHROMA_URL": "",
    }
    echo = (lambda *a, **k: None) if as_json else click.echo
    try:
        with sandbox_env(env):
            steps = run_story(echo, Path(sample).resolve() if sample else None)
    except DevopsError as exc:
        fail(str(exc), exc.exit_code)
    finally:
        if tmp is not None:
            tmp.cleanup()
    elapsed = time.monotonic() - started
    if as_json:
        click.echo(json.dumps({"steps": steps, "seconds": round(elapsed, 1), "data_dir": data_dir}, indent=2))
        return
    click.echo("")
    click.echo(click.style("== Runs", bold=True))
    for s in steps:
        click.echo(f"   {s['run_id']}  {s['status']:<17} {s['node'] or '-':<10} {s['step']}")
    click.echo(f"\nDone in {elapsed:.1f} s." + (f" Sandbox kept in {root}." if data_dir else ""))
