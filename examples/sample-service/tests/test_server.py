import json
import threading
import urllib.request

from app.server import Handler, ThreadingHTTPServer


def test_healthz():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert json.load(resp) == {"status": "ok"}
    finally:
        server.shutdown()
