"""A platform-neutral view of a pipeline's jobs and the design-principle checks over it.

GitHub and GitLab files are read into ``Job`` records; the structural rules (needs graph,
fail-fast stage order, build-once-promote, dependency caching) are then
the same code for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from skill.nodes.ci.audit.context import FileContext
from skill.nodes.ci.audit.yamlpos import Pos

# Role ranks: lint < unit < integration < e2e (cheapest first). build/deploy sit outside the chain.
RANK = {"lint": 0, "unit": 1, "integration": 2, "e2e": 3}

_NAME_ROLES = [
    ("e2e", re.compile(r"e2e|end[-_ ]?to[-_ ]?end|cypress|playwright|selenium|acceptance|smoke", re.I)),
    ("integration", re.compile(r"integration|\bit\b|[-_]it\b", re.I)),
    ("deploy", re.compile(r"deploy|release|publish|promote|rollout", re.I)),
    (
        "lint",
        re.compile(r"lint|format|fmt|style|static|ruff|eslint|flake8|typecheck|mypy|vet\b|pre-commit", re.I),
    ),
    ("unit", re.compile(r"test|unit|spec|pytest|jest|check", re.I)),
    ("build", re.compile(r"build|compile|package|docker|image", re.I)),
]
_CMD_ROLES = [
    ("e2e", re.compile(r"\b(cypress|playwright|selenium|npm run e2e|test:e2e)\b", re.I)),
    ("integration", re.compile(r"integration|-m\s+integration|docker compose up", re.I)),
    ("lint", re.compile(r"\b(ruff|eslint|flake8|pylint|golangci-lint|black --check|prettier --check|shellcheck|hadolint|mypy|tflint|go vet|npm run lint|make lint)\b", re.I)),
    ("unit", re.compile(r"\b(pytest|jest|vitest|go test|npm test|npm run test|yarn test|cargo test|mvn test|gradle test|make test|tox|rspec|phpunit)\b", re.I)),
    ("build", re.compile(r"\b(docker build|docker buildx|npm run build|go build|mvn package|gradle build|cargo build|make build|python -m build)\b", re.I)),
]  # fmt: skip

INSTALL = re.compile(
    r"\b(pip3? install|python -m pip install|poetry install|uv sync|uv pip install|pipenv install|npm ci|npm install|"
    r"yarn install|yarn\b\s*$|pnpm install|go mod download|bundle install|composer install|mvn\b|gradle\b|\./gradlew|"
    r"cargo (?:build|test|fetch))",
    re.I | re.M,
)
BUILD_ARTIFACT = re.compile(
    r"\b(docker build|docker buildx build|npm run build|yarn build|go build|mvn (?:-\S+ )*package|gradle (?:build|assemble)|"
    r"cargo build --release|python -m build|make (?:build|image|dist))\b",
    re.I,
)


@dataclass
class Job:
    id: str
    pos: Pos
    name: str = ""
    needs: list[str] = field(default_factory=list)
    needs_pos: Pos | None = None
    scripts: list[tuple[str, Pos]] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    cached: bool = False
    environment: str | None = None
    uses_outputs_of: set[str] = field(default_factory=set)
    artifacts_in: bool = False
    builds: bool = False
    publishes: bool = False  # a step pushes a package, image or release
    ships: bool = False  # publishes, or builds in a release-triggered run
    explicit_needs: bool = True  # GitLab stage ordering gives implicit needs

    @property
    def script_text(self) -> str:
        return "\n".join(t for t, _ in self.scripts)

    def role(self) -> str | None:
        label = f"{self.id} {self.name}"
        for role, rx in _NAME_ROLES:
            if rx.search(label):
                return role
        text = self.script_text + "\n" + "\n".join(self.uses)
        for role, rx in _CMD_ROLES:
            if rx.search(text):
                return role
        return None


def _closure(jobs: dict[str, Job]) -> dict[str, set[str]]:
    """All jobs each job waits for, directly or not."""
    memo: dict[str, set[str]] = {}

    def visit(jid: str, stack: set[str]) -> set[str]:
        if jid in memo:
            return memo[jid]
        if jid in stack:
            return set()
        stack.add(jid)
        out: set[str] = set()
        for dep in jobs[jid].needs:
            if dep in jobs:
                out.add(dep)
                out |= visit(dep, stack)
        stack.discard(jid)
        memo[jid] = out
        return out

    return {jid: visit(jid, set()) for jid in jobs}


def check_needs(ctx: FileContext, jobs: dict[str, Job]) -> bool:
    """ci.needs-cycle: unknown ids and cycles. Returns True when the graph is usable."""
    ok = True
    for job in jobs.values():
        for dep in job.needs:
            if dep not in jobs and job.explicit_needs:
                ok = False
                ctx.add(
                    "ci.needs-cycle",
                    f"job '{job.id}' needs unknown job '{dep}'",
                    job.needs_pos or job.pos,
                    job=job.id,
                    job_line=job.pos[0],
                )
    color: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def dfs(jid: str, path: list[str]) -> None:
        nonlocal ok
        color[jid] = 1
        path.append(jid)
        for dep in jobs[jid].needs:
            if dep not in jobs:
                continue
            if color.get(dep) == 1:
                cycle = path[path.index(dep) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    ok = False
                    job = jobs[jid]
                    ctx.add(
                        "ci.needs-cycle",
                        "needs cycle: " + " -> ".join([*cycle, dep]),
                        job.needs_pos or job.pos,
                        job=jid,
                        job_line=job.pos[0],
                    )
            elif dep not in color:
                dfs(dep, path)
        path.pop()
        color[jid] = 2

    for jid in jobs:
        if jid not in color:
            dfs(jid, [])
    return ok


def check_order(ctx: FileContext, jobs: dict[str, Job]) -> None:
    """ci.stage-order over a valid needs graph.

    There is no rule against chaining cheap jobs: a gate job that waits for all others is serial by
    design, and lint -> test is the fail-fast order this rule asks for (see docs/audit-decisions.md).
    """
    roles = {jid: j.role() for jid, j in jobs.items()}
    upstream = _closure(jobs)
    present: dict[str, list[str]] = {}
    for jid, role in roles.items():
        if role in RANK:
            present.setdefault(role, []).append(jid)
    for jid, job in jobs.items():
        role = roles[jid]
        if role not in RANK:
            continue
        for other_role, others in present.items():
            if RANK[other_role] >= RANK[role] or role not in ("integration", "e2e"):
                continue
            if not any(o in upstream[jid] for o in others):
                ctx.add(
                    "ci.stage-order",
                    f"{role} job '{jid}' does not wait for the cheaper {other_role} job(s) "
                    f"{', '.join(sorted(others))}: fail fast, cheapest first",
                    job.needs_pos or job.pos,
                    job=jid,
                    job_line=job.pos[0],
                )
        for dep in sorted(upstream[jid]):
            dep_role = roles.get(dep)
            if dep_role in RANK and RANK[dep_role] > RANK[role]:
                ctx.add(
                    "ci.stage-order",
                    f"cheap {role} job '{jid}' waits for the more expensive {dep_role} job '{dep}'",
                    job.needs_pos or job.pos,
                    job=jid,
                    job_line=job.pos[0],
                )


def check_rebuild(ctx: FileContext, jobs: dict[str, Job], matrix_envs: dict[str, Pos] | None = None) -> None:
    """ci.rebuild-per-env: more than one environment-bound job builds the artifact itself."""
    builders = [j for j in jobs.values() if j.environment and j.builds]
    if len(builders) >= 2:
        first = builders[0]
        for job in builders[1:]:
            ctx.add(
                "ci.rebuild-per-env",
                f"job '{job.id}' (environment {job.environment}) rebuilds the artifact already built for "
                f"'{first.environment}' in '{first.id}': build once and promote it",
                job.pos,
                job=job.id,
                job_line=job.pos[0],
            )
    for jid, pos in (matrix_envs or {}).items():
        ctx.add(
            "ci.rebuild-per-env",
            f"job '{jid}' builds the artifact once per environment of its matrix: build once and promote it",
            pos,
            job=jid,
            job_line=jobs[jid].pos[0] if jid in jobs else None,
        )


def check_cache(ctx: FileContext, jobs: dict[str, Job], workflow_cached: bool = False) -> None:
    """ci.no-dependency-cache: a job installs dependencies and nothing caches them."""
    for job in jobs.values():
        if job.cached or workflow_cached:
            continue
        for text, pos in job.scripts:
            m = INSTALL.search(text)
            if m:
                where = ctx.find_text(m.group(0), pos)
                ctx.add(
                    "ci.no-dependency-cache",
                    f"job '{job.id}' installs dependencies ({m.group(0).strip()}) without a cache",
                    where,
                    job=job.id,
                    job_line=job.pos[0],
                )
                break


IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_problem(image: str) -> str | None:
    """Why ``image`` is mutable, or None when it is pinned by digest or version tag."""
    image = image.strip()
    if not image or "$" in image:  # a variable: resolved elsewhere
        return None
    if IMAGE_DIGEST.search(image):
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image '{image}' has no tag (means :latest)"
    tag = last.split(":", 1)[1]
    if tag in ("latest", "stable", "edge", "main", "master", "nightly", "lts", "current", "rolling"):
        return f"image '{image}' uses the moving tag :{tag}"
    return None
