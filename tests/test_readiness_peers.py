"""Agreement with the peers where a rule of theirs means the same as one of ours.

Each row: a manifest or Dockerfile, what the peer's documented rule does with it
(reference: /work/shared/reference/devops_tools.md §D and each tool's rule docs), and our check.
"flags" must be our ``fail``; "passes" must be our ``pass``. Rows exist only where the rule
semantics coincide (e.g. kube-linter's minimum-three-replicas is compared on 1 and 3 replicas,
never on 2, where the thresholds differ; kube-score's user-group-id wants UID and GID > 10000,
so its rows use such ids).
"""

from __future__ import annotations

import copy

import pytest
import yaml

from skill.nodes.readiness import review

CONTAINER = {
    "name": "app",
    "image": "ghcr.io/example/app:1.2.3",
    "resources": {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    },
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}},
    "startupProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 20000,
        "runAsGroup": 20000,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
    },
}
ANTI = {
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "app"}}}
        ]
    }
}
PDB = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "app", "namespace": "shop"},
    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "app"}}},
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "app", "namespace": "shop"},
    "spec": {"selector": {"app": "app"}, "ports": [{"port": 80, "targetPort": 8080}]},
}


def netpol(types):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "app-" + "-".join(t.lower() for t in types), "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": "app"}}, "policyTypes": types},
    }


def manifest(
    container=None, replicas=3, affinity=True, pdb=True, policies=(("Ingress", "Egress"),), namespace="shop"
):
    c = copy.deepcopy(CONTAINER)
    for key, value in (container or {}).items():
        if value is None:
            c.pop(key, None)
        elif isinstance(value, dict) and isinstance(c.get(key), dict):
            c[key] = {**c[key], **value}
            c[key] = {k: v for k, v in c[key].items() if v is not None}
        else:
            c[key] = value
    pod = {"containers": [c]}
    if affinity:
        pod["affinity"] = ANTI
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app"}}, "spec": pod},
        },
    }
    docs = [deployment, SERVICE]
    if pdb:
        docs.append(PDB)
    docs.extend(netpol(list(t)) for t in policies)
    return yaml.safe_dump_all(docs, sort_keys=False)


K8S_ROWS = [
    # kube-score (README_CHECKS.md)
    (
        "kube-score",
        "container-resources",
        "flags",
        "k8s.resources-limits",
        manifest({"resources": {"limits": None}}),
    ),
    (
        "kube-score",
        "container-resources",
        "flags",
        "k8s.resources-requests",
        manifest({"resources": {"requests": None}}),
    ),
    ("kube-score", "container-resources", "passes", "k8s.resources-limits", manifest()),
    ("kube-score", "container-image-tag", "flags", "k8s.image-tag", manifest({"image": "nginx:latest"})),
    ("kube-score", "container-image-tag", "flags", "k8s.image-tag", manifest({"image": "nginx"})),
    ("kube-score", "container-image-tag", "passes", "k8s.image-tag", manifest({"image": "nginx:1.27.2"})),
    (
        "kube-score",
        "container-security-context-privileged",
        "flags",
        "k8s.privileged",
        manifest({"securityContext": {"privileged": True}}),
    ),
    ("kube-score", "container-security-context-privileged", "passes", "k8s.privileged", manifest()),
    (
        "kube-score",
        "container-security-context-readonlyrootfilesystem",
        "flags",
        "k8s.read-only-root-fs",
        manifest({"securityContext": {"readOnlyRootFilesystem": None}}),
    ),
    (
        "kube-score",
        "container-security-context-readonlyrootfilesystem",
        "passes",
        "k8s.read-only-root-fs",
        manifest(),
    ),
    (
        "kube-score",
        "container-security-context-user-group-id",
        "flags",
        "k8s.run-as-non-root",
        manifest({"securityContext": {"runAsUser": 0, "runAsNonRoot": None}}),
    ),
    ("kube-score", "container-security-context-user-group-id", "passes", "k8s.run-as-non-root", manifest()),
    ("kube-score", "deployment-has-poddisruptionbudget", "flags", "k8s.pdb", manifest(pdb=False)),
    ("kube-score", "deployment-has-poddisruptionbudget", "passes", "k8s.pdb", manifest()),
    ("kube-score", "pod-networkpolicy", "flags", "k8s.network-policy", manifest(policies=())),
    ("kube-score", "pod-networkpolicy", "flags", "k8s.network-policy", manifest(policies=(("Ingress",),))),
    (
        "kube-score",
        "pod-networkpolicy",
        "passes",
        "k8s.network-policy",
        manifest(policies=(("Ingress",), ("Egress",))),
    ),
    (
        "kube-score",
        "deployment-has-host-podantiaffinity",
        "flags",
        "k8s.anti-affinity",
        manifest(affinity=False),
    ),
    ("kube-score", "deployment-has-host-podantiaffinity", "passes", "k8s.anti-affinity", manifest()),
    ("kube-score", "deployment-replicas", "flags", "k8s.replicas", manifest(replicas=1)),
    ("kube-score", "deployment-replicas", "passes", "k8s.replicas", manifest(replicas=2)),
    # Polaris (pkg/config/checks)
    ("polaris", "livenessProbeMissing", "flags", "k8s.liveness-probe", manifest({"livenessProbe": None})),
    ("polaris", "livenessProbeMissing", "passes", "k8s.liveness-probe", manifest()),
    ("polaris", "readinessProbeMissing", "flags", "k8s.readiness-probe", manifest({"readinessProbe": None})),
    ("polaris", "readinessProbeMissing", "passes", "k8s.readiness-probe", manifest()),
    (
        "polaris",
        "memoryRequestsMissing",
        "flags",
        "k8s.resources-requests",
        manifest({"resources": {"requests": {"cpu": "100m"}}}),
    ),
    (
        "polaris",
        "cpuLimitsMissing",
        "flags",
        "k8s.resources-limits",
        manifest({"resources": {"limits": {"memory": "1Gi"}}}),
    ),
    ("polaris", "tagNotSpecified", "flags", "k8s.image-tag", manifest({"image": "ghcr.io/example/app"})),
    (
        "polaris",
        "runAsRootAllowed",
        "flags",
        "k8s.run-as-non-root",
        manifest({"securityContext": {"runAsNonRoot": None, "runAsUser": None}}),
    ),
    (
        "polaris",
        "runAsRootAllowed",
        "passes",
        "k8s.run-as-non-root",
        manifest({"securityContext": {"runAsUser": None}}),
    ),
    (
        "polaris",
        "notReadOnlyRootFilesystem",
        "flags",
        "k8s.read-only-root-fs",
        manifest({"securityContext": {"readOnlyRootFilesystem": False}}),
    ),
    (
        "polaris",
        "privilegeEscalationAllowed",
        "flags",
        "k8s.privilege-escalation",
        manifest({"securityContext": {"allowPrivilegeEscalation": None}}),
    ),
    ("polaris", "privilegeEscalationAllowed", "passes", "k8s.privilege-escalation", manifest()),
    (
        "polaris",
        "runAsPrivileged",
        "flags",
        "k8s.privileged",
        manifest({"securityContext": {"privileged": True}}),
    ),
    ("polaris", "deploymentMissingReplicas", "flags", "k8s.replicas", manifest(replicas=1)),
    ("polaris", "missingPodDisruptionBudget", "flags", "k8s.pdb", manifest(pdb=False)),
    ("polaris", "missingNetworkPolicy", "flags", "k8s.network-policy", manifest(policies=())),
    ("polaris", "missingNetworkPolicy", "passes", "k8s.network-policy", manifest()),
    # kube-linter (docs/generated/checks.md)
    ("kube-linter", "no-liveness-probe", "flags", "k8s.liveness-probe", manifest({"livenessProbe": None})),
    ("kube-linter", "no-readiness-probe", "flags", "k8s.readiness-probe", manifest({"readinessProbe": None})),
    (
        "kube-linter",
        "unset-cpu-requirements",
        "flags",
        "k8s.resources-requests",
        manifest({"resources": None}),
    ),
    (
        "kube-linter",
        "unset-memory-requirements",
        "flags",
        "k8s.resources-limits",
        manifest({"resources": None}),
    ),
    ("kube-linter", "latest-tag", "flags", "k8s.image-tag", manifest({"image": "nginx:latest"})),
    ("kube-linter", "latest-tag", "passes", "k8s.image-tag", manifest()),
    (
        "kube-linter",
        "run-as-non-root",
        "flags",
        "k8s.run-as-non-root",
        manifest({"securityContext": {"runAsNonRoot": None, "runAsUser": None}}),
    ),
    (
        "kube-linter",
        "no-read-only-root-fs",
        "flags",
        "k8s.read-only-root-fs",
        manifest({"securityContext": {"readOnlyRootFilesystem": None}}),
    ),
    (
        "kube-linter",
        "privileged-container",
        "flags",
        "k8s.privileged",
        manifest({"securityContext": {"privileged": True}}),
    ),
    (
        "kube-linter",
        "privilege-escalation-container",
        "flags",
        "k8s.privilege-escalation",
        manifest({"securityContext": {"allowPrivilegeEscalation": True}}),
    ),
    ("kube-linter", "no-anti-affinity", "flags", "k8s.anti-affinity", manifest(affinity=False)),
    ("kube-linter", "no-anti-affinity", "passes", "k8s.anti-affinity", manifest()),
    ("kube-linter", "minimum-three-replicas", "flags", "k8s.replicas", manifest(replicas=1)),
    ("kube-linter", "minimum-three-replicas", "passes", "k8s.replicas", manifest(replicas=3)),
    ("kube-linter", "use-namespace", "flags", "k8s.namespace", manifest(namespace="default")),
    ("kube-linter", "use-namespace", "passes", "k8s.namespace", manifest()),
]

GOOD_DOCKERFILE = """FROM python:3.12.7-slim AS build
COPY . /src
FROM python:3.12.7-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*
RUN curl -fsS https://example.com/v | tee /tmp/v
COPY --from=build /src /app
HEALTHCHECK CMD ["curl", "-f", "http://127.0.0.1:8080/healthz"]
USER app
CMD ["python", "/app/main.py"]
"""


def dockerfile(replace: str = "", by: str = "") -> str:
    return GOOD_DOCKERFILE.replace(replace, by) if replace else GOOD_DOCKERFILE


DOCKER_ROWS = [
    ("hadolint", "DL3002", "flags", "docker.non-root-user", dockerfile("USER app", "USER root")),
    ("hadolint", "DL3002", "passes", "docker.non-root-user", dockerfile()),
    (
        "hadolint",
        "DL3006",
        "flags",
        "docker.base-image-pinned",
        dockerfile("FROM python:3.12.7-slim\n", "FROM python\n"),
    ),
    (
        "hadolint",
        "DL3007",
        "flags",
        "docker.base-image-pinned",
        dockerfile("FROM python:3.12.7-slim AS", "FROM python:latest AS"),
    ),
    ("hadolint", "DL3006", "passes", "docker.base-image-pinned", dockerfile()),
    ("hadolint", "DL3008", "flags", "docker.apt-pinned", dockerfile("curl=7.88.1-10", "curl")),
    ("hadolint", "DL3008", "passes", "docker.apt-pinned", dockerfile()),
    ("hadolint", "DL3009", "flags", "docker.apt-cleanup", dockerfile(" && rm -rf /var/lib/apt/lists/*", "")),
    ("hadolint", "DL3009", "passes", "docker.apt-cleanup", dockerfile()),
    ("hadolint", "DL3020", "flags", "docker.add-vs-copy", dockerfile("COPY . /src", "ADD . /src")),
    (
        "hadolint",
        "DL3020",
        "passes",
        "docker.add-vs-copy",
        dockerfile("COPY . /src", "ADD https://example.com/a.tgz /src/"),
    ),
    (
        "hadolint",
        "DL3025",
        "flags",
        "docker.exec-form",
        dockerfile('CMD ["python", "/app/main.py"]', "CMD python /app/main.py"),
    ),
    ("hadolint", "DL3025", "passes", "docker.exec-form", dockerfile()),
    (
        "hadolint",
        "DL4006",
        "flags",
        "docker.pipefail",
        dockerfile('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n', ""),
    ),
    ("hadolint", "DL4006", "passes", "docker.pipefail", dockerfile()),
    (
        "hadolint",
        "DL3057",
        "flags",
        "docker.healthcheck",
        dockerfile('HEALTHCHECK CMD ["curl", "-f", "http://127.0.0.1:8080/healthz"]\n', ""),
    ),
    ("hadolint", "DL3057", "passes", "docker.healthcheck", dockerfile()),
]


def _our_status(tmp_path, name: str, text: str, check_id: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    rows = [f for f in review(path, env="production").checks if f.id == check_id and f.status != "n/a"]
    assert len(rows) == 1, rows
    return rows[0].status


@pytest.mark.parametrize(
    "peer,rule,verdict,check_id,text", K8S_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in K8S_ROWS]
)
def test_manifest_rules_agree_with_peers(tmp_path, peer, rule, verdict, check_id, text):
    expected = "fail" if verdict == "flags" else "pass"
    assert _our_status(tmp_path, "deploy.yaml", text, check_id) == expected


@pytest.mark.parametrize(
    "peer,rule,verdict,check_id,text", DOCKER_ROWS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in DOCKER_ROWS]
)
def test_dockerfile_rules_agree_with_hadolint(tmp_path, peer, rule, verdict, check_id, text):
    expected = "fail" if verdict == "flags" else "pass"
    assert _our_status(tmp_path, "Dockerfile", text, check_id) == expected
