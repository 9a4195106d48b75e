"""`devops serve`: receive webhooks, answer fast, process them from a durable queue.

    POST /webhooks/github        X-Hub-Signature-256 (HMAC-SHA256 of the body, [server] github_secret)
    POST /webhooks/gitlab        X-Gitlab-Token ([server] gitlab_token)
    POST /webhooks/alertmanager  Authorization: Bearer <[server] token>
    POST /webhooks/pagerduty     X-PagerDuty-Signature v1 ([server] pagerduty_secret) or the bearer token
    POST /webhooks/generic       Authorization: Bearer <[server] token>
    GET  /healthz                the process is up
    GET  /readyz                 the inbox is writable, the workers run, not shutting down

A request is authenticated before its body is parsed (401, nothing stored, on a bad or missing
secret; a source whose secret is not configured refuses everything), capped in size (413), parsed
(400 on a malformed payload), then committed to the SQLite inbox (skill.webhooks.inbox) and answered 202.
A redelivery answers 200 with ``"duplicate": true``. Worker threads run each item through the
agent graph. SIGTERM/SIGINT: uvicorn stops accepting, finishes open requests, then the workers
finish the item in hand (up to ``drain_timeout``) and stop; pending items wait in the inbox for
the next start. Logs are JSON lines on stderr.

Why starlette + uvicorn rather than the stdlib http.server: both are already installed (the MCP
server needs them), uvicorn parses HTTP robustly (h11), handles SIGTERM with a graceful shutdown
of open connections and gives start-up/shutdown hooks (lifespan) where the workers start and
drain; http.server has none of that and would need all of it hand-written.

Settings: ``[server]`` in config.toml, each overridable by an environment variable:
    github_secret     $DEVOPS_GITHUB_WEBHOOK_SECRET
    gitlab_token      $DEVOPS_GITLAB_WEBHOOK_TOKEN
    pagerduty_secret  $DEVOPS_PAGERDUTY_WEBHOOK_SECRET
    token             $DEVOPS_WEBHOOK_TOKEN        (bearer token for alertmanager, pagerduty, generic)
    max_body          max request body in bytes (default 1048576)
    workers           worker threads (default 1; 0 = accept only)
    drain_timeout     seconds to wait for in-flight work at shutdown (default 30)
    lease             seconds a worker holds an item before another may take it over (default 60;
                      renewed while the worker lives, so only a dead worker's lease expires)
    max_attempts      attempts before an item is dead (default 3)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import socket
import sys
import threading
import time
from typing import Any

import click

from skill.config import load_settings

DEFAULTS: dict[str, Any] = {
    "github_secret": "",
    "gitlab_token": "",
    "pagerduty_secret": "",
    "token": "",
    "max_body": 1024 * 1024,
    "workers": 1,
    "drain_timeout": 30.0,
    "lease": 60.0,
    "max_attempts": 3,
}
ENV = {
    "github_secret": "DEVOPS_GITHUB_WEBHOOK_SECRET",
    "gitlab_token": "DEVOPS_GITLAB_WEBHOOK_TOKEN",
    "pagerduty_secret": "DEVOPS_PAGERDUTY_WEBHOOK_SECRET",
    "token": "DEVOPS_WEBHOOK_TOKEN",
}
SOURCES = ("github", "gitlab", "alertmanager", "pagerduty", "generic")

log = logging.getLogger("devops.server")


def server_settings() -> dict[str, Any]:
    cfg = load_settings("server", DEFAULTS)
    for key, var in ENV.items():
        if os.environ.get(var):
            cfg[key] = os.environ[var]
    return cfg


# ----------------------------------------------------------------------------- logging


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, default=str)


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("devops", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(logging.INFO)
        lg.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def _log(level: int, msg: str, **fields: Any) -> None:
    log.log(level, msg, extra={"fields": fields})


# ----------------------------------------------------------------------------- authentication


def verify(source: str, headers: dict[str, str], body: bytes, cfg: dict[str, Any]) -> str | None:
    """None when the request is authentic, else the reason (for the log, not the client)."""

    def bearer() -> str | None:
        token = str(cfg.get("token") or "")
        if not token:
            return "no bearer token configured ([server] token / $DEVOPS_WEBHOOK_TOKEN)"
        got = headers.get("authorization", "")
        if not got.lower().startswith("bearer "):
            return "missing bearer token"
        return None if hmac.compare_digest(got[7:].strip().encode(), token.encode()) else "bad bearer token"

    if source == "github":
        secret = str(cfg.get("github_secret") or "")
        if not secret:
            return "no GitHub webhook secret configured"
        sig = headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return (
            None
            if sig and hmac.compare_digest(sig.encode(), expected.encode())
            else "bad X-Hub-Signature-256"
        )
    if source == "gitlab":
        token = str(cfg.get("gitlab_token") or "")
        if not token:
            return "no GitLab webhook token configured"
        got = headers.get("x-gitlab-token", "")
        return None if got and hmac.compare_digest(got.encode(), token.encode()) else "bad X-Gitlab-Token"
    if source == "pagerduty" and cfg.get("pagerduty_secret") and headers.get("x-pagerduty-signature"):
        expected = "v1=" + hmac.new(str(cfg["pagerduty_secret"]).encode(), body, hashlib.sha256).hexdigest()
        sigs = [s.strip() for s in headers["x-pagerduty-signature"].split(",")]
        return (
            None
            if any(hmac.compare_digest(s.encode(), expected.encode()) for s in sigs)
            else "bad X-PagerDuty-Signature"
        )
    return bearer()


# ----------------------------------------------------------------------------- worker


def process_item(item: dict[str, Any]) -> tuple[str, str]:
    """Run one inbox item through the graph -> (run id, run status)."""
    from skill.agent.graph import run
    from skill.webhooks.events import parse_event

    event = parse_event(item["body"], source=item["source"], headers=item["headers"])
    outcome = run(
        event=event, run_id=f"evt-{item['id']}", event_key=f"{item['source']}:{item['delivery_id']}"
    )
    return outcome.run_id, outcome.status


class Workers:
    """Worker threads of one process; they share the queue with every other `devops serve`."""

    def __init__(self, inbox, count: int):
        from skill.webhooks.inbox import worker_id

        self.inbox = inbox
        self.count = count
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.threads: list[threading.Thread] = []
        self.busy = 0
        self._lock = threading.Lock()
        self._held: dict[int, str] = {}  # item id -> the owner id its lease is under
        self._owner = {i: worker_id(f"w{i}") for i in range(count)}

    def start(self) -> None:
        if not self.count:
            return
        released = self.inbox.release_orphans()
        if released:
            _log(logging.WARNING, "took back items a crashed process of this host held", count=released)
        for i in range(self.count):
            t = threading.Thread(target=self._loop, args=(i,), name=f"devops-worker-{i}", daemon=True)
            t.start()
            self.threads.append(t)
        beat = threading.Thread(target=self._heartbeat, name="devops-lease-renewal", daemon=True)
        beat.start()

    def alive(self) -> bool:
        return all(t.is_alive() for t in self.threads)

    def _heartbeat(self) -> None:
        """Renew the leases in hand at a third of their length, so only a dead worker's expire."""
        interval = max(0.2, self.inbox.lease_seconds / 3)
        while not self.stop.wait(interval):
            with self._lock:
                held = dict(self._held)
            for owner in set(held.values()):
                try:
                    lost = self.inbox.renew([i for i, o in held.items() if o == owner], owner)
                except Exception as exc:  # noqa: BLE001 - the store may be back at the next beat
                    _log(logging.ERROR, "lease renewal failed", error=f"{type(exc).__name__}: {exc}")
                    continue
                for item_id in lost:
                    _log(logging.WARNING, "lease lost: another worker took the item over", item=item_id)

    def _claim(self, owner: str) -> dict[str, Any] | None:
        try:
            return self.inbox.claim(owner)
        except Exception as exc:  # noqa: BLE001 - a store that is down must not kill the worker
            _log(logging.ERROR, "cannot claim from the queue", error=f"{type(exc).__name__}: {exc}")
            self.stop.wait(2.0)
            return None

    def _loop(self, index: int) -> None:
        owner = self._owner[index]
        while not self.stop.is_set():
            item = self._claim(owner)
            if item is None:
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            with self._lock:
                self.busy += 1
                self._held[item["id"]] = owner
            try:
                self._process(item, owner)
            finally:
                with self._lock:
                    self.busy -= 1
                    self._held.pop(item["id"], None)

    def _process(self, item: dict[str, Any], owner: str) -> None:
        started = time.monotonic()
        fields = {"item": item["id"], "source": item["source"], "delivery": item["delivery_id"]}
        try:
            run_id, status = process_item(item)
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the worker
            from skill.errors import DevopsError, StorageError

            error = f"{type(exc).__name__}: {exc}"
            # A DevopsError is about the event itself (bad input, a refused action): retrying
            # cannot change it. Anything else (a store hiccup, a crash in a tool) may pass next time.
            try:
                retry = not isinstance(exc, DevopsError) or isinstance(exc, StorageError)
                now = self.inbox.fail(item["id"], owner, error, retry=retry)
            except Exception as store_exc:  # noqa: BLE001 - the lease expires and the item comes back
                now = f"unrecorded ({type(store_exc).__name__}: {store_exc})"
            _log(logging.ERROR, "processing failed", **fields, error=error, attempt=item["attempts"], now=now)
            return
        try:
            kept = self.inbox.finish(item["id"], owner, run_id=run_id, run_status=status)
        except Exception as exc:  # noqa: BLE001 - the lease expires; the rerun reuses the run's checkpoints
            _log(logging.ERROR, "cannot mark the item done", **fields, error=f"{type(exc).__name__}: {exc}")
            return
        if not kept:
            _log(logging.WARNING, "finished after the lease was lost; the new owner records it", **fields)
            return
        _log(
            logging.INFO,
            "processed",
            **fields,
            run_id=run_id,
            run_status=status,
            attempt=item["attempts"],
            ms=round((time.monotonic() - started) * 1000),
        )

    def drain(self, timeout: float) -> None:
        self.stop.set()
        self.wake.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        left = [t.name for t in self.threads if t.is_alive()]
        _log(logging.INFO if not left else logging.WARNING, "workers stopped", unfinished=left)


# ----------------------------------------------------------------------------- app


def make_app(cfg: dict[str, Any], inbox, workers: Workers):
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from skill.errors import InputError
    from skill.webhooks.events import parse_event

    max_body = int(cfg.get("max_body") or DEFAULTS["max_body"])
    state = {"stopping": False}

    async def read_capped(request: Request) -> bytes | None:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def webhook(request: Request):
        source = request.path_params["source"]
        started = time.monotonic()
        if source not in SOURCES:
            return JSONResponse({"error": f"unknown source {source!r}"}, status_code=404)
        body = await read_capped(request)
        if body is None:
            _log(logging.WARNING, "body too large", source=source, limit=max_body)
            return JSONResponse({"error": f"body larger than {max_body} bytes"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        problem = verify(source, headers, body, cfg)
        if problem:
            _log(
                logging.WARNING,
                "unauthenticated",
                source=source,
                reason=problem,
                client=request.client.host if request.client else None,
            )
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if source == "github" and headers.get("x-github-event") == "ping":
            return JSONResponse({"ok": True, "pong": True})
        try:
            event = parse_event(body, source=source, headers=headers)
        except InputError as exc:
            if source == "github" and "is not handled" in str(exc):
                return JSONResponse({"ignored": headers.get("x-github-event")}, status_code=200)
            _log(logging.WARNING, "bad payload", source=source, error=str(exc))
            return JSONResponse({"error": str(exc)}, status_code=400)
        keep = {
            k: v
            for k, v in headers.items()
            if k.startswith(("x-github", "x-gitlab-event", "idempotency", "x-webhook", "x-delivery"))
        }
        try:
            item_id, created = inbox.add(source, event.id, body, keep)
        except Exception as exc:  # noqa: BLE001 - not stored: the sender must retry, so say so with a 503
            _log(logging.ERROR, "queue unavailable", source=source, error=f"{type(exc).__name__}: {exc}")
            return JSONResponse({"error": "the queue is unavailable; retry later"}, status_code=503)
        fields = {
            "source": source,
            "delivery": event.id,
            "type": event.type,
            "item": item_id,
            "ms": round((time.monotonic() - started) * 1000, 1),
        }
        if not created:
            _log(logging.INFO, "duplicate delivery", **fields)
            return JSONResponse({"id": item_id, "delivery": event.id, "duplicate": True}, status_code=200)
        workers.wake.set()
        _log(logging.INFO, "accepted", **fields)
        return JSONResponse(
            {"id": item_id, "delivery": event.id, "type": event.type, "status": "queued"}, status_code=202
        )

    async def healthz(request: Request):
        return JSONResponse({"ok": True})

    async def readyz(request: Request):
        checks = {
            "inbox": inbox.ping(),
            "workers": workers.alive() if workers.count else True,
            "accepting": not state["stopping"],
        }
        ok = all(checks.values())
        queue = inbox.counts() if checks["inbox"] else None
        return JSONResponse({"ok": ok, "checks": checks, "queue": queue}, status_code=200 if ok else 503)

    @asynccontextmanager
    async def lifespan(app):
        workers.start()
        _log(logging.INFO, "workers started", count=workers.count)
        try:
            yield
        finally:
            state["stopping"] = True
            import asyncio

            await asyncio.to_thread(workers.drain, float(cfg.get("drain_timeout") or 30))
            inbox.close()

    return Starlette(
        routes=[
            Route("/webhooks/{source}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _number(cfg: dict[str, Any], key: str, kind: type, minimum: float) -> Any:
    try:
        value = kind(cfg[key])
    except (TypeError, ValueError):
        value = None
    if value is None or value < minimum:
        from skill.errors import ConfigError

        raise ConfigError(f"[server] {key} must be a number >= {minimum}, not {cfg[key]!r}")
    return value


def run_server(host: str, port: int, *, workers: int | None = None) -> None:
    import uvicorn

    from skill.webhooks.inbox import Inbox

    setup_logging()
    cfg = server_settings()
    count = int(cfg["workers"] if workers is None else workers)
    lease, attempts = _number(cfg, "lease", float, 1), _number(cfg, "max_attempts", int, 1)
    inbox = Inbox(lease_seconds=lease, max_attempts=attempts)
    pool = Workers(inbox, count)
    missing = [k for k in ENV if k != "pagerduty_secret" and not cfg.get(k)]
    if missing:
        _log(logging.WARNING, "secrets not configured: those sources refuse every request", missing=missing)
    # Bind first so port 0 works and the log says where we listen.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    actual = sock.getsockname()[1]
    _log(logging.INFO, "listening", host=host, port=actual, inbox=inbox.where, pid=os.getpid())
    config = uvicorn.Config(
        make_app(cfg, inbox, pool),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=float(cfg.get("drain_timeout") or 30),
    )
    uvicorn.Server(config).run(sockets=[sock])


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port)."
)
@click.option(
    "--workers", type=click.IntRange(0, 16), default=None, help="Worker threads (0: accept and queue only)."
)
def serve(host: str, port: int, workers: int | None) -> None:
    """Receive webhooks (GitHub, GitLab, Alertmanager, PagerDuty, generic) into a durable queue.

    \b
    DEVOPS_GITHUB_WEBHOOK_SECRET=... DEVOPS_WEBHOOK_TOKEN=... devops serve --port 8787
    """
    from skill.cli_support import fail
    from skill.errors import DevopsError

    try:
        run_server(host, port, workers=workers)
    except DevopsError as exc:
        fail(str(exc), exc.exit_code)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
