"""Small real servers on 127.0.0.1 for the graph tests: an Anthropic Messages API stub."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MessagesStub:
    """Speaks POST /v1/messages; answers from a queue of (status, body, delay) and records requests."""

    def __init__(self):
        self.replies: list[tuple[int, dict, float]] = []
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, reply, delay = (
                    stub.replies.pop(0) if stub.replies else (500, {"error": "no reply queued"}, 0)
                )
                if delay:
                    time.sleep(delay)
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def reply_tool(self, name: str, tool_input: dict) -> None:
        self.replies.append(
            (
                200,
                message(
                    [{"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}], "tool_use"
                ),
                0,
            )
        )

    def reply_text(self, text: str) -> None:
        self.replies.append((200, message([{"type": "text", "text": text}], "end_turn"), 0))

    def reply_raw(self, status: int, body: bytes | dict) -> None:
        """A reply exactly as given: malformed bodies the SDK must not choke on."""
        self.replies.append((status, body, 0))

    def reply_error(self, status: int, kind: str = "overloaded_error", delay: float = 0) -> None:
        self.replies.append(
            (status, {"type": "error", "error": {"type": kind, "message": "Overloaded"}}, delay)
        )


def message(content: list[dict], stop_reason: str) -> dict:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 30},
    }
