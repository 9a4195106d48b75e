"""Every readiness check, both ways, with the line of its evidence.

The fixtures under tests/fixtures/readiness/ carry their expectations as comments:
``# fail: k8s.image-tag`` on the line the finding must cite, or ``# pass-next: docker.x`` on the
line before it (Dockerfiles have no trailing comments). Repository checks, whose evidence is
often a whole file, are listed in REPO_EXPECTATIONS with a snippet that locates the line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from skill.nodes.readiness import review
from skill.nodes.readiness.checks import CHECKS

FIX = Path(__file__).parent / "fixtures" / "readiness"
MARK = re.compile(r"#\s*(pass|fail|warn|n/a)(-next)?:\s*([a-z0-9.\-, ]+)")

# (fixture scanned, file holding the markers, relative name the findings use)
MARKED = [
    ("k8s/good-deployment.yaml", "k8s/good-deployment.yaml", "good-deployment.yaml"),
    ("k8s/bad-deployment.yaml", "k8s/bad-deployment.yaml", "bad-deployment.yaml"),
    ("k8s/rollout.yaml", "k8s/rollout.yaml", "rollout.yaml"),
    ("k8s/workload-ref.yaml", "k8s/workload-ref.yaml", "workload-ref.yaml"),
    ("k8s/cronjob.yaml", "k8s/cronjob.yaml", "cronjob.yaml"),
    ("k8s/pdb-zero.yaml", "k8s/pdb-zero.yaml", "pdb-zero.yaml"),
    ("helm/web", "helm/web/templates/deployment.yaml", "templates/deployment.yaml"),
    ("kustomize/base", "kustomize/base/deployment.yaml", "deployment.yaml"),
    ("docker/good.Dockerfile", "docker/good.Dockerfile", "good.Dockerfile"),
    ("docker/bad.Dockerfile", "docker/bad.Dockerfile", "bad.Dockerfile"),
    ("docker/pip.Dockerfile", "docker/pip.Dockerfile", "pip.Dockerfile"),
]


def markers(path: Path) -> list[tuple[str, str, int]]:
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for m in MARK.finditer(line):
            target = number + 1 if m.group(2) else number
            out.extend((m.group(1), cid.strip(), target) for cid in m.group(3).split(",") if cid.strip())
    return out


def line_of(path: Path, snippet: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if snippet in line:
            return number
    raise AssertionError(f"{snippet!r} not in {path}")


@pytest.mark.parametrize("scanned,marked,rel", MARKED, ids=[m[0] for m in MARKED])
def test_marked_fixture(scanned, marked, rel):
    expected = markers(FIX / marked)
    assert expected, f"{marked} has no expectation markers"
    rep = review(FIX / scanned, env="production")
    for status, check_id, line in expected:
        assert check_id in CHECKS, check_id
        rows = [f for f in rep.checks if f.id == check_id and f.file == rel]
        assert rows, (
            f"{check_id}: no finding for {rel}; got {[(f.id, f.file) for f in rep.checks if f.id == check_id]}"
        )
        assert any(f.status == status and f.line == line for f in rows), (
            f"{check_id}: expected {status} at {rel}:{line}, got {[(f.status, f.line, f.message) for f in rows]}"
        )


# check id -> (status, file, snippet that locates the evidence line, or None for "no evidence file")
REPO_GOOD = {
    "repo.health-endpoint": ("src/app.py", '"/healthz"'),
    "repo.tests": ("tests/rates.test.js", "const { fetchRates }"),
    "repo.secrets-committed": (None, None),
    "repo.ci": (".github/workflows/ci.yml", "pytest -q"),
    "repo.graceful-shutdown": ("src/app.py", "signal.signal(signal.SIGTERM"),
    "repo.structured-logging": ("src/app.py", "import structlog"),
    "repo.runbooks": ("docs/runbooks/runbook.md", "## High error rate"),
    "repo.dashboards": ("infra/monitoring.tf", 'resource "grafana_dashboard"'),
    "repo.staging": ("deploy/values-staging.yaml", "replicaCount"),
    "repo.rollback-plan": ("docs/runbooks/runbook.md", "roll back"),
    "repo.ownership": ("CODEOWNERS", "@example"),
    "repo.tracing": ("src/app.py", "from opentelemetry"),
    "repo.timeouts-retries": ("src/app.py", "timeout=httpx.Timeout"),
    "repo.slo": ("slo/availability.yaml", "apiVersion: openslo"),
    "repo.slo-alerts": ("monitoring/rules.yaml", "- alert: BillingErrorBudgetBurn"),
    "repo.alerts": ("monitoring/rules.yaml", "- alert:"),
    "repo.backups": ("infra/db.tf", "backup_retention_period"),
    "repo.canary": ("deploy/rollout.yaml", "strategy:"),
    "repo.burn-rate-alerts": ("monitoring/rules.yaml", "slo:sli_error"),
    "repo.error-budget-policy": ("docs/error-budget-policy.md", "# Error budget policy"),
    "repo.chaos": ("chaos/pod-kill.yaml", "apiVersion: chaos-mesh.org"),
}
REPO_BAD = {
    "repo.health-endpoint": (None, None),
    "repo.tests": (None, None),
    "repo.secrets-committed": ("config/settings.py", "AKIA"),
    "repo.ci": (".gitlab-ci.yml", "build:"),
    "repo.graceful-shutdown": (None, None),
    "repo.structured-logging": (None, None),
    "repo.runbooks": ("docs/runbooks/oncall.md", "# On call"),
    "repo.dashboards": (None, None),
    "repo.staging": (None, None),
    "repo.rollback-plan": (None, None),
    "repo.ownership": (None, None),
    "repo.tracing": (None, None),
    "repo.timeouts-retries": (None, None),
    "repo.slo": ("docs/slo.md", "# SLO"),
    "repo.slo-alerts": ("docs/slo.md", "# SLO"),
    "repo.alerts": (None, None),
    "repo.backups": ("infra/db.tf", "backup_retention_period = 0"),
    "repo.canary": (None, None),
    "repo.burn-rate-alerts": (None, None),
    "repo.error-budget-policy": (None, None),
    "repo.chaos": (None, None),
}


@pytest.mark.parametrize(
    "name,status,table", [("repo-good", "pass", REPO_GOOD), ("repo-bad", "fail", REPO_BAD)]
)
def test_repo_checks(name, status, table):
    root = FIX / name
    rep = review(root)
    rows = {f.id: f for f in rep.checks if f.id.startswith("repo.")}
    assert set(table) == {cid for cid in CHECKS if cid.startswith("repo.")}
    for check_id, (file, snippet) in table.items():
        f = rows[check_id]
        assert f.status == status, f"{check_id}: {f.status} {f.message}"
        assert f.object == f"repo/{name}"
        assert f.file == file, f"{check_id}: evidence {f.file}"
        if file:
            assert f.line == line_of(root / file, snippet), f"{check_id}: line {f.line}"


def test_env_file_and_key_files_are_committed_secrets(tmp_path):
    root = tmp_path / "svc"
    shutil.copytree(FIX / "repo-good", root)
    (root / ".env.example").write_text("DB_PASSWORD=\n")
    rep = review(root)
    assert next(f for f in rep.checks if f.id == "repo.secrets-committed").status == "pass"
    (root / ".env").write_text("DB_PASSWORD=hunter2\n")
    (root / "certs").mkdir()
    (root / "certs" / "client.p12").write_bytes(b"\x30\x82\x00\x00binary")
    f = next(f for f in review(root).checks if f.id == "repo.secrets-committed")
    assert f.status == "fail" and f.file == ".env"
    assert "certs/client.p12" in f.message and ".env.example" not in f.message


def test_every_check_is_tested_both_ways():
    seen: dict[str, set[str]] = {cid: set() for cid in CHECKS}
    for _scanned, marked, _rel in MARKED:
        for status, cid, _line in markers(FIX / marked):
            seen[cid].add(status)
    for cid in REPO_GOOD:
        seen[cid].add("pass")
    for cid in REPO_BAD:
        seen[cid].add("fail")
    missing = {cid: {"pass", "fail"} - s for cid, s in seen.items() if not {"pass", "fail"} <= s}
    assert not missing, f"checks without a passing and a failing fixture: {missing}"


def test_kustomize_overlay_applies_namespace_and_image_and_loads_outside_base():
    rep = review(FIX / "kustomize" / "overlays" / "prod")
    rows = {f.id: f for f in rep.checks if f.object == "Deployment/cart-prod/cart"}
    assert rows, [f.object for f in rep.checks]
    assert rows["k8s.namespace"].status == "pass"
    assert rows["k8s.image-tag"].status == "pass"  # newTag 5.2.0 replaces latest
    assert rows["k8s.image-tag"].file == "../../base/deployment.yaml"
    base = FIX / "kustomize" / "base" / "deployment.yaml"
    assert rows["k8s.image-tag"].line == line_of(base, "image:")


def test_every_workload_kind_is_read():
    rep = review(FIX / "k8s" / "kinds.yaml")
    objects = {f.object for f in rep.checks if f.id == "k8s.image-tag"}
    assert objects == {
        "StatefulSet/data/db",
        "DaemonSet/monitoring/agent",
        "Job/data/migrate",
        "Pod/data/debug",
        "ReplicaSet/data/legacy",
        "Pod/data/listed",
    }
    by = {(f.id, f.object): f for f in rep.checks}
    assert by[("k8s.liveness-probe", "Job/data/migrate")].status == "n/a"
    assert by[("k8s.pdb", "DaemonSet/monitoring/agent")].status == "n/a"
    assert by[("k8s.replicas", "StatefulSet/data/db")].status == "fail"  # 1 replica in production
    assert by[("k8s.replicas", "ReplicaSet/data/legacy")].status == "pass"
    assert by[("k8s.image-tag", "DaemonSet/monitoring/agent")].status == "pass"  # v1.4.2


def test_replicas_minimum_depends_on_environment():
    path = FIX / "k8s" / "kinds.yaml"

    def status(env):
        rep = review(path, env=env)
        return next(
            f.status for f in rep.checks if f.id == "k8s.replicas" and f.object == "StatefulSet/data/db"
        )

    assert status("production") == "fail"
    assert status("staging") == "pass"


def test_ignore_annotation_turns_a_failure_into_na(tmp_path):
    text = (
        (FIX / "k8s" / "cronjob.yaml")
        .read_text()
        .replace(
            "  namespace: reports\n",
            "  namespace: reports\n  annotations:\n    readiness.devops/ignore: k8s.image-tag\n",
        )
    )
    p = tmp_path / "cron.yaml"
    p.write_text(text)
    f = next(f for f in review(p).checks if f.id == "k8s.image-tag")
    assert f.status == "n/a" and "ignored" in f.message


@pytest.mark.parametrize(
    "image,status",
    [
        ("nginx", "fail"),
        ("nginx:latest", "fail"),
        ("registry:5000/team/app", "fail"),
        ("registry:5000/team/app:1.2.3", "pass"),
        ("app:v2.0.0-rc.1", "pass"),
        ("app:stable", "fail"),
        ("app:1.25", "fail"),
        ("app:20240101", "fail"),
        ("app:4e1243bd", "pass"),
        ("app:main-4e1243bd22c66e76c2ba9eddc1f91394e57f9f83", "pass"),
        ("app@sha256:" + "a" * 64, "pass"),
    ],
)
def test_image_tag_classification(image, status):
    from skill.nodes.readiness.k8s import classify_image

    assert classify_image(image)[0] == status


def test_git_ignored_untracked_secret_files_are_not_committed(tmp_path):
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    root = tmp_path / "svc"
    shutil.copytree(FIX / "repo-good", root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".env\n")
    (root / ".env").write_text("DB_PASSWORD=hunter2\n")
    f = next(f for f in review(root).checks if f.id == "repo.secrets-committed")
    assert f.status == "pass" and "git-ignored" in f.message
    subprocess.run(["git", "-C", str(root), "add", "-f", ".env"], check=True)  # now tracked: committed
    f = next(f for f in review(root).checks if f.id == "repo.secrets-committed")
    assert f.status == "fail" and f.file == ".env"


def test_workload_ref_evidence_points_into_the_deployment_file(tmp_path):
    deployment, rollout = (FIX / "k8s" / "workload-ref.yaml").read_text().split("---\n")
    (tmp_path / "deployment.yaml").write_text(deployment)
    (tmp_path / "rollout.yaml").write_text(rollout)
    rows = {f.id: f for f in review(tmp_path).checks if f.object == "Rollout/shop/search"}
    assert rows["k8s.image-tag"].file == "deployment.yaml"
    assert rows["k8s.image-tag"].line == line_of(tmp_path / "deployment.yaml", "image:")
    assert rows["k8s.replicas"].file == "rollout.yaml"
    assert rows["k8s.replicas"].line == line_of(tmp_path / "rollout.yaml", "replicas: 2")
    assert rows["k8s.namespace"].file == "rollout.yaml"
    assert not [f for f in review(tmp_path).checks if f.object == "Deployment/shop/search"]


def test_identical_liveness_and_readiness_probes_warn(tmp_path):
    text = (FIX / "k8s" / "good-deployment.yaml").read_text()
    same = text.replace("httpGet: {path: /readyz, port: 8080}", "httpGet: {path: /healthz, port: 8080}")
    assert same != text
    (tmp_path / "d.yaml").write_text(same)
    f = next(f for f in review(tmp_path / "d.yaml").checks if f.id == "k8s.readiness-probe")
    assert f.status == "warn" and "identical" in f.message
    assert f.line == line_of(tmp_path / "d.yaml", "readinessProbe:")


def test_alert_runbook_links_must_resolve(tmp_path):
    root = tmp_path / "svc"
    shutil.copytree(REPO_SAMPLE, root)
    assert next(f for f in review(root).checks if f.id == "repo.runbooks").status == "pass"
    alerts = root / "k8s" / "base" / "alerts.yaml"
    alerts.write_text(
        alerts.read_text().replace("docs/runbooks/pod-crashloop.md", "docs/runbooks/missing.md")
    )
    f = next(f for f in review(root).checks if f.id == "repo.runbooks")
    assert f.status == "fail" and "OrdersApiDown" in f.message
    assert f.file == "k8s/base/alerts.yaml" and f.line == line_of(alerts, "docs/runbooks/missing.md")


REPO_SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-service"


@pytest.mark.parametrize(
    "check_id,name,content",
    [
        ("repo.health-endpoint", "main.go", 'http.HandleFunc("/healthz", health)\n'),
        ("repo.health-endpoint", "pom.xml", "<artifactId>spring-boot-starter-actuator</artifactId>\n"),
        ("repo.health-endpoint", "server.py", "from grpc_health.v1 import health_pb2_grpc\n"),
        ("repo.graceful-shutdown", "main.go", "signal.Notify(stop, syscall.SIGTERM)\n"),
        ("repo.graceful-shutdown", "index.js", "process.on('SIGTERM', () => server.close())\n"),
        ("repo.structured-logging", "main.go", 'import "go.uber.org/zap"\n'),
        ("repo.structured-logging", "index.js", "const logger = require('pino')()\n"),
        ("repo.tracing", "package.json", '{"dependencies": {"@opentelemetry/api": "1.9.0"}}\n'),
        ("repo.tracing", "requirements.txt", "opentelemetry-sdk==1.27.0\n"),
    ],
)
def test_repo_evidence_in_other_languages(tmp_path, check_id, name, content):
    (tmp_path / "app.py").write_text("print('service')\n")  # some service code, so the check applies
    (tmp_path / name).write_text(content)
    f = next(f for f in review(tmp_path).checks if f.id == check_id)
    assert f.status == "pass" and f.file == name and f.line == 1, f


@pytest.mark.parametrize(
    "command", ["bazel test //...", "bun test", "go test ./...", "./gradlew check", "npm test"]
)
def test_ci_test_commands(tmp_path, command):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text(
        f"on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {command}\n"
    )
    f = next(f for f in review(tmp_path).checks if f.id == "repo.ci")
    assert f.status == "pass" and f.line == 6


@pytest.mark.parametrize(
    "line,status",
    [
        ("ENV PASSWORD_MIN_LENGTH=8", "pass"),
        ("ENV DB_PASSWORD_FILE=/run/secrets/db", "pass"),
        ("ENV DB_PASSWORD=hunter2hunter2", "fail"),
        ("ARG NPM_TOKEN", "fail"),
        (
            "ENV GITHUB_TOKEN " + "ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789",
            "fail",
        ),  # built: no scanner trips
        ("COPY id_rsa /root/.ssh/id_rsa", "fail"),
        ("COPY .env /app/.env", "fail"),
        ("COPY config/ /app/config/", "pass"),
    ],
)
def test_docker_secrets_cases(tmp_path, line, status):
    (tmp_path / "Dockerfile").write_text(f"FROM python:3.12.7-slim\n{line}\nUSER 1000\n")
    f = next(f for f in review(tmp_path / "Dockerfile").checks if f.id == "docker.secrets")
    assert f.status == status, f.message
    if status == "fail":
        assert f.line == 2


def test_secrets_in_tests_warn_in_shipped_code_fail_and_aws_examples_pass(tmp_path):
    # the fake values are assembled here, so this file itself trips no secret scanner
    token = "ghp_" + "Zq8x" * 9
    example_key = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # AWS's documented example key

    def secrets_row(root):
        return next(f for f in review(root).checks if f.id == "repo.secrets-committed")

    root = tmp_path / "svc"
    shutil.copytree(FIX / "repo-good", root)
    (root / "src" / "aws.py").write_text(f'# e.g. AWS_ACCESS_KEY_ID={example_key}\nREGION = "eu-west-1"\n')
    assert secrets_row(root).status == "pass"

    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_client.py").write_text(f'import os\n\nTOKEN = "{token}"\n')
    (root / "src" / "client.test.js").write_text(f'const token = "{token}";\n')
    f = secrets_row(root)
    assert f.status == "warn" and (f.file, f.line) == ("src/client.test.js", 1), f
    assert "tests/test_client.py:3" in f.message and "fakes" in f.message

    (root / "src" / "client.py").write_text(
        f'import os\n\nAPI = "https://api.github.com"\nTOKEN = "{token}"\n'
    )
    f = secrets_row(root)
    assert f.status == "fail" and (f.file, f.line) == ("src/client.py", 4), f
    assert "2 in tests/fixtures" in f.message
