"""orders-api: a tiny order service used as the readiness sample.

Stdlib only: an HTTP server with /healthz and /readyz, JSON logs, a timeout on the one
outbound call, and a SIGTERM handler that drains before exiting.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVENTORY_URL = os.environ.get("INVENTORY_URL", "http://inventory:8080/stock")
OUTBOUND_TIMEOUT = float(os.environ.get("OUTBOUND_TIMEOUT", "2.0"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload)


log = logging.getLogger("orders")
_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(JsonFormatter())
log.addHandler(_handler)
log.setLevel(logging.INFO)

_draining = threading.Event()


def stock_for(sku: str) -> int:
    # A timeout on every outbound call; no retry yet (a deliberate gap, see README).
    with urllib.request.urlopen(f"{INVENTORY_URL}/{sku}", timeout=OUTBOUND_TIMEOUT) as resp:
        return int(json.load(resp).get("available", 0))


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path == "/healthz":
            self._send(200, {"status": "ok"})
        elif self.path == "/readyz":
            if _draining.is_set():
                self._send(503, {"status": "draining"})
            else:
                self._send(200, {"status": "ready"})
        elif self.path.startswith("/orders/"):
            sku = self.path.rsplit("/", 1)[-1]
            try:
                self._send(200, {"sku": sku, "available": stock_for(sku)})
            except OSError as exc:
                log.error("inventory call failed: %s", exc)
                self._send(502, {"error": "inventory unavailable"})
        else:
            self._send(404, {"error": "not found"})

    def log_message(self, fmt: str, *args) -> None:
        log.info(fmt, *args)


def serve(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)

    def on_sigterm(signum, frame) -> None:
        # Fail readiness first so the endpoints controller stops sending traffic, then drain.
        log.info("SIGTERM received, draining")
        _draining.set()

        def stop() -> None:
            time.sleep(float(os.environ.get("DRAIN_SECONDS", "5")))
            server.shutdown()

        threading.Thread(target=stop, daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    return server


if __name__ == "__main__":
    srv = serve(int(os.environ.get("PORT", "8080")))
    log.info("listening on %s", srv.server_address)
    srv.serve_forever()
    log.info("stopped")
