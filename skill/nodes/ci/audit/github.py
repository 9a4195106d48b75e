"""GitHub Actions workflow rules (.github/workflows/*.yml)."""

from __future__ import annotations

import bisect
import re
from typing import Any

from skill.nodes.ci.audit import conditions, expressions, privilege, shell
from skill.nodes.ci.audit.actions import (
    CODE_INPUTS,
    UNTRUSTED_OUTPUTS,
    action_name,
    archived,
    cache_use,
    compromised,
    falsy,
    publish_command,
    publish_step,
    truthy,
)
from skill.nodes.ci.audit.context import FileContext
from skill.nodes.ci.audit.expressions import Sources
from skill.nodes.ci.audit.pipeline import (
    BUILD_ARTIFACT,
    Job,
    check_cache,
    check_needs,
    check_order,
    check_rebuild,
    image_problem,
)
from skill.nodes.ci.audit.yamlpos import PDict, PList, Pos, pos_of
from skill.redact import find_secrets, redact

SHA = re.compile(r"^[0-9a-f]{40}$")
PERMISSION_SCOPES = {
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
    "models", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
}  # fmt: skip
PERMISSION_LEVELS = {"read", "write", "none"}
SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)", re.I
)
XTRACE = re.compile(r"\bset\s+-[a-wyz]*x|\bset\s+-o\s+xtrace|\bbash\s+-[a-z]*x")
DEPRECATED = re.compile(r"(?:^|[\s\"'])::(set-output|save-state|set-env|add-path)\b", re.M)
OUTPUT_REF = re.compile(r"needs\.([A-Za-z0-9_\-]+)\.outputs")
CANCELLABLE = ("push", "pull_request", "pull_request_target", "merge_group")
# Runner variables that carry attacker-controlled text, as if mapped in env:.
RUNNER_ENV_LOWER = {"github_head_ref": "github.head_ref"}


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
                        self.string_inputs.add(name.lower())
        self.jobs_map: PDict = doc.get("jobs") if isinstance(doc.get("jobs"), PDict) else PDict()
        starts = sorted((self.jobs_map.kpos(j)[0], j) for j in self.jobs_map)
        self.job_ranges = [
            (line, starts[i + 1][0] - 1 if i + 1 < len(starts) else 10**9, j)
            for i, (line, j) in enumerate(starts)
        ]
        self.job_range = {j: (start, end) for start, end, j in self.job_ranges}  # O(1) per job
        self._job_starts = [start for start, _, _ in self.job_ranges]
        self.secret_env: set[str] = set()
        # What carries attacker-controlled text at the current point of the walk (env, step outputs ...).
        self.sources = Sources(string_inputs=self.string_inputs, env=dict(RUNNER_ENV_LOWER))
        self.job_outputs: dict[str, str] = {}  # "needs.<job>.outputs.<name>" -> origin
        self.privilege: str | None = None  # why the current job is privileged

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
    def release_trigger(self) -> bool:
        """Started by a release or a tag push: everything such a run builds is meant to be shipped."""
        if "release" in self.triggers:
            return True
        push = self.triggers.get("push")
        return isinstance(push, dict) and "tags" in push and "branches" not in push

    def job_order(self) -> list[str]:
        """Jobs with the jobs they need first, so job outputs are traced before their readers."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(jid: str, stack: tuple[str, ...]) -> None:
            if jid in seen or jid in stack or jid not in self.jobs_map:
                return
            spec = self.jobs_map[jid]
            needs = spec.get("needs") if isinstance(spec, dict) else None
            for dep in [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []:
                visit(str(dep), (*stack, jid))
            seen.add(jid)
            order.append(jid)

        for jid in self.jobs_map:
            visit(jid, ())
        return order

    def value_origin(self, text: str) -> str | None:
        """The attacker-controlled context a shell value carries: a ${{ }} or a tainted $VAR."""
        origin = expressions.origin_of(text, self.sources)
        if origin:
            return origin
        return next(
            (self.sources.env[v.lower()] for v in shell.shell_vars(text) if v.lower() in self.sources.env),
            None,
        )

    # ------------------------------------------------------------------ rules
    def run(self) -> None:
        doc = self.doc
        self.check_env(doc.get("env"), None)
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
        privilege.check_triggers(self)
        self.check_concurrency()
        jobs: dict[str, Job] = {}
        matrix_envs: dict[str, Pos] = {}
        for jid in self.job_order():
            spec = self.jobs_map[jid]
            if not isinstance(spec, PDict):
                continue
            saved = set(self.secret_env), self.sources
            self.sources = Sources(
                string_inputs=self.string_inputs, env=dict(self.sources.env), needs=dict(self.job_outputs)
            )
            job = self.check_job(jid, spec, top_perms)
            self.secret_env, self.sources = saved  # a job's env does not reach the next job
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
        jobs = {jid: jobs[jid] for jid in self.jobs_map if jid in jobs}  # file order for the structural rules
        if check_needs(self.ctx, jobs):
            check_order(self.ctx, jobs)
        check_rebuild(self.ctx, jobs, matrix_envs)
        # A job that ships what it builds must not restore caches (ci.cache-poisoning says so instead).
        check_cache(self.ctx, {jid: j for jid, j in jobs.items() if not j.ships})
        conditions.scan_expressions(self)
        self.line_scans()

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
        if prs and (cancel is None or falsy(cancel)):
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
        # With one job, the workflow's block is that job's block: nothing else receives the scope.
        single_job = len(self.jobs_map) == 1
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
            # A job granting its own write scope under a read-only top level is what GitHub recommends.
            if level == "write" and job is None and not single_job:
                self.add(
                    "ci.excessive-permissions",
                    f"workflow-level '{scope}: write' applies to every job: grant it only to the job that needs it",
                    kpos,
                )

    def check_env(self, env: Any, job: str | None, *, service: bool = False) -> None:
        if not isinstance(env, PDict):
            return
        for name, value in env.items():
            if name == "ACTIONS_ALLOW_UNSECURE_COMMANDS" and truthy(value):
                self.add(
                    "ci.insecure-commands",
                    "ACTIONS_ALLOW_UNSECURE_COMMANDS re-enables ::set-env and ::add-path",
                    env.kpos(name),
                    job,
                )
            if not service and isinstance(value, str):
                origin = self.value_origin(value) if ("${{" in value or "$" in value) else None
                if origin:
                    self.sources.env[name.lower()] = origin
                else:  # redefined with a safe value in an inner scope
                    self.sources.env.pop(name.lower(), None)
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
        if uses.startswith(("./", "$/")):  # this repository, at the commit being run: no ref to pin
            return
        if uses.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", uses):
                self.add("ci.unpinned-action", f"{uses} is not pinned to an image digest", pos, job)
            return
        conditions.check_uses_path(self, uses, pos, job)
        bad = compromised(uses)
        if bad:
            self.add("ci.known-compromised-action", bad[1], pos, job, severity=bad[0])
        gone = archived(uses)
        if gone:
            self.add("ci.archived-action", gone, pos, job)
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

    def check_job(self, jid: str, spec: PDict, top_perms: Any) -> Job:
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
        conditions.walk_ifs(self, spec, jid)
        self.privilege = privilege.job_privilege(self, spec, body, top_perms)
        strategy = spec.get("strategy")
        if isinstance(strategy, dict) and "matrix" in strategy:
            # A matrix built from another job's tainted output hands that text to every matrix.* use.
            self.sources.matrix = next(
                (
                    o
                    for text in _strings(strategy["matrix"])
                    if (o := expressions.origin_of(text, self.sources))
                ),
                None,
            )
        self.check_env(spec.get("env"), jid)

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
            isinstance(s, dict) and action_name(str(s.get("uses", ""))) == "actions/upload-artifact"
            for s in steps
        )
        restores: list[tuple[str, Pos]] = []
        for step in steps:
            if not isinstance(step, PDict):
                continue
            saved = set(self.secret_env), dict(self.sources.env)
            self.check_step(step, jid, job, uploads, restores)
            self.secret_env, self.sources.env = saved  # a step's env stays with that step
        job.ships = job.publishes or (self.release_trigger and (job.builds or uploads))
        if job.ships:
            why = "publishes" if job.publishes else "builds what this release ships"
            for what, pos in restores:
                self.add(
                    "ci.cache-poisoning",
                    f"{what} restores a cache in job '{jid}', which {why}",
                    pos,
                    jid,
                )
        outputs = spec.get("outputs")
        if isinstance(outputs, dict):
            for name, value in outputs.items():
                origin = expressions.origin_of(str(value), self.sources) if isinstance(value, str) else None
                if origin:
                    self.job_outputs[f"needs.{jid.lower()}.outputs.{name.lower()}"] = origin
        return job

    def check_step(
        self, step: PDict, jid: str | None, job: Job, uploads: bool, restores: list[tuple[str, Pos]]
    ) -> None:
        self.check_env(step.get("env"), jid)
        uses = step.get("uses")
        with_ = step.get("with") if isinstance(step.get("with"), PDict) else PDict()
        sid = str(step.get("id")).lower() if step.get("id") else None
        if isinstance(uses, str):
            job.uses.append(uses)
            self.check_uses(uses, step.vpos("uses"), jid)
            action = action_name(uses)
            if action == "actions/checkout":
                self.check_checkout(step, with_, jid, uploads)
            caches, restore = cache_use(action, with_)
            if action == "mozilla-actions/sccache-action" and "SCCACHE_GHA_ENABLED" not in self.ctx.text:
                caches = restore = False  # without it sccache keeps its cache on the runner only
            if caches:
                job.cached = True
            if restore:
                switch = next((k for k in ("cache", "enable-cache", "bundler-cache") if k in with_), None)
                restores.append((action, with_.kpos(switch) if switch else step.vpos("uses")))
            if publish_step(action, with_):
                job.publishes = True
            if action == "actions/download-artifact":
                job.artifacts_in = True
            if action == "docker/build-push-action":
                job.builds = True
            lowered = {k.lower(): k for k in with_}
            for key in CODE_INPUTS.get(action, ()):
                value = with_.get(lowered.get(key, key))
                if isinstance(value, str):
                    self.check_script(value, with_.vpos(lowered[key]), jid, f"{action} {lowered[key]}")
            privilege.check_app_token(self, action, with_, step.vpos("uses"), jid)
            if sid and action in UNTRUSTED_OUTPUTS:
                self.sources.steps[f"steps.{sid}.outputs.*"] = (
                    f"{action} outputs ({UNTRUSTED_OUTPUTS[action]})"
                )
        run = step.get("run")
        if isinstance(run, str):
            pos = step.vpos("run")
            job.scripts.append((run, pos))
            if BUILD_ARTIFACT.search(run):
                job.builds = True
            if publish_command(run):
                job.publishes = True
            self.check_script(run, pos, jid, "run")
            self.check_run(run, pos, jid, step)
            privilege.check_writes(self, run, pos, jid, job)
            privilege.check_run_fetch(self, run, pos, jid)
            if self.privilege:
                privilege.check_adhoc(self, run, pos, jid, self.privilege)
            for write in shell.writes(run):
                origin = self.value_origin(write.value)
                if sid and write.file == "OUTPUT" and write.name and origin:
                    self.sources.steps[f"steps.{sid}.outputs.{write.name.lower()}"] = origin

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
                self.check_env(item.get("env"), jid, service=True)

    def check_checkout(self, step: PDict, with_: PDict, jid: str | None, uploads: bool) -> None:
        # An explicit `persist-credentials: true` is a decision (the job pushes), not an oversight.
        if "persist-credentials" not in with_:
            self.add(
                "ci.persist-credentials",
                "actions/checkout persists the token in .git/config"
                + (" and this job uploads artifacts" if uploads else ""),
                step.vpos("uses"),
                jid,
                severity="medium" if uploads else "low",
            )
        privilege.check_checkout_ref(self, with_.get("ref"), with_.vpos("ref"), jid)

    def check_script(self, text: str, pos: Pos, jid: str | None, where: str) -> None:
        cursor = pos
        for taint in expressions.taints(text, sources=self.sources):
            at = self.ctx.find_text(taint.expression, cursor)
            cursor = (at[0], at[1] + 1)
            source = taint.origin if taint.traced else taint.context
            from_input = source.startswith(("inputs.", "github.event.inputs."))
            self.add(
                "ci.template-injection",
                f"{taint.context} is expanded into {where}:"
                + (f" it carries {taint.origin}" if taint.traced else "")
                + " (attacker-controllable)",
                at,
                jid,
                severity="medium" if from_input else "high",
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
        secret_vars = set(self.secret_env)
        uses_secret = "secrets." in run or any(re.search(rf"\${{?{re.escape(v)}\b", run) for v in secret_vars)
        printed = next(
            (
                (line, cmd)
                for line in run.splitlines()
                for cmd in shell.commands(line)
                if shell.prints_to_log(cmd)
                and ("${{" in cmd and "secrets." in cmd or _mentions(cmd, secret_vars))
            ),
            None,
        )
        if printed:
            line, cmd = printed
            var = _mentions(cmd, secret_vars)
            what = f"${var} (from a secret)" if var and "secrets." not in cmd else "a secret"
            self.add(
                "ci.secret-exposure",
                f"prints {what}: {redact(line.strip())[:80]}",
                self.ctx.find_text(line.strip(), pos),
                jid,
            )
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


def _mentions(command: str, names: set[str]) -> str | None:
    return next((v for v in names if re.search(rf"\${{?{re.escape(v)}\b", command)), None)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


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
        self.sources.string_inputs = self.string_inputs

    def run(self) -> None:
        runs = self.doc.get("runs")
        using = str(runs.get("using", "")).lower() if isinstance(runs, PDict) else ""
        if using == "composite":
            steps = runs.get("steps") if isinstance(runs.get("steps"), PList) else PList()
            job = Job(id="action", pos=self.doc.kpos("runs"))
            for step in steps:
                if isinstance(step, PDict):
                    saved = set(self.secret_env), dict(self.sources.env)
                    self.check_step(step, None, job, uploads=False, restores=[])
                    self.secret_env, self.sources.env = saved
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


def workflow_problems(doc: Any) -> list[tuple[str, Pos]]:
    """Why GitHub would refuse ``doc`` as a workflow (empty when the shape is right)."""
    if not isinstance(doc, PDict):
        return [("not a GitHub Actions workflow (the top level is not a mapping)", pos_of(doc))]
    if not isinstance(doc.get("jobs"), PDict):
        return [
            (
                "not a GitHub Actions workflow (no jobs: mapping)",
                doc.kpos("jobs") if "jobs" in doc else doc.pos,
            )
        ]
    out = []
    if "on" not in doc and "true" not in doc:  # YAML 1.1 reads a bare `on` key as true
        out.append(("invalid workflow: no on: trigger", doc.pos))
    for jid, spec in doc["jobs"].items():
        where = doc["jobs"].kpos(jid)
        if not isinstance(spec, PDict):
            out.append((f"invalid workflow: job '{jid}' is not a mapping", where))
        elif "runs-on" not in spec and "uses" not in spec:
            out.append((f"invalid workflow: job '{jid}' has neither runs-on: nor uses:", where))
        elif "steps" in spec and not isinstance(spec["steps"], PList):
            out.append((f"invalid workflow: steps: of job '{jid}' is not a list", spec.vpos("steps")))
        elif isinstance(spec.get("steps"), PList):
            for i, step in enumerate(spec["steps"]):
                if not isinstance(step, PDict) or ("uses" not in step and "run" not in step):
                    out.append(
                        (
                            f"invalid workflow: step {i + 1} of job '{jid}' has neither uses: nor run:",
                            spec["steps"].item_pos[i],
                        )
                    )
    return out


def audit_github(ctx: FileContext, doc: Any) -> None:
    problems = workflow_problems(doc)
    for message, pos in problems:
        ctx.add("ci.parse-error", message, pos)
    if problems:
        return
    GitHubAudit(ctx, doc).run()
