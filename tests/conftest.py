"""Shared fixtures: every test gets its own data dir and config dir, no API key, no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DEVOPS_SHARED_DIR", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point every data/config location at a temp dir, and switch the optional LLM off."""
    home = tmp_path / "devops-home"
    monkeypatch.setenv("DEVOPS_HOME", str(home))
    monkeypatch.setenv("DEVOPS_CONFIG_DIR", str(tmp_path / "devops-config"))
    monkeypatch.delenv("DEVOPS_PROJECT_DIR", raising=False)
    monkeypatch.delenv("DEVOPS_POLICY", raising=False)
    monkeypatch.delenv("DEVOPS_DATABASE_URL", raising=False)  # embedded stores unless a test opts in
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA}")
    return CORPORA


def run_script(
    *args: str,
    input: str | None = None,
    env: dict | None = None,
    cwd=None,
    timeout: float = 60,
    no_terminal: bool = False,
):
    """Run one of the repository's scripts (guardrails.py, memory.py) or `-m skill.cli` as a real
    process; ``no_terminal`` starts it in a session of its own, so it cannot prompt on /dev/tty."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
        start_new_session=no_terminal,
    )


@pytest.fixture
def run():
    return run_script


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL (Debian package) in a temp dir on 127.0.0.1, one per xdist worker.

    Tests share it and each takes its own database (``postgres_url``); a test that stops or
    breaks a server starts its own ``LocalPostgres`` instead.
    """
    yield from _local_postgres()


@pytest.fixture
def own_postgres():
    """A server of this test's own, which it may stop, start or break."""
    yield from _local_postgres()


def _local_postgres():
    from skill.storage import local_postgres

    reason = local_postgres.unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: required in CI")
        pytest.skip(reason)
    server = local_postgres.LocalPostgres().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the shared server: its socket URL."""
    return postgres_server.create_database()


@pytest.fixture
def team_mode(postgres_url, monkeypatch) -> str:
    """Every ported store of this test (and its subprocesses) in a fresh PostgreSQL database."""
    monkeypatch.setenv("DEVOPS_DATABASE_URL", postgres_url)
    return postgres_url


@pytest.fixture(scope="module")
def prometheus_server(tmp_path_factory):
    """A real Prometheus (Debian package) on 127.0.0.1 with backfilled synthetic history and the
    generated SLO rules loaded; one per test module, stopped at its end.

    History ends a second before the start: backfilled blocks may not reach into the future
    (the server would refuse its own rule results as out of bounds), so a module's queries "now"
    (canary analysis, live alerts) see fresh samples for a few minutes; status tests pin ``at``.
    """
    from skill.slo import local_prometheus as lp

    if lp.binaries() is None:
        reason = "prometheus/promtool not installed (apt-get install prometheus; `make test` installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: required in CI")
        pytest.skip(reason)
    from skill.slo.rules import render
    from skill.slo.spec import load_slos

    work = tmp_path_factory.mktemp("prometheus")
    spec = work / "slo.yaml"
    spec.write_text(SLO_SPEC)
    rules = work / "slo-rules.yaml"
    rules.write_text(render(load_slos(spec)))
    end = int(__import__("time").time()) - 1
    services = [
        lp.steady("steady"),
        lp.fast_burner("fast"),
        lp.short_outage("outage"),
        lp.idle("idle"),
    ]
    server = lp.LocalPrometheus(services, rules=[rules], end=end, workdir=work / "server")
    server.start()
    server.at = end + 30  # between two samples: no window edge sits on a sample
    server.spec, server.rules_file = spec, rules
    try:
        yield server
    finally:
        server.stop()


SLO_SPEC = """\
slos:
""" + "".join(
    f"""\
  - service: {name}
    name: availability
    objective: 99.9
    window: 30d
    sli:
      errors: sum(rate(http_requests_total{{service="{name}",code=~"5.."}}[{{{{.window}}}}]))
      total: sum(rate(http_requests_total{{service="{name}"}}[{{{{.window}}}}]))
"""
    for name in ("steady", "fast", "outage")
)
