"""GitLab CI rules (.gitlab-ci.yml): the shared structural rules plus GitLab's own keywords."""

from __future__ import annotations

import re
from typing import Any

from skill.nodes.ci.audit import shell
from skill.nodes.ci.audit.context import FileContext
from skill.nodes.ci.audit.github import SECRET_NAME, SHA, XTRACE, has_secret_literals, scan_secret_literals
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
from skill.redact import redact

RESERVED = {
    "image", "services", "stages", "types", "before_script", "after_script", "variables", "cache",
    "include", "default", "workflow", "spec",
}  # fmt: skip
DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]
TOKEN_VARS = {"CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD", "CI_JOB_JWT", "CI_JOB_JWT_V2"}


def _is_secret_var(name: str) -> bool:
    return name in TOKEN_VARS or bool(SECRET_NAME.search(name))


# GitLab's hosted macOS runners boot a VM image named like macos-14-xcode-15: not a container image.
_VM_IMAGE = re.compile(r"^macos-\d+-xcode-\d+$")


def _hosted_vm(spec: dict) -> bool:
    image = spec.get("image")
    name = image.get("name") if isinstance(image, dict) else image
    tags = spec.get("tags") if isinstance(spec.get("tags"), list) else []
    return bool(isinstance(name, str) and _VM_IMAGE.match(name.strip())) or any(
        str(t).startswith("saas-macos") for t in tags
    )


def _script_items(value: Any, pos: Pos) -> list[tuple[str, Pos]]:
    if isinstance(value, str):
        return [(value, getattr(value, "pos", pos))]
    out: list[tuple[str, Pos]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            ipos = value.item_pos[i] if isinstance(value, PList) and i < len(value.item_pos) else pos
            out.extend(_script_items(item, ipos))
    return out


def _merge(base: dict, over: dict) -> PDict:
    out = PDict()
    out.pos = getattr(over, "pos", (1, 1))
    for src in (base, over):
        for k, v in src.items():
            if isinstance(v, dict) and isinstance(out.get(k), dict):
                v = _merge(out[k], v)
            out[k] = v
            if isinstance(src, PDict):
                out.key_pos[k] = src.kpos(k)
                out.value_pos[k] = src.vpos(k)
    return out


class GitLabAudit:
    def __init__(self, ctx: FileContext, doc: PDict):
        self.ctx = ctx
        self.doc = doc
        self.default = doc.get("default") if isinstance(doc.get("default"), PDict) else PDict()

    def add(self, rule: str, message: str, pos: Pos | None, job: str | None = None, **kw: Any) -> None:
        job_line = self.doc.kpos(job)[0] if job and job in self.doc else None
        self.ctx.add(rule, message, pos, job=job, job_line=job_line, **kw)

    def resolve(self, name: str, seen: tuple[str, ...] = ()) -> PDict:
        spec = self.doc.get(name)
        if not isinstance(spec, PDict):
            return PDict()
        parents = spec.get("extends")
        parents = (
            [parents]
            if isinstance(parents, str)
            else list(parents or [])
            if isinstance(parents, list)
            else []
        )
        merged: PDict = PDict()
        for parent in parents:
            if isinstance(parent, str) and parent in self.doc and parent not in seen:
                merged = _merge(merged, self.resolve(parent, (*seen, name)))
        result = _merge(merged, spec)
        result.pos = spec.pos
        return result

    def run(self) -> None:
        doc = self.doc
        stages = doc.get("stages") if isinstance(doc.get("stages"), list) else DEFAULT_STAGES
        stages = [str(s) for s in stages]
        for key in ("image",):
            for where in (doc, self.default):
                if key in where:
                    self.check_image(where[key], where.vpos(key), None)
        for where in (doc, self.default):
            self.check_services(where.get("services"), None)
            self.check_variables(where.get("variables"), None)
        self.check_includes(doc.get("include"), doc.vpos("include") if "include" in doc else None)

        specs: dict[str, PDict] = {}
        for name, value in doc.items():
            if name in RESERVED or name.startswith(".") or not isinstance(value, PDict):
                continue
            spec = self.resolve(name)
            if "script" not in spec and "trigger" not in spec:
                continue
            specs[name] = spec
        global_cache = "cache" in doc or "cache" in self.default
        jobs: dict[str, Job] = {}
        by_stage: dict[str, list[str]] = {}
        for name, spec in specs.items():
            by_stage.setdefault(str(spec.get("stage", "test")), []).append(name)
        order = {s: i for i, s in enumerate(stages)}
        for name, spec in specs.items():
            job = Job(id=name, pos=doc.kpos(name))
            stage = str(spec.get("stage", "test"))
            if stage not in order:
                self.add(
                    "ci.stage-order",
                    f"job '{name}' uses stage '{stage}' which stages: does not list",
                    spec.vpos("stage"),
                    name,
                    severity="high",
                )
            needs = spec.get("needs")
            if isinstance(needs, list):
                for item in needs:
                    if isinstance(item, dict) and ("pipeline" in item or "project" in item):
                        continue  # cross-pipeline/project needs name jobs elsewhere
                    if isinstance(item, dict) and item.get("job"):
                        job.needs.append(str(item["job"]))
                    elif isinstance(item, str):
                        job.needs.append(item)
                job.needs_pos = spec.vpos("needs")
            else:
                job.explicit_needs = False
                mine = order.get(stage, 0)
                job.needs = [j for s, js in by_stage.items() if order.get(s, 0) < mine for j in js]
            job.artifacts_in = (
                any(isinstance(specs.get(dep), dict) and "artifacts" in specs[dep] for dep in job.needs)
                or "dependencies" in spec
            )
            env = spec.get("environment")
            job.environment = (
                str(env.get("name"))
                if isinstance(env, dict) and env.get("name")
                else (str(env) if env else None)
            )
            for key in ("before_script", "script", "after_script"):
                if key in spec:
                    job.scripts.extend(_script_items(spec[key], spec.vpos(key)))
            for key in ("before_script", "after_script"):
                if key not in spec and key in self.default:
                    job.scripts.extend(_script_items(self.default[key], self.default.vpos(key)))
            job.builds = bool(BUILD_ARTIFACT.search(job.script_text))
            job.cached = "cache" in spec
            jobs[name] = job
            if "image" in spec and not _hosted_vm(spec):
                self.check_image(spec["image"], spec.vpos("image"), name)
            self.check_services(spec.get("services"), name)
            self.check_variables(spec.get("variables"), name)
            self.check_scripts(job)
            if "timeout" not in spec and "timeout" not in self.default and "trigger" not in spec:
                self.add(
                    "ci.no-timeout",
                    f"job '{name}' has no timeout: (falls back to the project limit)",
                    job.pos,
                    name,
                    severity="low",
                )
        if check_needs(self.ctx, jobs):
            check_order(self.ctx, jobs)
        check_rebuild(self.ctx, jobs)
        check_cache(self.ctx, jobs, workflow_cached=global_cache)
        interruptible = self.default.get("interruptible") is True or any(
            s.get("interruptible") is True for s in specs.values()
        )
        if specs and not interruptible:
            self.add(
                "ci.no-concurrency",
                "no job is interruptible: superseded pipelines keep running",
                doc.kpos("stages") if "stages" in doc else doc.pos,
            )
        if has_secret_literals(self.ctx.text):
            for number, line in enumerate(self.ctx.lines, start=1):
                scan_secret_literals(self.ctx, number, line, None, self.add)

    def check_image(self, image: Any, pos: Pos, job: str | None) -> None:
        name = image.get("name") if isinstance(image, dict) else image
        if isinstance(image, PDict) and "name" in image:
            pos = image.vpos("name")
        if isinstance(name, str):
            why = image_problem(name)
            if why:
                self.add("ci.mutable-image", why, pos, job)

    def check_services(self, services: Any, job: str | None) -> None:
        if isinstance(services, PList):
            for i, svc in enumerate(services):
                self.check_image(svc, services.item_pos[i], job)

    def check_variables(self, variables: Any, job: str | None) -> None:
        if not isinstance(variables, PDict):
            return
        for name, value in variables.items():
            literal = value.get("value") if isinstance(value, dict) else value
            if isinstance(literal, str) and literal.strip() and _is_secret_var(name) and "$" not in literal:
                self.add(
                    "ci.hardcoded-credentials",
                    f"variable {name} is set to a literal value: use a masked CI/CD variable",
                    variables.vpos(name),
                    job,
                    severity="medium",
                )

    def check_includes(self, include: Any, pos: Pos | None) -> None:
        items = include if isinstance(include, list) else [include] if include else []
        for i, item in enumerate(items):
            ipos = include.item_pos[i] if isinstance(include, PList) else pos
            if isinstance(item, str):
                item = {"remote": item} if item.startswith("http") else {"local": item}
            if not isinstance(item, dict):
                continue
            if "remote" in item:
                self.add(
                    "ci.unpinned-action",
                    f"remote include {item['remote']} can change under you",
                    ipos,
                    severity="medium",
                )
            elif "project" in item:
                ref = item.get("ref")
                if not (isinstance(ref, str) and SHA.match(ref)):
                    self.add(
                        "ci.unpinned-action",
                        f"include of project {item['project']} at {'ref ' + str(ref) if ref else 'its default branch'}, not a commit SHA",
                        ipos,
                    )
            elif "component" in item:
                ref = str(item["component"]).rpartition("@")[2]
                if not SHA.match(ref):
                    self.add(
                        "ci.unpinned-action",
                        f"component {item['component']} is not pinned to a commit SHA",
                        ipos,
                        severity="medium",
                    )

    def check_scripts(self, job: Job) -> None:
        traced = False
        for text, pos in job.scripts:
            if XTRACE.search(text):
                traced = True
            printed = [
                m
                for line in text.splitlines()
                for cmd in shell.commands(line)
                if shell.prints_to_log(cmd)
                for m in shell.shell_vars(cmd)
                if _is_secret_var(m)
            ]
            if printed:
                self.add(
                    "ci.secret-exposure",
                    f"prints ${printed[0]}: {redact(text.strip())[:80]}",
                    pos,
                    job.id,
                )
        if traced and any(
            re.search(r"\$\{?(" + "|".join(TOKEN_VARS) + r"|[A-Z_]*(TOKEN|PASSWORD|SECRET)[A-Z_]*)\b", t)
            for t, _ in job.scripts
        ):
            first = next(p for t, p in job.scripts if XTRACE.search(t))
            self.add(
                "ci.secret-exposure",
                "set -x traces command lines that carry secrets",
                first,
                job.id,
                severity="medium",
            )


def audit_gitlab(ctx: FileContext, doc: Any) -> None:
    if not isinstance(doc, PDict):
        ctx.add("ci.parse-error", "not a GitLab CI file (top level is not a mapping)", pos_of(doc))
        return
    GitLabAudit(ctx, doc).run()
