"""Failed-run triage: which jobs and steps failed, the lines that say why, what kind of failure it
is, whether we have seen it before, and what to do next. The outcome is remembered as ``ci_failure``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, Field

from skill.errors import NotFoundError, UsageError
from skill.nodes.ci.logs import extract_error_lines
from skill.nodes.ci.models import CiJob, CiTriage, ErrorLine, PipelineRun, SimilarFailure
from skill.nodes.ci.platforms import Client, client, current_branch, env_number

GITLAB_INFRA_REASONS = {
    "runner_system_failure", "api_failure", "scheduler_failure", "runner_unsupported", "data_integrity_failure",
    "stale_schedule", "archived_failure", "unmet_prerequisites", "missing_dependency_failure",
    "environment_creation_failure", "job_router_failure",
}  # fmt: skip
_NAME_HINTS = [
    ("lint", ("lint", "format", "fmt", "style", "ruff", "eslint", "flake8", "vet", "typecheck", "mypy")),
    ("test", ("test", "pytest", "jest", "spec", "e2e", "integration")),
    ("build", ("build", "compile", "install", "package", "docker", "image", "setup")),
]

NEXT_STEPS = {
    "flaky": "The same commit passed on a rerun: this is a flaky failure. Quarantine or fix the test now "
    "(ignoring flaky tests erodes CI trust); do not just rerun until green.",
    "timeout": "The job hit its time limit: find the step that hung (look at its last lines), fix the hang or "
    "the slow test, and keep a tight timeout-minutes; rerun once only if it was a stuck runner.",
    "infrastructure": "Not caused by the code: rerun the failed jobs (`devops ci rerun {run} --failed`). If it "
    "repeats, check runner memory/disk, the registry or the network the job depends on.",
    "test": "A test failed: reproduce it locally ({first}) and fix the code or the test before rerunning.",
    "lint": "Lint/format check failed: run the linter locally with its fixer ({first}), commit the result.",
    "build": "The build failed: fix the compile or dependency error ({first}); a rerun will not help.",
    "unknown": "No known error pattern in the failed log: open the failed job ({url}) and read its last lines.",
}


def classify(
    run: PipelineRun, jobs: Iterable[CiJob], lines: list[ErrorLine], flaky_attempt: int | None = None
) -> tuple[str, list[str]]:
    """One of test | lint | build | infrastructure | timeout | flaky | unknown, with the evidence."""
    jobs = list(jobs)
    if flaky_attempt:
        return "flaky", [
            f"attempt {flaky_attempt} failed and attempt {run.attempt} of the same commit passed"
        ]
    if run.conclusion == "timed_out" or any(j.conclusion == "timed_out" for j in jobs):
        return "timeout", ["the run or a job concluded timed_out"]
    if run.conclusion == "startup_failure":
        return "infrastructure", ["the run failed to start (startup_failure)"]
    reasons = {j.failure_reason for j in jobs if j.failure_reason}
    if reasons & GITLAB_INFRA_REASONS:
        return "infrastructure", [
            f"GitLab failure_reason: {', '.join(sorted(reasons & GITLAB_INFRA_REASONS))}"
        ]
    kinds = Counter(e.kind for e in lines)
    for kind, label, evidence in (
        ("oom", "infrastructure", "the process ran out of memory or was killed"),
        ("infrastructure", "infrastructure", "runner or registry problem in the log"),
        ("test", "test", "test failures in the log"),
        ("lint", "lint", "lint/format errors in the log"),
        ("compile", "build", "compiler or dependency errors in the log"),
        ("timeout", "timeout", "timeout messages in the log"),
        ("network", "infrastructure", "network errors in the log"),
    ):
        if kinds.get(kind):
            return label, [f"{evidence} ({kinds[kind]} line{'s' if kinds[kind] > 1 else ''})"]
    names = " ".join([j.name for j in jobs] + [s.name for j in jobs for s in j.failed_steps()]).lower()
    for label, words in _NAME_HINTS:
        if any(w in names for w in words):
            return label, [f"no known error line; the failed job/step name suggests {label}"]
    return "unknown", ["no known error line in the failed log"]


_HEADLINES = [
    re.compile(r"^(?:FAILED|ERROR) \S+::"),  # pytest short summary: the test id
    re.compile(r"^--- FAIL: "),  # go test
    re.compile(r"^\s*●\s|^FAIL\s+\S+\.[jt]sx?"),  # jest
    re.compile(r"<<< FAILURE!|Tests run: .*Failures: [1-9]"),  # junit / surefire
    re.compile(r"^\s*\d+\) "),  # mocha / playwright numbered failures
]


def _headline(lines: list[ErrorLine]) -> str:
    """The one line a human should read first: a failing test id, else the first specific error."""
    for rx in _HEADLINES:
        hit = next((e.text for e in lines if rx.search(e.text)), None)
        if hit:
            return hit
    specific = next(
        (e.text for e in lines if e.kind in ("test", "lint", "compile", "oom", "timeout", "network")), None
    )
    return specific or (lines[0].text if lines else "see the failed step")


def next_step(classification: str, run: PipelineRun, jobs: list[CiJob], lines: list[ErrorLine]) -> str:
    first = _headline(lines)
    url = next((j.url for j in jobs if j.url), None) or run.url or run.id
    return NEXT_STEPS[classification].format(run=run.id, first=first[:160], url=url)


def _service(c: Client) -> str:
    return c.remote.slug.rsplit("/", 1)[-1]


def _summary(t: CiTriage) -> str:
    run = t.run
    jobs = ", ".join(
        f"{j.name}" + (f" ({', '.join(s.name for s in j.failed_steps())})" if j.failed_steps() else "")
        for j in t.failed_jobs
    )
    lines = "; ".join(e.text for e in t.error_lines[:3])
    return (
        f"CI failure ({t.classification}) in {run.name or 'pipeline'} {run.platform} run {run.id}"
        f" on {run.branch or '?'} @ {(run.sha or '')[:10]}: jobs {jobs or 'n/a'}. {lines}"
    ).strip()


def _pick_run(c: Client, cwd: str | os.PathLike) -> PipelineRun:
    branch = current_branch(cwd)
    runs = c.list_runs(branch=branch, limit=20)
    for r in runs:
        if (r.finished and not r.succeeded) or (r.succeeded and r.attempt > 1):
            return r
    raise NotFoundError(f"no failed run on {branch or 'the current branch'} in the last {len(runs)} runs")


def triage_run(
    run_id: str | None = None,
    cwd: str | os.PathLike = ".",
    remember: bool = True,
    ci: Client | None = None,
    use_memory: bool = True,
) -> CiTriage:
    """Triage a failed (or flaky) run; the latest one on the current branch when ``run_id`` is None.

    ``remember`` writes the outcome to memory as ``ci_failure``; ``use_memory=False`` skips memory
    altogether (no recall either).
    """
    c = ci or client(cwd)
    rid = run_id or _pick_run(c, cwd).id
    run = c.view_run(rid)
    source, flaky_attempt = run, None
    if run.finished and run.succeeded:
        for attempt in range(run.attempt - 1, 0, -1):  # a passing rerun of a failed attempt is flakiness
            prev = c.view_run(rid, attempt=attempt)
            if prev.failed:
                source, flaky_attempt = prev, attempt
                break
        else:
            raise UsageError(f"run {rid} succeeded: nothing to triage")
    failed = [j for j in source.jobs if j.failed]
    if not run.finished and not failed:
        raise UsageError(
            f"run {rid} is still {run.raw_status or run.status} with no failed job yet (try `devops ci watch {rid}`)"
        )
    log, log_source = c.failed_log(source, attempt=flaky_attempt)
    lines = extract_error_lines(log)
    cls, reasons = classify(run, failed, lines, flaky_attempt)
    t = CiTriage(
        run=run,
        failed_jobs=failed,
        error_lines=lines,
        classification=cls,
        reasons=reasons,
        log_source=log_source,
        failed_attempt=flaky_attempt,
    )
    if log_source == "none" and failed:
        t.notices.append(
            "no failed-step log could be fetched (gh --log-failed and the jobs API were both empty)"
        )
    t.next_step = next_step(cls, run, failed, lines)
    if use_memory:
        _with_memory(t, c, remember)
    return t


# Recall always returns the nearest memories; only close ones are "seen before". Measured on the
# recorded fixtures: the same failing test in another run scores cosine ~0.78, unrelated CI
# failures of the same repository 0.2-0.46.
def similar_min() -> float:
    return env_number("DEVOPS_CI_SIMILAR_MIN", 0.6, low=-1.0, high=1.0)


def _relevance(hit) -> float:
    parts = getattr(hit, "parts", None) or {}
    cosine = parts.get("cosine") if isinstance(parts, dict) else None
    return float(cosine) if cosine is not None else float(getattr(hit, "score", 0.0) or 0.0)


def _with_memory(t: CiTriage, c: Client, remember: bool) -> None:
    """Similar past failures and the write-back; memory problems degrade to a notice."""
    floor = similar_min()  # a bad setting is the user's to fix: an error, not a silent notice
    try:
        from skill.memory import Memory

        mem = Memory.open()
    except Exception as exc:  # noqa: BLE001 - triage works without memory
        t.notices.append(
            f"memory unavailable ({type(exc).__name__}: {str(exc)[:120]}); triage done without it"
        )
        return
    own_id = f"ci-{t.run.platform}-{c.remote.slug.replace('/', '-')}-{t.run.id}-{t.failed_attempt or t.run.attempt}"
    try:
        query = " ".join(
            [t.classification, *(j.name for j in t.failed_jobs), *(e.text for e in t.error_lines[:5])]
        )
        hits = mem.recall(query, kind="ci_failure", limit=5)
        for hit in hits:
            record = getattr(hit, "memory", hit)
            hid = str(getattr(record, "id", ""))
            if hid == own_id or _relevance(hit) < floor:
                continue
            created = getattr(record, "created_at", None) or getattr(record, "created", None)
            t.similar.append(
                SimilarFailure(
                    id=hid,
                    text=str(getattr(record, "text", ""))[:300],
                    score=getattr(hit, "score", None),
                    created=str(created) if created else None,
                )
            )
        t.similar = t.similar[:3]
        if t.similar:
            t.next_step += f" Seen before: {t.similar[0].text[:160]}"
        if remember:
            res = mem.remember(
                _summary(t),
                kind="ci_failure",
                service=_service(c),
                tags=(t.classification, t.run.platform),
                importance=0.6 if t.classification in ("flaky", "infrastructure") else 0.5,
                source="ci",
                metadata={
                    "run_id": t.run.id,
                    "url": t.run.url,
                    "branch": t.run.branch,
                    "sha": t.run.sha,
                    "workflow": t.run.name,
                    "classification": t.classification,
                    "jobs": [j.name for j in t.failed_jobs],
                },
                id=own_id,
            )
            t.remembered_id = str(getattr(res, "id", own_id))
    except Exception as exc:  # noqa: BLE001
        t.notices.append(f"memory error ({type(exc).__name__}: {str(exc)[:120]}); triage done without it")
    finally:
        try:
            mem.close()
        except Exception:  # noqa: BLE001
            pass


class EventTriage(BaseModel):
    """Triage of a CI failure from a webhook event alone (no gh/glab access to the logs)."""

    lines: list[str]
    similar: list[str] = Field(default_factory=list)
    memory_ids: list[str] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)


def triage_event(event: dict, memory=None) -> EventTriage:
    """What the event itself says (title, failed jobs and their reasons), similar past failures,
    and the failure remembered for next time. Memory is best effort: a failure is a notice."""
    failed_jobs = (event.get("data") or {}).get("failed_jobs") or []
    text = f"CI failure: {event.get('title')}" + (
        f" — {event.get('summary')}" if event.get("summary") else ""
    )
    out = EventTriage(lines=[text])
    out.lines += [
        f"  failed job {j.get('name')} ({j.get('stage')}): {j.get('failure_reason')}" for j in failed_jobs
    ]
    try:
        from skill.memory import Memory

        mem = memory or Memory.open()
        try:
            hits = mem.recall(text, kind="ci_failure", service=event.get("service"), limit=3)
            out.similar = [h.memory.text for h in hits]
            res = mem.remember(
                text,
                kind="ci_failure",
                service=event.get("service"),
                tags=("ci", event.get("source") or "event"),
                source="agent",
                metadata={
                    "url": event.get("url"),
                    "commit": event.get("commit"),
                    "branch": event.get("branch"),
                },
            )
            out.memory_ids.append(res.id)
        finally:
            if memory is None:
                mem.close()
    except Exception as exc:  # noqa: BLE001 - memory is best effort in triage
        out.notices.append(f"memory unavailable: {type(exc).__name__}: {exc}")
    if out.similar:
        out.lines.append("  seen before:")
        out.lines += [f"    - {s[:160]}" for s in out.similar]
    out.lines.append(
        f"  next: open {event.get('url') or 'the run'} and read the first error of the failed job"
    )
    return out
