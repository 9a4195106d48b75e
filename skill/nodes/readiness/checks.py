"""The readiness check registry: every check id, its title, maturity level, severity and fix.

The ids are a public interface (docs/readiness.md explains each level assignment). The
functions that evaluate them live in k8s.py, docker.py and repo.py; this module is data only
so the docs, SARIF rule metadata and tests all read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from skill.findings import Finding, Rule

LEVELS = ("L1", "L2", "L3", "L4")
LEVEL_NAMES = {"L0": "none", "L1": "MVP", "L2": "Stable", "L3": "Resilient", "L4": "Optimized"}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    level: str
    severity: str
    doc: str
    fix: str

    @property
    def scope(self) -> str:
        return self.id.split(".", 1)[0]

    def finding(
        self,
        status: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        object: str | None = None,  # noqa: A002 - the report's field name
    ) -> Finding:
        """One result of this check; only a failing or warning row carries the fix."""
        return Finding(
            id=self.id,
            severity=self.severity,  # type: ignore[arg-type]
            level=self.level,
            status=status,  # type: ignore[arg-type]
            message=message,
            file=file,
            line=line,
            object=object,
            fix=self.fix if status in ("fail", "warn") else None,
        )

    def rule(self) -> Rule:
        return Rule(
            id=self.id,
            title=self.title,
            severity=self.severity,  # type: ignore[arg-type]
            description=self.doc,
            fix=self.fix,
            level=self.level,
        )


_C = Check
CHECKS: dict[str, Check] = {
    c.id: c
    for c in [
        # -- Kubernetes workloads ------------------------------------------------------------
        _C(
            "k8s.liveness-probe",
            "Containers have a liveness probe",
            "L1",
            "high",
            "Without a liveness probe a deadlocked container is never restarted.",
            "Add livenessProbe (httpGet on /healthz, or exec/tcpSocket) to every container.",
        ),
        _C(
            "k8s.readiness-probe",
            "Containers have a readiness probe",
            "L1",
            "high",
            "Without a readiness probe traffic reaches pods that are still starting.",
            "Add readinessProbe (httpGet on /readyz) to every container.",
        ),
        _C(
            "k8s.image-tag",
            "Images pinned to a digest, git SHA or semver",
            "L1",
            "high",
            "latest, untagged or moving tags make it impossible to know what is deployed or to roll back.",
            "Tag images with the git SHA or a full semver (1.4.2), or pin @sha256 digests.",
        ),
        _C(
            "k8s.privileged",
            "No privileged containers",
            "L1",
            "critical",
            "A privileged container has full access to the node.",
            "Remove securityContext.privileged: true.",
        ),
        _C(
            "k8s.run-as-non-root",
            "Containers run as non-root",
            "L1",
            "high",
            "Containers must not run as UID 0.",
            "Set securityContext.runAsNonRoot: true (pod or container) and a non-zero runAsUser.",
        ),
        _C(
            "k8s.resources-requests",
            "CPU and memory requests set",
            "L2",
            "medium",
            "Without requests the scheduler cannot place pods sensibly (noisy neighbours).",
            "Set resources.requests.cpu and resources.requests.memory on every container.",
        ),
        _C(
            "k8s.resources-limits",
            "CPU and memory limits set",
            "L2",
            "medium",
            "Without limits one pod can starve the node.",
            "Set resources.limits.cpu and resources.limits.memory on every container.",
        ),
        _C(
            "k8s.namespace",
            "Workload in a dedicated namespace",
            "L2",
            "low",
            "Objects without a namespace (or in default) land wherever kubectl points.",
            "Set metadata.namespace (or the Kustomize namespace) to a namespace other than default.",
        ),
        _C(
            "k8s.read-only-root-fs",
            "Read-only root filesystem",
            "L2",
            "medium",
            "A writable root filesystem lets an attacker or a bug modify the image at run time.",
            "Set securityContext.readOnlyRootFilesystem: true; mount emptyDir volumes for scratch space.",
        ),
        _C(
            "k8s.privilege-escalation",
            "Privilege escalation disabled",
            "L2",
            "high",
            "allowPrivilegeEscalation defaults to true; setuid binaries can gain privileges.",
            "Set securityContext.allowPrivilegeEscalation: false on every container.",
        ),
        _C(
            "k8s.capabilities",
            "Containers drop Linux capabilities",
            "L3",
            "medium",
            "The default capability set includes NET_RAW (packet spoofing inside the cluster network); "
            "adding SYS_ADMIN or NET_ADMIN back is close to privileged (checkov CKV_K8S_28/37).",
            "Set securityContext.capabilities.drop: [ALL] on every container and add back only what it needs.",
        ),
        _C(
            "k8s.seccomp",
            "Containers run under a seccomp profile",
            "L3",
            "medium",
            "Without seccompProfile RuntimeDefault a container may call every syscall of the host kernel "
            "(checkov CKV_K8S_31, kube-score container-seccomp-profile).",
            "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or each container).",
        ),
        _C(
            "k8s.sa-token-automount",
            "Service-account token mounted only when needed",
            "L3",
            "low",
            "A mounted token lets anyone who gets code execution in the pod talk to the API server as "
            "its service account (checkov CKV_K8S_38).",
            "Set automountServiceAccountToken: false in the pod spec (or on its ServiceAccount) unless the service "
            "calls the Kubernetes API.",
        ),
        _C(
            "k8s.high-uid",
            "Containers run with a high UID",
            "L4",
            "low",
            "A UID >= 10000 cannot collide with a host account should the container escape (checkov CKV_K8S_40).",
            "Set securityContext.runAsUser to 10000 or more (and build the image with that user).",
        ),
        _C(
            "k8s.image-digest",
            "Images pinned by digest",
            "L4",
            "low",
            "A tag can be re-pushed; only an @sha256 digest names one image for ever (checkov CKV_K8S_43). "
            "L4 because k8s.image-tag already demands immutable-looking tags at L1.",
            "Deploy image@sha256:<digest> (kustomize images: digest, or resolve tags in CI).",
        ),
        _C(
            "k8s.startup-probe",
            "Containers have a startup probe",
            "L3",
            "low",
            "A startup probe lets slow initialisation finish without liveness restarts.",
            "Add startupProbe with failureThreshold x periodSeconds covering the worst start time.",
        ),
        _C(
            "k8s.pdb",
            "PodDisruptionBudget matches the pods",
            "L3",
            "medium",
            "Without a PodDisruptionBudget a node drain can take every replica down at once.",
            "Add a PodDisruptionBudget (maxUnavailable: 1) whose selector matches the pod labels.",
        ),
        _C(
            "k8s.network-policy",
            "NetworkPolicy covers ingress and egress",
            "L3",
            "medium",
            "Pods not selected by a NetworkPolicy accept and send traffic to anything.",
            "Add NetworkPolicies whose podSelector matches the pods, with policyTypes Ingress and Egress.",
        ),
        _C(
            "k8s.replicas",
            "At least 2 replicas in production",
            "L3",
            "high",
            "A single replica is a single point of failure.",
            "Set spec.replicas >= 2 (or an HPA with minReplicas >= 2).",
        ),
        _C(
            "k8s.anti-affinity",
            "Replicas spread across nodes",
            "L3",
            "medium",
            "Replicas scheduled on the same node fail together.",
            "Add podAntiAffinity on kubernetes.io/hostname (or topologySpreadConstraints) matching the pod labels.",
        ),
        # -- Dockerfiles ---------------------------------------------------------------------
        _C(
            "docker.non-root-user",
            "Final stage runs as a non-root USER",
            "L1",
            "high",
            "The last USER of the final stage decides who the container runs as; default is root.",
            "Add `USER 10001` (a non-root user) at the end of the final stage.",
        ),
        _C(
            "docker.base-image-pinned",
            "Base images pinned",
            "L1",
            "medium",
            "FROM without a tag or with latest builds a different image every time.",
            "Pin FROM images to a version tag, ideally with an @sha256 digest.",
        ),
        _C(
            "docker.secrets",
            "No secrets baked into the image",
            "L1",
            "critical",
            "Secrets in ENV/ARG or copied key files stay in the image layers and history.",
            "Pass secrets at run time (mounted files, a secret manager) or with `RUN --mount=type=secret`.",
        ),
        _C(
            "docker.multi-stage",
            "Multi-stage build",
            "L2",
            "low",
            "A single stage ships compilers and build caches in the runtime image.",
            "Build in a builder stage and COPY --from=builder only the artefacts into a slim final stage.",
        ),
        _C(
            "docker.healthcheck",
            "HEALTHCHECK in the final stage",
            "L2",
            "low",
            "Docker, Compose, ECS and Swarm use HEALTHCHECK to route and restart (Kubernetes uses probes).",
            "Add `HEALTHCHECK CMD ...` to the final stage.",
        ),
        _C(
            "docker.add-vs-copy",
            "COPY instead of ADD for local files",
            "L2",
            "low",
            "ADD silently unpacks archives and fetches URLs; COPY does what it says.",
            "Use COPY for local files and folders.",
        ),
        _C(
            "docker.exec-form",
            "CMD/ENTRYPOINT in exec (JSON) form",
            "L2",
            "medium",
            "Shell form runs the process under /bin/sh -c, which does not forward SIGTERM: no graceful shutdown.",
            'Write CMD ["python", "app.py"] instead of CMD python app.py.',
        ),
        _C(
            "docker.pipefail",
            "Piped RUN commands use pipefail",
            "L2",
            "low",
            "Without pipefail a failing command before a pipe does not fail the build.",
            'Add SHELL ["/bin/bash", "-o", "pipefail", "-c"] before RUN lines with pipes.',
        ),
        _C(
            "docker.apt-pinned",
            "Installed packages pinned",
            "L2",
            "low",
            "Unpinned apt/apk packages make builds unreproducible.",
            "Pin versions: apt-get install -y curl=7.88.1-10 (apk add curl=8.5.0-r0).",
        ),
        _C(
            "docker.apt-cleanup",
            "Package lists cleaned in the same layer",
            "L2",
            "low",
            "apt lists left in the image bloat it and go stale.",
            "End the apt-get RUN with `&& rm -rf /var/lib/apt/lists/*` (apk: --no-cache).",
        ),
        _C(
            "docker.no-install-recommends",
            "apt-get installs skip recommended packages",
            "L2",
            "low",
            "Recommended packages add size and attack surface nobody asked for (hadolint DL3015).",
            "Use apt-get install -y --no-install-recommends ...",
        ),
        _C(
            "docker.pip-no-cache",
            "pip keeps no cache in the image",
            "L2",
            "low",
            "pip's wheel cache in the final image is dead weight (hadolint DL3042).",
            "Use pip install --no-cache-dir (uv: --no-cache; or ENV PIP_NO_CACHE_DIR=1, or a cache mount).",
        ),
        _C(
            "docker.consecutive-run",
            "No consecutive RUN instructions",
            "L4",
            "low",
            "Each RUN is a layer; consecutive RUNs in one stage make the image larger and slower to pull "
            "(hadolint DL3059). An optimisation, so L4.",
            "Join consecutive RUN instructions with && (RUN --mount lines excepted).",
        ),
        # -- Repository ----------------------------------------------------------------------
        _C(
            "repo.health-endpoint",
            "Service exposes a health endpoint",
            "L1",
            "high",
            "Orchestrators and load balancers need a /healthz-style route.",
            "Add a /healthz (liveness) and /readyz (readiness, checks dependencies) route.",
        ),
        _C(
            "repo.tests",
            "Unit tests exist",
            "L1",
            "medium",
            "L1 asks for unit tests.",
            "Add unit tests (tests/, *_test.go, *.test.ts ...).",
        ),
        _C(
            "repo.secrets-committed",
            "No secrets committed",
            "L1",
            "critical",
            ".env files, private keys and cloud keys in the tree leak with every clone.",
            "Remove the file, rotate the secret, add it to .gitignore, use a secret manager.",
        ),
        _C(
            "repo.ci",
            "CI pipeline runs tests",
            "L2",
            "high",
            "A CI pipeline that runs the tests gates every change.",
            "Add a CI workflow (.github/workflows, .gitlab-ci.yml ...) that runs the test suite.",
        ),
        _C(
            "repo.graceful-shutdown",
            "SIGTERM handled",
            "L2",
            "medium",
            "Without SIGTERM handling in-flight requests are cut at every deploy.",
            "Handle SIGTERM: stop accepting, drain in-flight requests, then exit.",
        ),
        _C(
            "repo.structured-logging",
            "Structured (JSON) logging",
            "L2",
            "medium",
            "Plain-text logs cannot be queried reliably.",
            "Log JSON (structlog, python-json-logger, zap, slog JSON handler, pino ...).",
        ),
        _C(
            "repo.runbooks",
            "Runbooks for the top failure scenarios",
            "L2",
            "medium",
            "On-call needs written steps for the top failure scenarios.",
            "Add docs/runbooks/<scenario>.md for the top failure scenarios (symptoms, checks, fix).",
        ),
        _C(
            "repo.dashboards",
            "Dashboards",
            "L2",
            "low",
            "Dashboards showing the golden signals are the visible side of metrics.",
            "Commit Grafana dashboards (JSON or GrafanaDashboard) or declare them in Terraform.",
        ),
        _C(
            "repo.staging",
            "Staging environment separate from production",
            "L2",
            "medium",
            "Changes need somewhere to be tried before production.",
            "Add a staging overlay/values file/tfvars or a staging environment in CI.",
        ),
        _C(
            "repo.rollback-plan",
            "Rollback plan documented",
            "L2",
            "high",
            "Never deploy without a rollback plan (< 5 min rollback or don't ship).",
            "Document the rollback (kubectl rollout undo / helm rollback / previous tag) in a runbook.",
        ),
        _C(
            "repo.ownership",
            "Ownership declared",
            "L2",
            "low",
            "Someone must own the service: reviews, pages, decisions.",
            "Add CODEOWNERS or an owner (catalog-info.yaml spec.owner, an owner label).",
        ),
        _C(
            "repo.tracing",
            "Distributed tracing",
            "L3",
            "medium",
            "Tracing follows a request across services (OpenTelemetry or similar).",
            "Instrument with OpenTelemetry and export OTLP.",
        ),
        _C(
            "repo.timeouts-retries",
            "Timeouts and retries with backoff",
            "L3",
            "medium",
            "Outbound calls need timeouts, and transient failures retries with backoff (or a circuit breaker).",
            "Set timeouts on HTTP/DB clients and retry with exponential backoff + jitter (tenacity, backoff ...).",
        ),
        _C(
            "repo.slo",
            "SLOs with error budgets",
            "L3",
            "medium",
            "SLOs (availability, latency, error rate) with error budgets define reliable enough.",
            "Add OpenSLO/sloth files or docs/slo.md with targets and error budgets.",
        ),
        _C(
            "repo.slo-alerts",
            "Burn-rate alerts for every SLO",
            "L3",
            "medium",
            "An SLO nobody is alerted on is a number on a wiki: each needs multi-window burn-rate alerts.",
            "Generate them with `devops slo generate` (or Sloth/Pyrra) and commit the rule file.",
        ),
        _C(
            "repo.alerts",
            "Alerting rules",
            "L3",
            "medium",
            "Alerts with thresholds and severities page the on-call.",
            "Add Prometheus alerting rules (PrometheusRule) or cloud monitor alerts in IaC.",
        ),
        _C(
            "repo.backups",
            "Backups scheduled and restore documented",
            "L3",
            "high",
            "Backups need a schedule/retention in IaC and a written, tested restore procedure.",
            "Set backup retention in IaC (backup_retention_period, aws_backup_plan, velero Schedule) and document the restore.",
        ),
        _C(
            "repo.canary",
            "Canary or progressive delivery",
            "L4",
            "low",
            "Canary deploys limit the blast radius of a bad version.",
            "Use an Argo Rollouts canary/blueGreen strategy or a Flagger Canary.",
        ),
        _C(
            "repo.burn-rate-alerts",
            "Predictive (burn-rate) alerting",
            "L4",
            "low",
            "Burn-rate or predict_linear alerts fire before the budget or the disk is gone.",
            "Add multi-window error-budget burn-rate alerts (sloth generates them) or predict_linear rules.",
        ),
        _C(
            "repo.error-budget-policy",
            "Error budget policy",
            "L4",
            "low",
            "An error budget policy says what happens when the budget is spent (freeze features).",
            "Write docs/error-budget-policy.md: who decides, what freezes, when it ends.",
        ),
        _C(
            "repo.chaos",
            "Chaos experiments",
            "L4",
            "low",
            "Chaos experiments verify that the resilience features actually work.",
            "Add Chaos Mesh / Litmus experiments or a documented game day.",
        ),
    ]
}

# Not a check: a file that could not be read or parsed. Reported as a warning, never scored.
SCAN_WARNING_ID = "scan.file"


def rules() -> list[Rule]:
    return [c.rule() for c in CHECKS.values()] + [
        Rule(id=SCAN_WARNING_ID, title="File could not be scanned", severity="info")
    ]


def level_index(level: str) -> int:
    """L0 -> 0 ... L4 -> 4."""
    return int(level[1:])
