"""Error-line extraction and failure classification over logs in the formats CI tools print."""

from __future__ import annotations

import pytest

from skill.nodes.ci.logs import extract_error_lines, split_line, strip_ansi
from skill.nodes.ci.models import CiJob, PipelineRun, Step
from skill.nodes.ci.triage import classify

CASES = [
    # (log line, expected kind)
    ("FAILED tests/test_api.py::test_login - AssertionError: 401 != 200", "test"),
    ("E       assert 401 == 200", "test"),
    ("========= 2 failed, 40 passed in 3.10s =========", "test"),
    ("  ● Cart › shows the badge", "test"),
    ("FAIL src/cart.test.ts", "test"),
    ("Tests:       1 failed, 12 passed, 13 total", "test"),
    ("--- FAIL: TestAdd (0.00s)", "test"),
    ("FAIL\tgithub.com/acme/shop/cart\t0.013s", "test"),
    ("[ERROR] Tests run: 12, Failures: 2, Errors: 0, Skipped: 0", "test"),
    ("CartTest > totalWithCoupon() FAILED", "test"),
    ("test result: FAILED. 3 passed; 1 failed", "test"),
    ("src/app.py:3:1: F401 [*] `os` imported but unused", "lint"),
    ("  12:7  error  'x' is assigned a value but never used  no-unused-vars", "lint"),
    ("Would reformat: src/app.py", "lint"),
    ("✖ 3 problems (3 errors, 0 warnings)", "lint"),
    ("src/app.py:10: error: Incompatible return value type", "lint"),
    ("In ./deploy.sh line 4: SC2086 (info): Double quote to prevent globbing", None),
    ("src/main.c:10:5: error: expected ';' before '}' token", "compile"),
    ("error[E0308]: mismatched types", "compile"),
    ("src/index.ts(4,7): error TS2322: Type 'string' is not assignable to type 'number'.", "compile"),
    ("[ERROR] COMPILATION ERROR :", "compile"),
    ("ModuleNotFoundError: No module named 'requests'", "compile"),
    (
        'ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2',
        "compile",
    ),
    ("##[error]Process completed with exit code 2.", "exit_code"),
    ("make: *** [Makefile:12: test] Error 1", "exit_code"),
    ("ERROR: Job failed: exit code 1", "exit_code"),
    ("Killed", "oom"),
    ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "oom"),
    ("##[error]Process completed with exit code 137.", "oom"),
    (
        "##[error]The job running on runner X has exceeded the maximum execution time of 30 minutes.",
        "timeout",
    ),
    ("ERROR: Job failed: execution took longer than 1h0m0s seconds", "timeout"),
    ("panic: test timed out after 10m0s", "timeout"),
    ("curl: (6) Could not resolve host: registry.example.com", "network"),
    ("npm ERR! code ECONNRESET", "network"),
    (
        "Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: TLS handshake timeout",
        "infrastructure",
    ),
    ("toomanyrequests: You have reached your pull rate limit.", "network"),
    ("write /tmp/x: No space left on device", "infrastructure"),
    ("Traceback (most recent call last):", "error"),
    ("collected 12 items", None),
    ("Downloading requests-2.32.3-py3-none-any.whl", None),
    ("All checks passed!", None),
]


@pytest.mark.parametrize("line,kind", CASES)
def test_line_kinds(line, kind):
    found = extract_error_lines(f"job\tstep\t2026-11-20T10:00:00.0000000Z {line}")  # gh --log-failed shape
    assert [e.kind for e in found] == ([kind] if kind else [])


def test_gh_log_failed_format_is_split_and_cleaned():
    raw = "test (3.12)\tRun tests\t2026-11-20T10:03:09.3000000Z \x1b[31mE       assert 100 == 90\x1b[0m"
    job, step, text = split_line(strip_ansi(raw))
    assert (job, step, text) == ("test (3.12)", "Run tests", "E       assert 100 == 90")
    [err] = extract_error_lines(raw)
    assert (err.job, err.step, err.text, err.line) == (
        "test (3.12)",
        "Run tests",
        "E       assert 100 == 90",
        1,
    )


def test_duplicates_removed_secrets_redacted_and_capped():
    log = "\n".join(["##[error]Process completed with exit code 1."] * 5)
    assert len(extract_error_lines(log)) == 1
    [leak] = extract_error_lines("Error: login failed for token ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    assert "ghp_" not in leak.text and "REDACTED" in leak.text
    noisy = (
        "\n".join(f"make: *** [Makefile:{i}: x] Error 1" for i in range(100)) + "\nFAILED t.py::test_x - boom"
    )
    capped = extract_error_lines(noisy, limit=10)
    assert len(capped) == 10 and any(e.kind == "test" for e in capped)


def _run(conclusion="failure", attempt=1):
    return PipelineRun(platform="github", id="1", status="completed", conclusion=conclusion, attempt=attempt)


def _job(name="build", conclusion="failure", reason=None, steps=()):
    return CiJob(id="9", name=name, status="completed", conclusion=conclusion, failure_reason=reason,
                 steps=[Step(name=s, conclusion="failure") for s in steps])  # fmt: skip


@pytest.mark.parametrize(
    "log,run,jobs,flaky,expected",
    [
        ("FAILED t.py::test_a - boom", _run(), [_job()], None, "test"),
        ("src/a.py:1:1: F401 unused", _run(), [_job()], None, "lint"),
        ("error[E0308]: mismatched types", _run(), [_job()], None, "build"),
        ("Killed\nFAILED t.py::test_a", _run(), [_job()], None, "infrastructure"),
        ("Could not resolve host: pypi.org", _run(), [_job()], None, "infrastructure"),
        ("", _run("timed_out"), [_job(conclusion="timed_out")], None, "timeout"),
        ("", _run("startup_failure"), [], None, "infrastructure"),
        ("", _run(), [_job(reason="runner_system_failure")], None, "infrastructure"),
        ("FAILED t.py::test_a", _run("success", attempt=2), [_job()], 1, "flaky"),
        ("", _run(), [_job(name="eslint")], None, "lint"),
        ("", _run(), [_job(name="deploy", steps=["Unit tests"])], None, "test"),
        ("something odd happened", _run(), [_job(name="deploy")], None, "unknown"),
    ],
)
def test_classification(log, run, jobs, flaky, expected):
    cls, reasons = classify(run, jobs, extract_error_lines(log), flaky)
    assert cls == expected and reasons
