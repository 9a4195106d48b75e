"""Readiness wrong answers seen on real repositories (issue 15), each as a family."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.nodes.readiness import review
from skill.nodes.readiness.docker import has_pipe

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: main
          image: example/{name}:1.2.3
{probes}"""
PROBES = """          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
"""


def rows(rep, check_id: str) -> list:
    return [f for f in rep.checks if f.id == check_id]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_kustomize_delete_stub_is_not_a_workload(tmp_path):
    write(tmp_path, "k8s/app.yaml", DEPLOY.format(name="api", probes=PROBES))
    write(
        tmp_path,
        "k8s/overlay/drop-loadgen.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: loadgenerator\n$patch: delete\n",
    )
    objects = {f.object for f in rows(review(tmp_path), "k8s.liveness-probe")}
    assert objects == {"Deployment/-/api"}


def test_one_workload_rendered_three_ways_is_counted_once(tmp_path):
    write(tmp_path, "manifests/api.yaml", DEPLOY.format(name="api", probes=""))
    write(tmp_path, "kustomize/base/api.yaml", DEPLOY.format(name="api", probes=""))
    write(tmp_path, "kustomize/base/kustomization.yaml", "resources: [api.yaml]\n")
    write(tmp_path, "chart/Chart.yaml", "apiVersion: v2\nname: api\nversion: 1.0.0\n")
    write(tmp_path, "chart/values.yaml", "name: api\n")
    write(tmp_path, "chart/templates/api.yaml", DEPLOY.format(name="{{ .Values.name }}", probes=PROBES))
    live = rows(review(tmp_path), "k8s.liveness-probe")
    assert len(live) == 1
    # the worst rendering stands; the message names the ones that agree and the one that differs
    assert live[0].status == "fail"
    assert "same in" in live[0].message and "differs in chart/templates/api.yaml" in live[0].message


def test_distinct_workloads_are_not_merged(tmp_path):
    write(tmp_path, "k8s/a.yaml", DEPLOY.format(name="a", probes=PROBES))
    write(tmp_path, "k8s/b.yaml", DEPLOY.format(name="b", probes=PROBES))
    assert len(rows(review(tmp_path), "k8s.liveness-probe")) == 2


def test_nameless_objects_are_skipped_with_a_warning_not_named_question_mark(tmp_path):
    write(tmp_path, "k8s/job.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {}\nspec: {}\n")
    rep = review(tmp_path)
    assert not any("?" in (f.object or "") for f in rep.checks)
    assert any("without metadata.name" in f.message for f in rep.warnings)


@pytest.mark.parametrize(("probes", "status"), [(PROBES, "n/a"), ("", "fail")])
def test_dockerfile_healthcheck_is_na_when_kubernetes_probes_exist(tmp_path, probes, status):
    write(tmp_path, "k8s/app.yaml", DEPLOY.format(name="api", probes=probes))
    write(tmp_path, "Dockerfile", 'FROM python:3.12-slim\nUSER 1000\nCMD ["python"]\n')
    (hc,) = rows(review(tmp_path), "docker.healthcheck")
    assert hc.status == status


@pytest.mark.parametrize(
    ("security", "status"),
    [
        ("      securityContext: {runAsUser: 10001}\n", "n/a"),  # the pod's UID covers every container
        ("          securityContext: {runAsUser: 1000, runAsNonRoot: true}\n", "n/a"),
        ("          securityContext: {runAsNonRoot: true}\n", "fail"),  # refuses root, sets no UID
        ("          securityContext: {runAsUser: 0}\n", "fail"),
        ("", "fail"),
    ],
)
def test_image_user_is_na_when_every_kubernetes_container_sets_a_uid(tmp_path, security, status):
    manifest = DEPLOY.format(name="api", probes="")
    if security.startswith("      securityContext"):  # pod level, before containers:
        manifest = manifest.replace("      containers:\n", security + "      containers:\n")
    else:
        manifest += security
    write(tmp_path, "k8s/app.yaml", manifest)
    write(tmp_path, "Dockerfile", 'FROM python:3.12-slim\nCMD ["python"]\n')
    (row,) = rows(review(tmp_path), "docker.non-root-user")
    assert row.status == status, row.message
    if status == "n/a":
        assert "runAsUser" in row.message and "k8s/app.yaml" in row.message


def test_one_workload_without_a_uid_keeps_the_image_user_failing(tmp_path):
    pinned = DEPLOY.format(name="api", probes="") + "          securityContext: {runAsUser: 10001}\n"
    write(tmp_path, "k8s/api.yaml", pinned)
    write(tmp_path, "k8s/worker.yaml", DEPLOY.format(name="worker", probes=""))
    write(tmp_path, "Dockerfile", 'FROM python:3.12-slim\nCMD ["python"]\n')
    (row,) = rows(review(tmp_path), "docker.non-root-user")
    assert row.status == "fail"


@pytest.mark.parametrize(
    ("image", "status"),
    [
        ("cgr.dev/chainguard/wolfi-base:latest", "fail"),
        ("cgr.dev/chainguard/python:latest-dev", "fail"),
        ("cgr.dev/chainguard/static:latest", "pass"),
        ("gcr.io/distroless/static:nonroot", "pass"),
    ],
)
def test_chainguard_images_are_not_all_non_root(tmp_path, image, status):
    write(tmp_path, "Dockerfile", f'FROM {image}\nCMD ["/app"]\n')
    (row,) = rows(review(tmp_path / "Dockerfile"), "docker.non-root-user")
    assert row.status == status


@pytest.mark.parametrize(
    ("script", "piped"),
    [
        ("sed -i 's|/usr/local|/opt|g' /etc/conf", False),
        ('echo "a|b" > f', False),
        ("make || true", False),
        ("curl -fsSL https://x | sh", True),
        ("cat f|grep x", True),
        ("sed 's|a|b|' f | tee out", True),
    ],
)
def test_a_bar_inside_quotes_is_not_a_pipe(script, piped):
    assert has_pipe(script) is piped


def test_quoted_sed_bar_does_not_fail_pipefail(tmp_path):
    write(tmp_path, "Dockerfile", "FROM debian:12\nRUN sed -i 's|a|b|' /etc/x\nUSER 1000\n")
    (row,) = rows(review(tmp_path / "Dockerfile"), "docker.pipefail")
    assert row.status == "pass"


@pytest.mark.parametrize(
    ("run", "status"),
    [
        ("RUN apt-get update", "fail"),
        ("RUN apt-get -q update && apt-get install -y --no-install-recommends curl=7.88", "fail"),
        ("RUN apt-get update && apt-get install -y curl=7.88 && rm -rf /var/lib/apt/lists/*", "pass"),
    ],
)
def test_a_lone_apt_get_update_layer_fails_cleanup(tmp_path, run, status):
    write(tmp_path, "Dockerfile", f"FROM debian:12\n{run}\nUSER 1000\n")
    (row,) = rows(review(tmp_path / "Dockerfile"), "docker.apt-cleanup")
    assert row.status == status
