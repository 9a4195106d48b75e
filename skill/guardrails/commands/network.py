"""curl/wget/httpie/nc/socat: HTTP methods and endpoints that delete; downloads piped to shells."""

from __future__ import annotations

import re

from skill.guardrails.commands._base import Ctx, positionals

_DELETE_PATH = re.compile(
    r"(_delete_by_query|/doDelete\b|delete-batch|/delete\b|/_bulk\b.*delete|/purge\b|/flushall|/wipe\b|/destroy\b)",
    re.I,
)
_GRAPHQL_MUTATION = re.compile(r"mutation\b[^{]*\{\s*(\w+)", re.S)
_DESTRUCTIVE_NAME = re.compile(r"(delete|destroy|remove|purge|drop|wipe|truncate)", re.I)


def join_words(words: list[str]) -> str:
    out = []
    for w in words:
        if w and all(c.isalnum() or c in "-_./=:,@%+" for c in w):
            out.append(w)
        else:
            out.append("'" + w.replace("'", "'\\''") + "'")
    return " ".join(out)


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split("@")[-1]


_CURL_VALUE = frozenset(
    {
        "-X",
        "--request",
        "-H",
        "--header",
        "-d",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "--json",
        "-o",
        "--output",
        "-u",
        "--user",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-b",
        "--cookie",
        "-c",
        "--cookie-jar",
        "-F",
        "--form",
        "-T",
        "--upload-file",
        "-w",
        "--write-out",
        "-m",
        "--max-time",
        "--connect-timeout",
        "-x",
        "--proxy",
        "--cacert",
        "--cert",
        "--key",
        "-K",
        "--config",
        "--retry",
        "-r",
        "--range",
        "--resolve",
        "-O",
        "-P",
        "--directory-prefix",
        "--post-data",
        "--method",
        "--body-data",
        "-U",
        "--limit-rate",
        "--url",
    }
)


def check(ctx: Ctx) -> None:
    if ctx.name in ("nc", "socat"):
        _socket(ctx)
        return
    if ctx.name in ("http", "https", "xh"):
        _httpie(ctx)
        return
    method = None
    body = " ".join(
        ctx.values(
            "-d",
            "--data",
            "--data-raw",
            "--data-binary",
            "--json",
            "--data-urlencode",
            "--post-data",
            "--body-data",
        )
    )
    for arg in ctx.argv[1:]:
        if arg.startswith("-X") and len(arg) > 2 and not arg.startswith("--"):
            method = arg[2:]
    implied = "GET"
    if body or ctx.has("-F", "--form", "--form-string", "--post-file", "--body-file"):
        implied = "POST"  # a form or a posted file is a POST even with no data flag
    elif ctx.has("-T", "--upload-file") or any(a.startswith("-T") and len(a) > 2 for a in ctx.args):
        implied = "PUT"
    method = (method or ctx.value("-X", "--request", "--method") or implied).upper()
    urls = [p for p in positionals(ctx.args, _CURL_VALUE) if not p.startswith("-")]
    urls += ctx.values("--url")
    for url in urls:
        ctx.env(_host(url))
    _judge(ctx, method, urls, body)


def _judge(ctx: Ctx, method: str, urls: list[str], body: str) -> None:
    tool = ctx.name
    if method == "DELETE":
        ctx.hit(3, "http.delete", f"{tool} sends an HTTP DELETE")
        return
    if any(_DELETE_PATH.search(u) for u in urls):
        ctx.hit(3, "http.delete-endpoint", f"{tool} calls a delete endpoint")
        return
    m = _GRAPHQL_MUTATION.search(body)
    if m:
        name = m.group(1)
        if _DESTRUCTIVE_NAME.search(name):
            ctx.hit(3, "http.graphql-destructive", f"GraphQL mutation {name}")
        else:
            ctx.hit(2, "http.graphql-mutation", f"GraphQL mutation {name}")
        return
    if method in ("GET", "HEAD", "OPTIONS"):
        if (
            ctx.has("-o", "--output", "-O", "--remote-name")
            or tool == "wget"
            and not ctx.has("-O-", "-qO-", "--spider")
        ):
            ctx.hit(2, "http.download", f"{tool} downloads a file")
        else:
            ctx.hit(1, "http.read", f"{tool} {method} only reads")
        return
    ctx.hit(2, "http.write", f"{tool} sends an HTTP {method}")


def _httpie(ctx: Ctx) -> None:
    pos = positionals(
        ctx.args,
        frozenset(
            {
                "-a",
                "--auth",
                "-A",
                "--auth-type",
                "-o",
                "--output",
                "--session",
                "--verify",
                "--cert",
                "--cert-key",
                "--proxy",
                "--timeout",
            }
        ),
    )
    method = "GET"
    if pos and pos[0].isupper() and pos[0].isalpha():
        method = pos[0]
        pos = pos[1:]
    elif len(pos) > 1 and any("=" in p for p in pos[1:]):
        method = "POST"
    urls = pos[:1]
    for url in urls:
        ctx.env(_host(url))
    _judge(ctx, method, urls, " ".join(pos[1:]))


def _socket(ctx: Ctx) -> None:
    src = ctx.piped_from or []
    text = " ".join(src[1:]).lower() if src and src[0] in ("echo", "printf") else ""
    if any(
        w in text
        for w in ("shutdown", "disable", "flushall", "flushdb", "del ", "kill", "set weight", "drop")
    ):
        ctx.hit(3, "socket.admin-command", f"sends an admin command to a socket: {text[:60]}")
    elif ctx.short("l") or ctx.short("e") or ctx.short("c"):
        ctx.hit(3, "socket.listen-exec", f"{ctx.name} listens or executes a program on connect")
    else:
        ctx.hit(2, "socket.connect", f"{ctx.name} opens a raw connection")
