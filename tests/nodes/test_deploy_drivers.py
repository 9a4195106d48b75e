"""The kubectl, helm and Argo Rollouts drivers run the right commands, through real subprocesses
(fake `kubectl`/`helm` executables on PATH that record their argv)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from skill.errors import ToolFailedError, ToolMissingError
from skill.nodes.deploy.drivers import image_ref, make_driver
from skill.nodes.deploy.settings import DEFAULTS

FAKE = Path(__file__).resolve().parents[1] / "fixtures" / "deploy" / "fake_tool.py"


@pytest.fixture
def tools(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kubectl", "helm"):
        exe = bin_dir / name
        exe.write_text(f"#!{sys.executable}\n" + FAKE.read_text())
        exe.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TOOL_LOG", str(log))

    def calls():
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return calls


def _driver(name, strategy="rolling", **settings):
    merged = {
        **DEFAULTS,
        "driver": name,
        "timeout": "2m",
        "namespace": "shop",
        "image": "ghcr.io/acme/{service}",
        **settings,
    }
    return make_driver(merged, service="api", env="prod", environment="production", strategy=strategy)


def test_image_ref_handles_tags_and_digests():
    assert image_ref("repo/api", "v1.2.3") == "repo/api:v1.2.3"
    digest = "sha256:" + "c" * 64
    assert image_ref("repo/api", digest) == f"repo/api@{digest}"
    assert image_ref("repo/api", f"other/api@{digest}") == f"repo/api@{digest}"


def test_kubectl_rolling_sets_image_and_waits(tools):
    _driver("kubectl").apply("deploy", "v1.4.0")
    assert tools() == [
        ["kubectl", "-n", "shop", "set", "image", "deployment/api", "api=ghcr.io/acme/api:v1.4.0"],
        ["kubectl", "-n", "shop", "rollout", "status", "deployment/api", "--timeout=120s"],
    ]


def test_kubectl_canary_scales_by_weight_and_promote_retires_it(tools):
    drv = _driver("kubectl", strategy="canary", replicas=10)
    drv.apply("canary", "v1.4.0", weight=25, step=0)
    drv.apply("promote", "v1.4.0", weight=100, step=1)
    calls = tools()
    assert ["kubectl", "-n", "shop", "scale", "deployment/api-canary", "--replicas=3"] in calls
    assert calls[-1] == ["kubectl", "-n", "shop", "scale", "deployment/api-canary", "--replicas=0"]
    assert ["kubectl", "-n", "shop", "set", "image", "deployment/api", "api=ghcr.io/acme/api:v1.4.0"] in calls


def test_kubectl_blue_green_switches_the_selector_and_rolls_back_to_the_old_slot(tools, monkeypatch):
    monkeypatch.setenv("FAKE_LIVE_SLOT", "blue")
    drv = _driver("kubectl", strategy="blue-green")
    drv.apply("stage", "v1.4.0")
    drv.apply("switch", "v1.4.0")
    drv.apply("rollback", "v1.3.9", previous="v1.4.0")
    calls = tools()
    assert calls[0] == [
        "kubectl",
        "-n",
        "shop",
        "get",
        "service",
        "api",
        "-o",
        "jsonpath={.spec.selector.slot}",
    ]
    assert [
        "kubectl",
        "-n",
        "shop",
        "set",
        "image",
        "deployment/api-green",
        "api=ghcr.io/acme/api:v1.4.0",
    ] in calls
    patches = [c for c in calls if "patch" in c]
    assert [json.loads(c[-1])["spec"]["selector"]["slot"] for c in patches] == ["green", "blue"]


def test_helm_upgrade_is_atomic_and_waits(tools):
    _driver("helm").apply("deploy", "v1.4.0")
    (call,) = tools()
    assert call[:5] == ["helm", "upgrade", "--install", "api", "./charts/api"]
    assert {"--atomic", "--wait", "--reuse-values", "--timeout=120s"} <= set(call)
    assert call[-2:] == ["--set-string", "image.tag=v1.4.0"]


def test_argo_rollouts_canary_uses_set_image_then_promote_and_abort_on_rollback(tools):
    drv = _driver("argo-rollouts", strategy="canary")
    drv.apply("canary", "v1.4.0", weight=10, step=0)
    drv.apply("canary", "v1.4.0", weight=50, step=1)
    drv.apply("rollback", "v1.3.9", previous="v1.4.0")
    verbs = [c[3:5] if c[3] != "-n" else c[5:7] for c in tools()]
    assert [v[0] for v in verbs] == ["set", "status", "promote", "status", "abort", "set", "status"]


def test_failures_and_missing_tools_are_domain_errors(tools, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "rollout status")
    with pytest.raises(ToolFailedError, match="exit 1"):
        _driver("kubectl").apply("deploy", "v1.4.0")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolMissingError):
        _driver("helm").apply("deploy", "v1.4.0")
