"""Kubernetes and Dockerfile classes the peers had and we lacked (issue 15 §2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.nodes.readiness import review

POD = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
{pod}      containers:
        - name: main
          image: {image}
{container}"""
HARDENED_POD = """      automountServiceAccountToken: false
      securityContext:
        seccompProfile: {type: RuntimeDefault}
        runAsUser: 10001
"""
HARDENED_CONTAINER = """          securityContext:
            capabilities: {drop: [ALL]}
"""
DIGEST = "example/api@sha256:" + "a" * 64


def status(tmp_path: Path, check: str, pod="", image="example/api:1.2.3", container="") -> str:
    f = tmp_path / "deploy.yaml"
    f.write_text(POD.format(pod=pod, image=image, container=container))
    (row,) = [c for c in review(f).checks if c.id == check]
    return row.status


@pytest.mark.parametrize(
    "check", ["k8s.seccomp", "k8s.sa-token-automount", "k8s.high-uid", "k8s.capabilities", "k8s.image-digest"]
)
def test_bare_pod_fails_and_hardened_pod_passes(tmp_path, check):
    assert status(tmp_path, check) == "fail"
    assert status(tmp_path, check, HARDENED_POD, DIGEST, HARDENED_CONTAINER) == "pass"


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ("          securityContext:\n            capabilities: {drop: [NET_RAW]}\n", "pass"),
        ("          securityContext:\n            capabilities: {drop: [ALL], add: [SYS_ADMIN]}\n", "fail"),
        (
            "          securityContext:\n            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}\n",
            "pass",
        ),
    ],
)
def test_capabilities_family(tmp_path, container, expected):
    assert status(tmp_path, "k8s.capabilities", container=container) == expected


def test_container_seccomp_overrides_the_pod(tmp_path):
    container = "          securityContext:\n            seccompProfile: {type: Unconfined}\n"
    assert status(tmp_path, "k8s.seccomp", HARDENED_POD, container=container) == "fail"


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("metadata: {name: default}\nautomountServiceAccountToken: false\n", "pass"),
        ("metadata: {name: default, namespace: other}\nautomountServiceAccountToken: false\n", "fail"),
        ("metadata: {name: default}\n", "fail"),
    ],
)
def test_token_automount_follows_the_service_account(tmp_path, account, expected):
    f = tmp_path / "deploy.yaml"
    sa = "apiVersion: v1\nkind: ServiceAccount\n" + account
    f.write_text(POD.format(pod="", image="example/api:1.2.3", container="") + "---\n" + sa)
    (row,) = [c for c in review(f).checks if c.id == "k8s.sa-token-automount"]
    assert row.status == expected, row.message


def dockerfile_status(tmp_path: Path, text: str, check: str) -> str:
    f = tmp_path / "Dockerfile"
    f.write_text(text)
    (row,) = [c for c in review(f).checks if c.id == check]
    return row.status


@pytest.mark.parametrize(
    ("text", "check", "expected"),
    [
        ("FROM debian:12\nRUN apt-get install -y curl=1\n", "docker.no-install-recommends", "fail"),
        (
            "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl=1\n",
            "docker.no-install-recommends",
            "pass",
        ),
        ("FROM debian:12\nUSER 1000\n", "docker.no-install-recommends", "n/a"),
        (
            "FROM debian:12\nRUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/90norec\n"
            "WORKDIR /x\nRUN apt-get install -y curl=1\n",
            "docker.no-install-recommends",
            "pass",
        ),
        ("FROM python:3.12\nRUN uv pip install --system --no-cache flask\n", "docker.pip-no-cache", "pass"),
        ("FROM python:3.12\nRUN pip install flask\n", "docker.pip-no-cache", "fail"),
        ("FROM python:3.12\nRUN pip install --no-cache-dir flask\n", "docker.pip-no-cache", "pass"),
        ("FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n", "docker.pip-no-cache", "pass"),
        # a builder stage's cache is never shipped
        (
            "FROM python:3.12 AS b\nRUN pip install flask\nFROM python:3.12\nCOPY --from=b /x /x\n",
            "docker.pip-no-cache",
            "n/a",
        ),
        ("FROM debian:12\nRUN a\nRUN b\n", "docker.consecutive-run", "fail"),
        ("FROM debian:12\nRUN a\nWORKDIR /x\nRUN b\n", "docker.consecutive-run", "pass"),
        ("FROM debian:12\nRUN --mount=type=cache,target=/c a\nRUN b\n", "docker.consecutive-run", "pass"),
    ],
)
def test_dockerfile_hygiene_classes(tmp_path, text, check, expected):
    assert dockerfile_status(tmp_path, text, check) == expected
