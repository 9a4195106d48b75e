"""GitHub Actions workflow rules (.github/workflows/*.yml)."""

from __future__ import annotations

import bisect
import re
from typing import Any

from skill.redact import find_secrets, redact

from . import expressions
from .context import FileContext
from .pipeline import BUILD_ARTIFACT, Job, check_cache, check_needs, check_order, check_rebuild, image_problem
from .yamlpos import PDict, PList, Pos, pos_of

SHA = re.compile(r"^[0-9a-f]{40}$")
PERMISSION_SCOPES = {
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
    "models", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
}  # fmt: skip
PERMISSION_LEVELS = {"read", "write", "none"}
SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)", re.I
)
CACHING_ACTIONS = (
    "actions/cache",
    "swatinem/rust-cache",
    "gradle/actions/setup-gradle",
    "gradle/gradle-build-action",
    "actions/setup-go",  # caches by default since v4 unless cache: false
)
SETUP_WITH_CACHE = (
    "actions/setup-python",
    "actions/setup-node",
    "actions/setup-java",
    "actions/setup-dotnet",
)
PUBLISH = re.compile(
    r"\b(npm publish|yarn publish|pnpm publish|twine upload|uv publish|poetry publish|cargo publish|gem push|"
    r"docker push|goreleaser|gh release create|mvn (?:-\S+ )*deploy)\b",
    re.I,
)
PUBLISH_ACTIONS = (
    "pypa/gh-action-pypi-publish",
    "softprops/action-gh-release",
    "goreleaser/goreleaser-action",
)
HEAD_CHECKOUT = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|github\.event\.workflow_run\.head_(?:sha|branch)"
    r"|refs/pull/",
)
ECHO = re.compile(r"\b(echo|printf|print|cat\s*<<|tee)\b")
XTRACE = re.compile(r"\bset\s+-[a-wyz]*x|\bset\s+-o\s+xtrace|\bbash\s+-[a-z]*x")
DEPRECATED = re.compile(r"(?:^|[\s\"'])::(set-output|save-state|set-env|add-path)\b", re.M)
OUTPUT_REF = re.compile(r"needs\.([A-Za-z0-9_\-]+)\.outputs")
PRIVILEGED = ("pull_request_target", "workflow_run")
CANCELLABLE = ("push", "pull_request", "pull_request_target", "merge_group")


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _action(uses: str) -> str:
    return uses.split("@", 1)[0].lower()


class GitHubAudit:
    def __init__(self, ctx: FileContext, doc: PDict):
        self.ctx = ctx
        self.doc = doc
        self.triggers: dict[str, Any] = {}
        on = doc.get("on", doc.get("true"))
        on_pos = doc.kpos("on") if "on" in doc else doc.pos
        self.on_pos: Pos = on_pos
        if isinstance(on, str):
            self.triggers = {on: None}
        elif isinstance(on, list):
            self.triggers = {str(t): None for t in on}
        elif isinstance(on, dict):
            self.triggers = dict(on)
        self.string_inputs: set[str] = set()
        for event in ("workflow_dispatch", "workflow_call"):
            spec = self.triggers.get(event)
            inputs = spec.get("inputs") if isinstance(spec, dict) else None
            if isinstance(inputs, dict):
                for name, decl in inputs.items():
                    kind = decl.get("type", "string") if isinstance(decl, dict) else "string"
                    if kind == "string":
                        self.string_inputs.add(name)
        self.jobs_map: PDict = doc.get("jobs") if isinstance(doc.get("jobs"), PDict) else PDict()
        starts = sorted((self.jobs_map.kpos(j)[0], j) for j in self.jobs_map)
        self.job_ranges = [
            (line, starts[i + 1][0] - 1 if i + 1 < len(starts) else 10**9, j)
            for i, (line, j) in enumerate(starts)
        ]
        self.job_range = {j: (start, end) for start, end, j in self.job_ranges}  # O(1) per job
        self._job_starts = [start for start, _, _ in self.job_ranges]
        self.secret_env: set[str] = set()
        self.tainted_env: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def job_at(self, line: int) -> tuple[str | None, int | None]:
        i = bisect.bisect_right(self._job_starts, line) - 1  # line scans call this for every line
        if i < 0:
            return None, None
        start, end, jid = self.job_ranges[i]
        return (jid, start) if line <= end else (None, None)

    def add(self, rule: str, message: str, pos: Pos | None, job: str | None = None, **kw: Any) -> None:
        job_line = self.jobs_map.kpos(job)[0] if job and job in self.jobs_map else None
        self.ctx.add(rule, message, pos, job=job, job_line=job_line, **kw)

    @property
    def publishing(self) -> bool:
        if "release" in self.triggers:
            return True
        push = self.triggers.get("push")
        if isinstance(push, dict) and "tags" in push and "branches" not in push:
            return True
        text = self.ctx.text
        return (
            bool(PUBLISH.search(text))
            or any(a in text.lower() for a in PUBLISH_ACTIONS)
            or bool(re.search(r"docker/build-push-action[\s\S]{0,400}?push:\s*true", text))
        )

    # ------------------------------------------------------------------ rules
    def run(self) -> None:
        doc = self.doc
        self.check_env(doc.get("env"), doc, "env", None)
        top_perms = doc.get("permissions", None)
        if "permissions" in doc:
            self.check_permissions(top_perms, doc.vpos("permissions"), None, None)
        else:
            jobs_without = [
                j
                for j, spec in self.jobs_map.items()
                if not (isinstance(spec, dict) and "permissions" in spec)
            ]
            if jobs_without:
                self.add(
                    "ci.excessive-permissions",
                    "no permissions: block; job(s) "
                    + ", ".join(jobs_without[:5])
                    + " run with the repository's default token scope (possibly write-all)",
                    self.on_pos,
                )
        self.check_triggers()
        self.check_concurrency()
        publishing = self.publishing
        jobs: dict[str, Job] = {}
        matrix_envs: dict[str, Pos] = {}
        for jid, spec in self.jobs_map.items():
            if not isinstance(spec, PDict):
                continue
            workflow_env = set(self.secret_env), set(self.tainted_env)
            job = self.check_job(jid, spec, top_perms, publishing)
            self.secret_env, self.tainted_env = workflow_env  # a job's env does not reach the next job
            jobs[jid] = job
            matrix = (
                spec.get("strategy", {}).get("matrix") if isinstance(spec.get("strategy"), dict) else None
            )
            if (
                isinstance(matrix, dict)
                and job.builds
                and job.environment
                and "matrix." in job.environment
                and any(k.lower() in ("environment", "env", "stage", "target", "deploy_env") for k in matrix)
            ):
                matrix_envs[jid] = spec.kpos("strategy")
        if check_needs(self.ctx, jobs):
            check_order(self.ctx, jobs)
        check_rebuild(self.ctx, jobs, matrix_envs)
        if not publishing:
            check_cache(self.ctx, jobs)
        self.line_scans()

    def check_triggers(self) -> None:
        for event in PRIVILEGED:
            if event in self.triggers:
                pos = self.doc.get("on").kpos(event) if isinstance(self.doc.get("on"), PDict) else self.on_pos
                self.add(
                    "ci.pull-request-target",
                    f"{event} runs with secrets and a write token for untrusted contributors: "
                    "keep untrusted code out of it",
                    pos,
                    severity="low",
                )

    def check_concurrency(self) -> None:
        if not any(t in self.triggers for t in CANCELLABLE):
            return
        conc = self.doc.get("concurrency")
        if conc is None:
            jobs = [s for s in self.jobs_map.values() if isinstance(s, dict)]
            if jobs and all("concurrency" in s for s in jobs):
                return
            self.add("ci.no-concurrency", "no concurrency: group; superseded runs keep running", self.on_pos)
            return
        cancel = conc.get("cancel-in-progress") if isinstance(conc, dict) else None
        prs = any(t in self.triggers for t in ("pull_request", "pull_request_target"))
        if prs and (cancel is None or _falsy(cancel)):
            self.add(
                "ci.no-concurrency",
                "concurrency without cancel-in-progress: superseded pull-request runs are not cancelled",
                self.doc.kpos("concurrency"),
            )

    def check_permissions(self, perms: Any, pos: Pos, job: str | None, top: Any) -> None:
        where = f"job '{job}'" if job else "workflow"
        if isinstance(perms, str):
            if perms == "write-all":
                self.add("ci.excessive-permissions", f"{where} grants write-all", pos, job, severity="high")
            elif perms == "read-all":
                self.add("ci.excessive-permissions", f"{where} grants read-all", pos, job, severity="low")
            else:
                self.add("ci.invalid-permissions", f"{where}: unknown permissions value '{perms}'", pos, job)
            return
        if perms is None or (isinstance(perms, dict) and not perms):
            return
        if not isinstance(perms, PDict):
            self.add(
                "ci.invalid-permissions",
                f"{where}: permissions must be a mapping or read-all/write-all",
                pos,
                job,
            )
            return
        top_scopes = top if isinstance(top, dict) else {}
        for scope, level in perms.items():
            kpos = perms.kpos(scope)
            if scope not in PERMISSION_SCOPES:
                self.add("ci.invalid-permissions", f"{where}: unknown permission scope '{scope}'", kpos, job)
                continue
            valid = (
                {"write", "none"}
                if scope == "id-token"
                else ({"read", "none"} if scope == "models" else PERMISSION_LEVELS)
            )
            if level not in valid:
                self.add(
                    "ci.invalid-permissions",
                    f"{where}: '{scope}: {level}' is not valid (use {', '.join(sorted(valid))})",
                    perms.vpos(scope),
                    job,
                )
                continue
            if level == "write" and job is None:
                self.add(
                    "ci.excessive-permissions",
                    f"workflow-level '{scope}: write' applies to every job: grant it only to the job that needs it",
                    kpos,
                )
            elif (
                level == "write"
                and job is not None
                and top is not None
                and top_scopes.get(scope) != "write"
                and top != "write-all"
            ):
                self.add(
                    "ci.excessive-permissions",
                    f"job '{job}' broadens '{scope}' to write",
                    kpos,
                    job,
                    severity="low",
                )

    def check_env(self, env: Any, parent: PDict, key: str, job: str | None, *, service: bool = False) -> None:
        if not isinstance(env, PDict):
            return
        for name, value in env.items():
            if name == "ACTIONS_ALLOW_UNSECURE_COMMANDS" and _truthy(value):
                self.add(
                    "ci.insecure-commands",
                    "ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables ::set-env and ::add-path",
                    env.kpos(name),
                    job,
                )
            if isinstance(value, str) and "${{" in value and expressions.taints(value, self.string_inputs):
                self.tainted_env.add(name)
            if isinstance(value, str) and "secrets." in value:
                self.secret_env.add(name)
            elif (
                SECRET_NAME.search(name)
                and isinstance(value, str)
                and value.strip()
                and "${{" not in value
                and not value.startswith("$")
            ):
                self.add(
                    "ci.hardcoded-credentials",
                    f"{name} is set to a literal value" + (" in a service/container" if service else ""),
                    env.vpos(name),
                    job,
                    severity="low" if service else "medium",
                )

    def check_uses(self, uses: str, pos: Pos, job: str | None, reusable: bool = False) -> None:
        uses = uses.strip()
        if uses.startswith("./"):
            return
        if uses.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", uses):
                self.add("ci.unpinned-action", f"{uses} is not pinned to an image digest", pos, job)
            return
        name, _, ref = uses.partition("@")
        owner = name.split("/", 1)[0].lower()
        kind = "reusable workflow" if reusable else "action"
        if not ref:
            self.add("ci.unpinned-action", f"{kind} {name} has no ref at all", pos, job)
        elif not SHA.match(ref):
            self.add(
                "ci.unpinned-action",
                f"{kind} {uses} uses the mutable ref '{ref}', not a full commit SHA",
                pos,
                job,
                severity="medium" if owner in ("actions", "github") else "high",
            )

    def check_job(self, jid: str, spec: PDict, top_perms: Any, publishing: bool) -> Job:
        job = Job(id=jid, pos=self.jobs_map.kpos(jid), name=str(spec.get("name") or ""))
        needs = spec.get("needs")
        job.needs = (
            [needs] if isinstance(needs, str) else [str(n) for n in needs] if isinstance(needs, list) else []
        )
        job.needs_pos = spec.vpos("needs") if "needs" in spec else None
        env = spec.get("environment")
        job.environment = (
            str(env.get("name")) if isinstance(env, dict) and env.get("name") else (str(env) if env else None)
        )
        start, end = self.job_range.get(jid, (0, 0))
        body = "\n".join(self.ctx.lines[start - 1 : min(end, len(self.ctx.lines))])
        job.uses_outputs_of = set(OUTPUT_REF.findall(body))

        if "permissions" in spec:
            self.check_permissions(spec["permissions"], spec.vpos("permissions"), jid, top_perms)
        self.check_env(spec.get("env"), spec, "env", jid)

        reusable = spec.get("uses")
        if isinstance(reusable, str):
            job.uses.append(reusable)
            self.check_uses(reusable, spec.vpos("uses"), jid, reusable=True)
            if spec.get("secrets") == "inherit":
                self.add(
                    "ci.secrets-inherit",
                    f"job '{jid}' passes every secret to {reusable}",
                    spec.vpos("secrets"),
                    jid,
                )
            return job

        if "timeout-minutes" not in spec:
            self.add("ci.no-timeout", f"job '{jid}' has no timeout-minutes (default 360)", job.pos, jid)
        self.check_containers(spec, jid)

        steps = spec.get("steps") if isinstance(spec.get("steps"), PList) else PList()
        uploads = any(
            isinstance(s, dict) and _action(str(s.get("uses", ""))) == "actions/upload-artifact"
            for s in steps
        )
        for step in steps:
            if not isinstance(step, PDict):
                continue
            job_env = set(self.secret_env), set(self.tainted_env)
            self.check_step(step, jid, job, publishing, uploads)
            self.secret_env, self.tainted_env = job_env  # a step's env stays with that step
        return job

    def check_step(self, step: PDict, jid: str | None, job: Job, publishing: bool, uploads: bool) -> None:
        self.check_env(step.get("env"), step, "env", jid)
        uses = step.get("uses")
        with_ = step.get("with") if isinstance(step.get("with"), PDict) else PDict()
        if isinstance(uses, str):
            job.uses.append(uses)
            self.check_uses(uses, step.vpos("uses"), jid)
            action = _action(uses)
            if action == "actions/checkout":
                self.check_checkout(step, with_, jid, uploads)
            if action.startswith(CACHING_ACTIONS) and not (
                action == "actions/setup-go" and _falsy(with_.get("cache"))
            ):
                job.cached = True
                if publishing:
                    self.add(
                        "ci.cache-poisoning",
                        f"{action} restores a cache in a publishing workflow",
                        step.vpos("uses"),
                        jid,
                    )
            cache_input = (
                with_.get("cache")
                or with_.get("enable-cache")
                or with_.get("bundler-cache")
                or with_.get("cache-from")
            )
            if cache_input and not _falsy(cache_input) and action not in CACHING_ACTIONS:
                job.cached = True
                if publishing:
                    self.add(
                        "ci.cache-poisoning",
                        f"{action} restores a cache ({cache_input}) in a publishing workflow",
                        with_.kpos("cache") if "cache" in with_ else step.vpos("uses"),
                        jid,
                    )
            if action == "actions/download-artifact":
                job.artifacts_in = True
            if action == "docker/build-push-action":
                job.builds = True
            if action == "actions/github-script" and isinstance(with_.get("script"), str):
                self.check_script(with_["script"], with_.vpos("script"), jid, "script")
        run = step.get("run")
        if isinstance(run, str):
            pos = step.vpos("run")
            job.scripts.append((run, pos))
            if BUILD_ARTIFACT.search(run):
                job.builds = True
            self.check_script(run, pos, jid, "run")
            self.check_run(run, pos, jid, step)

    def check_containers(self, spec: PDict, jid: str) -> None:
        containers: list[tuple[Any, Pos, bool]] = []
        if "container" in spec:
            containers.append((spec["container"], spec.vpos("container"), False))
        services = spec.get("services")
        if isinstance(services, PDict):
            for name, svc in services.items():
                containers.append((svc, services.vpos(name), True))
        for item, pos, _service in containers:
            image = item.get("image") if isinstance(item, dict) else item
            ipos = item.vpos("image") if isinstance(item, PDict) and "image" in item else pos
            if isinstance(image, str):
                why = image_problem(image)
                if why:
                    self.add("ci.mutable-image", why, ipos, jid)
            if isinstance(item, PDict):
                creds = item.get("credentials")
                if isinstance(creds, PDict):
                    pw = creds.get("password")
                    if isinstance(pw, str) and "${{" not in pw:
                        self.add(
                            "ci.hardcoded-credentials",
                            "registry password written in clear in credentials:",
                            creds.vpos("password"),
                            jid,
                        )
                self.check_env(item.get("env"), item, "env", jid, service=True)

    def check_checkout(self, step: PDict, with_: PDict, jid: str | None, uploads: bool) -> None:
        if not _falsy(with_.get("persist-credentials")):
            self.add(
                "ci.persist-credentials",
                "actions/checkout persists the token in .git/config"
                + (" and this job uploads artifacts" if uploads else ""),
                step.vpos("uses"),
                jid,
                severity="medium" if uploads else "low",
            )
        ref = with_.get("ref")
        if isinstance(ref, str) and HEAD_CHECKOUT.search(ref) and any(t in self.triggers for t in PRIVILEGED):
            self.add(
                "ci.pull-request-target",
                f"checks out the untrusted head ({ref.strip()}) in a privileged "
                f"{'/'.join(t for t in PRIVILEGED if t in self.triggers)} workflow",
                with_.vpos("ref"),
                jid,
            )

    def check_script(self, text: str, pos: Pos, jid: str | None, where: str) -> None:
        cursor = pos
        for taint in expressions.taints(text, self.string_inputs, self.tainted_env):
            at = self.ctx.find_text(taint.expression, cursor)
            cursor = (at[0], at[1] + 1)
            self.add(
                "ci.template-injection",
                f"{taint.context} is expanded into {where}: (attacker-controllable"
                + (", it holds an event field)" if taint.kind == "env" else ")"),
                at,
                jid,
                severity="medium" if taint.kind == "input" else "high",
            )

    def check_run(self, run: str, pos: Pos, jid: str | None, step: PDict) -> None:
        for m in DEPRECATED.finditer(run):
            self.add(
                "ci.deprecated-commands",
                f"::{m.group(1)} is deprecated/disabled",
                self.ctx.find_text(m.group(0), pos),
                jid,
            )
        if re.search(r"ACTIONS_ALLOW_UNSECURE_COMMANDS\s*=\s*true", run, re.I):
            self.add(
                "ci.insecure-commands",
                "run: enables ACTIONS_ALLOW_UNSECURE_COMMANDS",
                self.ctx.find_text("ACTIONS_ALLOW_UNSECURE_COMMANDS", pos),
                jid,
            )
        if HEAD_CHECKOUT.search(run) and re.search(
            r"\b(gh pr checkout|git (?:checkout|fetch|switch))\b", run
        ):
            if any(t in self.triggers for t in PRIVILEGED):
                self.add(
                    "ci.pull-request-target",
                    "run: checks out the untrusted PR head in a privileged workflow",
                    pos,
                    jid,
                )
        secret_vars = set(self.secret_env)
        if isinstance(step.get("env"), dict):
            secret_vars |= {k for k, v in step["env"].items() if isinstance(v, str) and "secrets." in v}
        uses_secret = "secrets." in run or any(re.search(rf"\${{?{re.escape(v)}\b", run) for v in secret_vars)
        for line in run.splitlines():
            if not ECHO.search(line):
                continue
            leaked = "secrets." in line and "${{" in line
            var = next((v for v in secret_vars if re.search(rf"\${{?{re.escape(v)}\b", line)), None)
            if leaked or var:
                what = "a secret" if leaked else f"${var} (from a secret)"
                self.add(
                    "ci.secret-exposure",
                    f"prints {what}: {redact(line.strip())[:80]}",
                    self.ctx.find_text(line.strip(), pos),
                    jid,
                )
                break
        if uses_secret and XTRACE.search(run):
            self.add(
                "ci.secret-exposure",
                "set -x traces command lines that carry secrets",
                self.ctx.find_text(XTRACE.search(run).group(0), pos),
                jid,
                severity="medium",
            )

    def line_scans(self) -> None:
        scan_json = "JSON(" in self.ctx.text or "json(" in self.ctx.text.lower()
        scan_literals = has_secret_literals(self.ctx.text)
        if not (scan_json or scan_literals):
            return
        for number, line in enumerate(self.ctx.lines, start=1):
            jid, _ = self.job_at(number)
            if scan_json and "json(" in line.lower():
                for pattern, label, sev in (
                    (r"toJSON\(\s*secrets\s*\)", "toJSON(secrets) dumps every secret", "high"),
                    (
                        r"fromJSON\(\s*secrets\.",
                        "fromJSON(secrets.x): values derived from a secret are not masked",
                        "medium",
                    ),
                ):
                    m = re.search(pattern, line, re.I)
                    if m:
                        self.add("ci.secret-exposure", label, (number, m.start() + 1), jid, severity=sev)
            if scan_literals:
                scan_secret_literals(self.ctx, number, line, jid, self.add)


_LITERAL_KINDS_IGNORED = ("secret-pair", "bearer")


def has_secret_literals(text: str) -> bool:
    """One pass over the whole file first: most files have no token-shaped literal at all."""
    return any(k not in _LITERAL_KINDS_IGNORED for k in find_secrets(text))


def scan_secret_literals(ctx: FileContext, number: int, line: str, jid: str | None, add: Any) -> None:
    """Token-shaped literals (AWS keys, GitHub/GitLab tokens, private keys ...) anywhere in the file."""
    if "${{" in line and not re.search(r"[A-Za-z0-9_\-]{20,}", line):
        return
    kinds = [k for k in find_secrets(line) if k not in _LITERAL_KINDS_IGNORED]
    for kind in kinds:
        if kind == "url-password" and ("${" in line or "$(" in line):
            continue
        add(
            "ci.hardcoded-credentials",
            f"a {kind} is written in clear",
            (number, len(line) - len(line.lstrip()) + 1),
            jid,
            severity="medium" if kind == "url-password" else "high",
        )
        break


class _EveryName(frozenset):
    def __contains__(self, name: object) -> bool:
        return True


class ActionAudit(GitHubAudit):
    """An action's own metadata file (action.yml): composite steps and docker images.

    Every input of an action is free text, so ``${{ inputs.x }}`` in a composite ``run:`` is an
    injection just as a dispatch input is in a workflow. Job-level rules (permissions, timeouts,
    concurrency, needs) do not apply: the calling workflow owns those.
    """

    def __init__(self, ctx: FileContext, doc: PDict):
        super().__init__(ctx, PDict())
        self.doc = doc
        self.string_inputs = _EveryName()  # declared or not, an action's inputs are strings

    def run(self) -> None:
        runs = self.doc.get("runs")
        using = str(runs.get("using", "")).lower() if isinstance(runs, PDict) else ""
        if using == "composite":
            steps = runs.get("steps") if isinstance(runs.get("steps"), PList) else PList()
            job = Job(id="action", pos=self.doc.kpos("runs"))
            for step in steps:
                if isinstance(step, PDict):
                    self.check_step(step, None, job, publishing=False, uploads=False)
        elif using == "docker":
            image = runs.get("image")
            if isinstance(image, str) and image.startswith("docker://"):
                self.check_uses(image, runs.vpos("image"), None)
        self.line_scans()


def audit_action(ctx: FileContext, doc: Any) -> None:
    if not isinstance(doc, PDict) or not isinstance(doc.get("runs"), PDict):
        ctx.add("ci.parse-error", "not a GitHub action metadata file (no runs: mapping)", pos_of(doc))
        return
    ActionAudit(ctx, doc).run()


def audit_github(ctx: FileContext, doc: Any) -> None:
    if not isinstance(doc, PDict) or not isinstance(doc.get("jobs"), PDict):
        ctx.add("ci.parse-error", "not a GitHub Actions workflow (no jobs: mapping)", pos_of(doc))
        return
    GitHubAudit(ctx, doc).run()
