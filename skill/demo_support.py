"""Local stand-ins for a real deployment target, used by `devops demo` and the graph tests.

* SampleService: the deployed service on 127.0.0.1 (free port). /healthz, /version and the
  blue-green /preview/* read a JSON state file that the driver rewrites, so a deploy really
  changes what the service answers; a version listed in ``bad_versions`` is unhealthy.
* MetricsStub: a Prometheus-compatible ``GET /api/v1/query`` (instant vector). While a canary of a
  bad version takes traffic it reports a high 5xx ratio and p99 latency, otherwise low ones.
* The driver: ``python -m skill.demo_support driver`` is the ``[deploy] script`` (the script
  driver passes ACTION, VERSION, WEIGHT ...); it updates the state file named by
  $DEVOPS_DEMO_STATE and appends each call to the state's ``calls`` list.
* provision_operator_key: an operator key for a *sandbox* data dir, so the demo (and the tests)
  can approve as the operator without a terminal. It writes the same PBKDF2 record as
  ``guardrails.py operator-key init``; never use it on a real data dir.

Nothing here is imported by the graph itself.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from skill.files import write_text

STATE_ENV = "DEVOPS_DEMO_STATE"


def read_state(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def write_state(path: str | Path, state: dict) -> None:
    write_text(path, json.dumps(state))


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the demo's output readable
        pass

    def _send(self, code: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Local:
    def __init__(self, handler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _ServiceHandler(_Handler):
    def do_GET(self):  # noqa: N802 - http.server API
        state = read_state(self.server.owner.state_file)
        bad = set(state.get("bad_versions") or [])
        path = urlparse(self.path).path
        if path == "/healthz":
            ok = state.get("version") not in bad
            return self._send(200 if ok else 503, {"status": "ok" if ok else "failing"})
        if path == "/version":
            return self._send(200, {"version": state.get("version"), "canary": state.get("canary")})
        if path == "/preview/healthz":
            ok = state.get("preview") not in bad
            return self._send(200 if ok else 503, {"status": "ok" if ok else "failing"})
        if path == "/preview/version":
            return self._send(200, {"version": state.get("preview")})
        return self._send(404, {"error": "not found"})


class SampleService(_Local):
    """The service being deployed; its state lives in ``workdir/service-state.json``."""

    def __init__(self, workdir: str | Path, version: str, bad_versions: list[str] | None = None):
        super().__init__(_ServiceHandler)
        self.state_file = Path(workdir) / "service-state.json"
        write_state(
            self.state_file,
            {
                "version": version,
                "canary": None,
                "weight": 0,
                "preview": None,
                "bad_versions": bad_versions or [],
                "calls": [],
            },
        )

    def state(self) -> dict:
        return read_state(self.state_file)

    def calls(self) -> list[dict]:
        return self.state().get("calls", [])


class _MetricsHandler(_Handler):
    def do_GET(self):  # noqa: N802 - http.server API
        owner = self.server.owner
        parsed = urlparse(self.path)
        if parsed.path != "/api/v1/query":
            return self._send(404, {"status": "error", "errorType": "not_found", "error": "not found"})
        query = parse_qs(parsed.query).get("query", [""])[0]
        owner.queries.append(query)
        state = read_state(owner.service.state_file)
        live = state.get("canary") or state.get("version")
        bad = live in set(state.get("bad_versions") or [])
        latency = "2.8" if bad else "0.18"
        errors = "0.31" if bad else "0.002"
        value = latency if ("duration" in query or "latency" in query) else errors
        result = [{"metric": {"service": "sample"}, "value": [1764150000.0, value]}]
        return self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})


class MetricsStub(_Local):
    def __init__(self, service: SampleService):
        super().__init__(_MetricsHandler)
        self.service = service
        self.queries: list[str] = []


def driver_command() -> str:
    return shlex.join([sys.executable, "-m", "skill.demo_support", "driver"])


def deploy_config(service: SampleService, metrics: MetricsStub | None = None) -> str:
    """The config.toml text that points the deploy node at the local service (fast retries)."""
    lines = [
        "[deploy]",
        'driver = "script"',
        f"script = {json.dumps(driver_command())}",
        'timeout = "30s"',
        f'health_url = "{service.url}/healthz"',
        f'version_url = "{service.url}/version"',
        f'preview_health_url = "{service.url}/preview/healthz"',
        f'preview_version_url = "{service.url}/preview/version"',
        "health_timeout = 2.0",
        "health_attempts = 2",
        "backoff_initial = 0.02",
        "backoff_max = 0.1",
        "jitter = 0.01",
    ]
    if metrics is not None:
        lines += [
            "[deploy.analysis]",
            f'prometheus_url = "{metrics.url}"',
            "count = 1",
            'interval = "0s"',
            "failure_limit = 0",
        ]
    return "\n".join(lines) + "\n"


def driver_main() -> int:
    """The deploy script: apply ACTION for VERSION to the state file, like kubectl would."""
    path = os.environ.get(STATE_ENV)
    if not path:
        print(f"{STATE_ENV} is not set", file=sys.stderr)
        return 2
    state = read_state(path)
    action, version = os.environ.get("ACTION", ""), os.environ.get("VERSION", "")
    weight = os.environ.get("WEIGHT", "")
    if action in ("deploy", "promote", "rollback"):
        state.update(version=version, canary=None, weight=0)
    elif action == "canary":
        state.update(canary=version, weight=int(weight or 0))
    elif action == "stage":
        state.update(preview=version)
    elif action == "switch":
        state.update(version=state.get("preview") or version, preview=None)
    else:
        print(f"unknown ACTION {action!r}", file=sys.stderr)
        return 2
    state.setdefault("calls", []).append({"action": action, "version": version, "weight": weight})
    write_state(path, state)
    print(f"{action} {os.environ.get('SERVICE', '')} {version} {weight}".strip())
    return 0


def provision_operator_key(directory: str | None = None) -> str:
    """Create an operator key in a sandbox data dir (demo/tests) and return it; see module doc."""
    import secrets

    from skill.guardrails import approvals

    key = "dok_" + secrets.token_urlsafe(32)
    approvals.store_operator_key(key, directory)
    return key


if __name__ == "__main__":
    if sys.argv[1:] == ["driver"]:
        sys.exit(driver_main())
    print("usage: python -m skill.demo_support driver", file=sys.stderr)
    sys.exit(2)
