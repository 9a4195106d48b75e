"""Pull the lines that explain a CI failure out of a long log.

Input is the text of ``gh run view --log-failed`` (``JOB<TAB>STEP<TAB>LINE``), the jobs' log
API, or ``glab ci trace``. Output is a short, ordered list of error lines with a kind each.
"""

from __future__ import annotations

import re

from skill.nodes.ci.models import ErrorLine
from skill.redact import redact

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]")
TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\s?")
GH_PREFIX = re.compile(r"^##\[(?:error|warning|group|endgroup)\]")
# pytest's banners: "____ test_name ____", "==== 1 failed, 3 passed in 0.2s ====" -> the words only
BANNER = re.compile(r"^([_=\-])\1{2,}\s*(.+?)\s*\1{3,}$")

# (kind, pattern); first match wins, so the specific kinds come before the generic ones.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("oom", re.compile(r"out of memory|OOMKilled|\bKilled\b|exit code 137|signal: killed|Cannot allocate memory|"
                       r"MemoryError|JavaScript heap out of memory|java\.lang\.OutOfMemoryError", re.I)),
    ("timeout", re.compile(r"exceeded the maximum execution time|has exceeded the maximum|timed out after|"
                           r"execution took longer than|deadline exceeded|The job running on runner .* has exceeded|"
                           r"Timeout of \d+ ?ms exceeded|timeout: the monitored command|panic: test timed out|"
                           r"The operation was canceled", re.I)),
    ("infrastructure", re.compile(r"No space left on device|runner has received a shutdown signal|lost communication "
                                  r"with the server|runner system failure|The hosted runner|Unable to find image|"
                                  r"manifest unknown|pull access denied|Error response from daemon|"
                                  r"could not find a runner|Job is stuck", re.I)),
    ("network", re.compile(r"Could not resolve host|Temporary failure in name resolution|Connection refused|"
                           r"Connection reset|(?-i:ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)|TLS handshake timeout|"
                           r"i/o timeout|503 Service Unavailable|502 Bad Gateway|429 Too Many Requests|"
                           r"toomanyrequests|rate limit exceeded|Failed to connect to|network is unreachable|"
                           r"ReadTimeoutError|ConnectTimeout|Max retries exceeded", re.I)),
    ("test", re.compile(r"^(?:FAILED|ERROR) [\w/.\-]+\.py::|^_{3,} .+ _{3,}$|^E\s{2,}\S|"
                        r"=+ .*\b\d+ failed\b.* =+|\b\d+ failed, \d+ passed|"
                        r"^\s*●\s|^FAIL\s+\S+\.(?:[jt]sx?|mjs)\b|^Tests:\s+.*\d+ failed|"
                        r"^--- FAIL: |^FAIL\s+[\w./\-]+\s+[\d.]+s$|^panic: |"
                        r"Tests run: \d+, Failures: [1-9]|Tests run: \d+, Failures: \d+, Errors: [1-9]|"
                        r"<<< FAILURE!|\bFAILED\s*$|AssertionError|assert(?:ion)? failed|"
                        r"^\s*\d+\) .*(?:Test|test|spec)|failures:$|test result: FAILED", re.M)),
    ("lint", re.compile(r"^[\w./\-]+:\d+:\d+: [A-Z]{1,3}\d{2,4}\b|^\s*\d+:\d+\s+(?:error|warning)\s+.+\s+[\w\-/@]+$|"
                        r"\bwould reformat\b|Would reformat|^\s*SC\d{4}|golangci-lint|\((?:errcheck|govet|staticcheck|"
                        r"unused|gosimple|ineffassign)\)$|✖ \d+ problems?|Found \d+ errors?\.|"
                        r"^[\w./\-]+\.py:\d+: error: |files? would be reformatted|needs formatting", re.M)),
    ("compile", re.compile(r"^[\w./\-]+\.(?:c|cc|cpp|h|hpp|go|rs|java|kt|scala|swift|cs|ts|tsx):\d+(?::\d+)?:?\s*"
                           r"(?:fatal )?error\b|^error(?:\[E\d+\])?: |error TS\d+:|error CS\d+:|"
                           r"COMPILATION ERROR|cannot find symbol|undefined reference to|"
                           r"^[\w./\-]+\.go:\d+:\d+: |SyntaxError:|ModuleNotFoundError:|ImportError:|"
                           r"Cannot find module|Module not found|BUILD FAILED|Build failed|"
                           r"ERROR: failed to solve|npm ERR! code E|error: could not compile", re.M)),
    ("exit_code", re.compile(r"Process completed with exit code [1-9]\d*|exit code [1-9]\d*|exit status [1-9]\d*|"
                             r"ERROR: Job failed|make: \*\*\* .*Error \d+|returned non-zero exit status", re.I)),
    ("error", re.compile(r"^##\[error\]|^(?:Error|ERROR|FATAL|Fatal)\b[:\s]|Traceback \(most recent call last\)|"
                         r"\bfatal: |Unhandled exception", re.M)),
]  # fmt: skip


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text or "")


def split_line(raw: str) -> tuple[str | None, str | None, str]:
    """(job, step, text) of one ``--log-failed`` line; plain log lines give (None, None, text)."""
    parts = raw.split("\t", 2)
    if len(parts) == 3:
        job, step, text = parts
    else:
        job, step, text = None, None, raw
    text = TIMESTAMP.sub("", text)
    return job, step, text.rstrip()


def classify_line(text: str) -> str | None:
    body = GH_PREFIX.sub("", text).strip()
    if not body:
        return None
    for kind, rx in PATTERNS:
        if rx.search(body):
            return kind
    if text.startswith("##[error]"):
        return "error"
    return None


def extract_error_lines(log: str, limit: int = 40) -> list[ErrorLine]:
    """The lines that explain the failure, in log order, deduplicated, capped at ``limit``.

    Secrets are redacted here: these lines go to the terminal, to memory and to the LLM.
    """
    out: list[ErrorLine] = []
    seen: set[str] = set()
    for number, raw in enumerate(strip_ansi(log).splitlines(), start=1):
        job, step, text = split_line(raw)
        kind = classify_line(text)
        if not kind:
            continue
        body = GH_PREFIX.sub("", text).strip()
        body = BANNER.sub(r"\2", body)
        key = f"{kind}:{body}"
        if key in seen:
            continue
        seen.add(key)
        out.append(ErrorLine(text=redact(body)[:500], kind=kind, job=job, step=step, line=number))
    if len(out) <= limit:
        return out
    # Keep the specific kinds first: a hundred exit-code echoes must not push out the one test failure.
    rank = {k: i for i, (k, _) in enumerate(PATTERNS)}
    keep = sorted(out, key=lambda e: (rank.get(e.kind, 99), e.line or 0))[:limit]
    return sorted(keep, key=lambda e: e.line or 0)
