"""GitHub (gh) and GitLab (glab) behind one small interface, always through machine-readable output.

Every call goes through ``skill.runner.run_tool`` with a timeout; we never scrape human output.
Field names follow the CLIs' JSON (gh ``RunFields``/``SingleRunFields``, glab pipeline objects).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.errors import ConfigError, InputError, NotFoundError, ToolFailedError, UsageError
from skill.nodes.ci.models import CiJob, PipelineRun, Step
from skill.runner import ToolResult, run_tool

RUN_FIELDS = (
    "name,displayTitle,headBranch,headSha,createdAt,updatedAt,startedAt,attempt,status,conclusion,"
    "event,number,databaseId,workflowName,url"
)


def env_number(name: str, default: float, *, low: float, high: float) -> float:
    """A number from the environment, read when used: a typo is a clear ConfigError, not a crash."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan
        raise ConfigError(f"${name} must be a number from {low:g} to {high:g}, not '{raw}'")
    return value


def call_timeout() -> float:
    """Seconds for one gh/glab call ($DEVOPS_CI_TIMEOUT, default 60); log downloads get twice that."""
    return env_number("DEVOPS_CI_TIMEOUT", 60.0, low=1, high=86400)


_RUN_ID = re.compile(r"^[1-9][0-9]{0,19}$")


def check_run_id(run_id: str | int) -> str:
    """Run and pipeline ids are positive integers; anything else never reaches gh/glab as an argument."""
    text = str(run_id).strip()
    if not _RUN_ID.match(text):
        raise UsageError(f"'{run_id}' is not a run id (a number such as 123456)")
    return text


_AUTH = re.compile(
    r"gh auth login|not logged in|authentication (?:required|failed)|HTTP 401|Bad credentials|"
    r"glab auth login|401 Unauthorized|no token|GH_TOKEN",
    re.I,
)
_NOT_FOUND = re.compile(r"HTTP 404|not found|could not find|404 Not Found", re.I)

# GitLab pipeline/job status -> (normalised status, GitHub-style conclusion)
_GITLAB_STATUS = {
    "running": ("in_progress", None),
    "pending": ("queued", None),
    "created": ("queued", None),
    "waiting_for_resource": ("queued", None),
    "preparing": ("queued", None),
    "scheduled": ("queued", None),
    "manual": ("completed", "action_required"),
    "success": ("completed", "success"),
    "failed": ("completed", "failure"),
    "canceled": ("completed", "cancelled"),
    "canceling": ("in_progress", None),
    "skipped": ("completed", "skipped"),
}
_GITLAB_TIMEOUT_REASONS = {"stuck_or_timeout_failure", "job_execution_timeout"}


@dataclass
class Remote:
    platform: str  # github | gitlab
    url: str
    host: str
    slug: str  # owner/repo or group/subgroup/project


def parse_remote(url: str) -> tuple[str, str]:
    """(host, slug) of a git remote URL in any of the scp, ssh, https forms."""
    url = url.strip()
    m = re.match(r"^(?:[\w.+-]+@)?([\w.-]+):(?!//)(.+?)(?:\.git)?/?$", url)
    if m and "://" not in url:
        return m.group(1).lower(), m.group(2)
    m = re.match(r"^[a-z+]+://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.+?)(?:\.git)?/?$", url)
    if m:
        return m.group(1).lower(), m.group(2)
    raise InputError(f"cannot parse git remote URL '{url}'")


def git(args: list[str], cwd: str | os.PathLike, timeout: float = 30, check: bool = True) -> ToolResult:
    return run_tool(["git", *args], cwd=cwd, timeout=timeout, check=check)


def detect(cwd: str | os.PathLike = ".", remote: str | None = None) -> Remote:
    """GitHub or GitLab, from the remote URL (``$DEVOPS_CI_PLATFORM`` overrides the guess)."""
    if not Path(cwd).is_dir():
        raise InputError(f"{cwd}: not a directory")
    name = remote or "origin"
    res = git(["remote", "get-url", name], cwd, check=False)
    if not res.ok and remote is None:
        remotes = git(["remote"], cwd, check=False).stdout.split()
        if remotes:
            name = remotes[0]
            res = git(["remote", "get-url", name], cwd, check=False)
    if not res.ok:
        raise UsageError(f"no git remote '{name}' in {cwd}: cannot tell which CI to ask")
    url = res.stdout.strip()
    host, slug = parse_remote(url)
    forced = os.environ.get("DEVOPS_CI_PLATFORM", "").lower()
    if forced in ("github", "gitlab"):
        platform = forced
    elif "gitlab" in host:
        platform = "gitlab"
    elif "github" in host:
        platform = "github"
    else:
        raise UsageError(
            f"cannot tell GitHub from GitLab for remote {url}", hint="set DEVOPS_CI_PLATFORM=github or gitlab"
        )
    return Remote(platform, url, host, slug)


def current_branch(cwd: str | os.PathLike) -> str | None:
    res = git(["branch", "--show-current"], cwd, check=False)
    return res.stdout.strip() or None if res.ok else None


class Client:
    tool = ""
    install_hint = ""
    auth_hint = ""

    def __init__(self, remote: Remote, cwd: str | os.PathLike = "."):
        self.remote = remote
        self.cwd = str(cwd)

    def call(self, args: list[str], *, timeout: float | None = None, allow_fail: bool = False) -> ToolResult:
        res = run_tool(
            [self.tool, *args],
            cwd=self.cwd,
            timeout=timeout or call_timeout(),
            install_hint=self.install_hint,
        )
        if res.ok or allow_fail:
            return res
        err = (res.stderr or res.stdout).strip()
        if _AUTH.search(err):
            raise ToolFailedError(f"{self.tool} is not authenticated", hint=self.auth_hint)
        if _NOT_FOUND.search(err):
            raise NotFoundError(f"{self.tool} {' '.join(args[:3])}: {err.splitlines()[-1][:200]}")
        last = err.splitlines()[-1][:300] if err else "no output"
        raise ToolFailedError(f"{self.tool} {' '.join(args[:3])} failed (exit {res.returncode}): {last}")

    def call_json(self, args: list[str], shape: type = dict) -> Any:
        """The command's JSON as ``shape`` (list or dict); null is empty, another shape an error."""
        res = self.call(args)
        what = f"{self.tool} {' '.join(args[:3])}"
        try:
            data = json.loads(res.stdout or "null")
        except json.JSONDecodeError as exc:
            raise ToolFailedError(f"{what} did not return JSON: {exc.msg}") from exc
        if data is None:
            return shape()
        if not isinstance(data, shape):
            raise ToolFailedError(
                f"{what} returned a JSON {type(data).__name__}, expected a {shape.__name__}"
            )
        return [d for d in data if isinstance(d, dict)] if shape is list else data


class GitHub(Client):
    tool = "gh"
    install_hint = "install the GitHub CLI: https://cli.github.com"
    auth_hint = "run `gh auth login` or set GH_TOKEN"

    def _repo(self) -> list[str]:
        return ["-R", self.remote.slug] if self.remote.slug else []

    @staticmethod
    def to_run(d: dict) -> PipelineRun:
        jobs = [
            CiJob(
                id=str(j.get("databaseId", "")),
                name=j.get("name", ""),
                status=j.get("status") or "completed",
                conclusion=j.get("conclusion") or None,
                url=j.get("url"),
                steps=[
                    Step(
                        name=s.get("name", ""),
                        number=s.get("number"),
                        status=s.get("status"),
                        conclusion=s.get("conclusion") or None,
                    )
                    for s in j.get("steps") or []
                ],
            )
            for j in d.get("jobs") or []
            if isinstance(j, dict)
        ]
        status = d.get("status") or "completed"
        norm = status if status in ("queued", "in_progress", "completed") else "queued"
        return PipelineRun(
            platform="github",
            id=str(d.get("databaseId", "")),
            number=d.get("number"),
            name=d.get("workflowName") or d.get("name"),
            title=d.get("displayTitle"),
            branch=d.get("headBranch"),
            sha=d.get("headSha"),
            status=norm,
            raw_status=status,
            conclusion=d.get("conclusion") or None,
            event=d.get("event"),
            attempt=int(d.get("attempt") or 1),
            url=d.get("url"),
            created_at=d.get("createdAt"),
            updated_at=d.get("updatedAt"),
            jobs=jobs,
        )

    def list_runs(
        self, branch: str | None = None, limit: int = 10, commit: str | None = None
    ) -> list[PipelineRun]:
        args = ["run", "list", "--json", RUN_FIELDS, "-L", str(limit), *self._repo()]
        if branch:
            args += ["-b", branch]
        if commit:
            args += ["-c", commit]
        data = self.call_json(args, list)
        return [self.to_run(d) for d in data]

    def view_run(self, run_id: str, attempt: int | None = None) -> PipelineRun:
        args = ["run", "view", check_run_id(run_id), "--json", RUN_FIELDS + ",jobs", *self._repo()]
        if attempt:
            args += ["--attempt", str(attempt)]
        return self.to_run(self.call_json(args))

    def failed_log(self, run: PipelineRun, attempt: int | None = None) -> tuple[str, str]:
        """The failed steps' log and where it came from; falls back to the jobs API when empty."""
        args = ["run", "view", run.id, "--log-failed", *self._repo()]
        if attempt:
            args += ["--attempt", str(attempt)]
        res = self.call(args, allow_fail=True, timeout=call_timeout() * 2)
        if res.ok and res.stdout.strip():
            return res.stdout, "log-failed"
        # gh prints nothing for some failed runs (cli/cli#9153, #10551): ask the jobs' log API.
        chunks = []
        for job in run.jobs:
            if not job.failed or not job.id:
                continue
            out = self.call(
                ["api", f"repos/{self.remote.slug}/actions/jobs/{job.id}/logs"],
                allow_fail=True,
                timeout=call_timeout() * 2,
            )
            if out.ok and out.stdout.strip():
                step = (job.failed_steps() or [Step(name="UNKNOWN STEP")])[0].name
                chunks.extend(f"{job.name}\t{step}\t{line}" for line in out.stdout.splitlines())
        return ("\n".join(chunks), "jobs-api") if chunks else ("", "none")

    def rerun(self, run: PipelineRun, failed_only: bool = True) -> list[str]:
        args = ["run", "rerun", run.id, *self._repo()]
        if failed_only:
            args.append("--failed")
        self.call(args)
        return [run.id]


class GitLab(Client):
    tool = "glab"
    install_hint = "install the GitLab CLI: https://gitlab.com/gitlab-org/cli"
    auth_hint = "run `glab auth login` or set GITLAB_TOKEN"

    def _repo(self) -> list[str]:
        return ["-R", self.remote.slug] if self.remote.slug else []

    @staticmethod
    def to_run(d: dict) -> PipelineRun:
        status, conclusion = _GITLAB_STATUS.get(d.get("status") or "", ("queued", None))
        jobs = []
        for j in d.get("jobs") or []:
            if not isinstance(j, dict):
                continue
            js, jc = _GITLAB_STATUS.get(j.get("status") or "", ("queued", None))
            if jc == "failure" and (j.get("failure_reason") or "") in _GITLAB_TIMEOUT_REASONS:
                jc = "timed_out"
            jobs.append(
                CiJob(
                    id=str(j.get("id", "")),
                    name=j.get("name", ""),
                    status=js,
                    conclusion=jc,
                    stage=j.get("stage"),
                    url=j.get("web_url"),
                    failure_reason=j.get("failure_reason"),
                    allow_failure=bool(j.get("allow_failure")),
                )
            )
        if conclusion == "failure" and jobs and all(j.conclusion == "timed_out" for j in jobs if j.failed):
            conclusion = "timed_out"
        return PipelineRun(
            platform="gitlab",
            id=str(d.get("id", "")),
            number=d.get("iid"),
            name=d.get("name"),
            title=(d.get("name") or None),
            branch=d.get("ref"),
            sha=d.get("sha"),
            status=status,
            raw_status=d.get("status"),
            conclusion=conclusion,
            event=d.get("source"),
            attempt=1,
            url=d.get("web_url"),
            created_at=d.get("created_at"),
            updated_at=d.get("updated_at"),
            jobs=jobs,
        )

    def list_runs(
        self, branch: str | None = None, limit: int = 10, commit: str | None = None
    ) -> list[PipelineRun]:
        per_page = limit if not (branch or commit) else max(limit, 100)
        data = self.call_json(["ci", "list", "-F", "json", "-P", str(per_page), *self._repo()], list)
        runs = [self.to_run(d) for d in data]
        if branch:
            runs = [r for r in runs if r.branch == branch]
        if commit:
            runs = [r for r in runs if r.sha and r.sha.startswith(commit)]
        return runs[:limit]

    def view_run(self, run_id: str, attempt: int | None = None) -> PipelineRun:
        return self.to_run(
            self.call_json(["ci", "get", "-p", check_run_id(run_id), "-F", "json", *self._repo()])
        )

    def failed_log(self, run: PipelineRun, attempt: int | None = None) -> tuple[str, str]:
        chunks = []
        for job in run.jobs:
            if not job.failed:
                continue
            out = self.call(
                ["ci", "trace", job.id, *self._repo()], allow_fail=True, timeout=call_timeout() * 2
            )
            if out.ok:
                chunks.extend(f"{job.name}\t{job.stage or ''}\t{line}" for line in out.stdout.splitlines())
        return ("\n".join(chunks), "trace") if chunks else ("", "none")

    def rerun(self, run: PipelineRun, failed_only: bool = True) -> list[str]:
        # glab retries one job at a time; a pipeline without failed jobs has nothing to retry.
        done = []
        for job in run.jobs:
            if job.failed or not failed_only:
                self.call(["ci", "retry", job.id, *self._repo()])
                done.append(job.id)
        return done


def client(cwd: str | os.PathLike = ".", remote: str | None = None) -> Client:
    r = detect(cwd, remote)
    return GitHub(r, cwd) if r.platform == "github" else GitLab(r, cwd)
