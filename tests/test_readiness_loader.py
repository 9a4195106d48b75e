"""The loader: line numbers, Helm neutralisation, and bad input that must not stop a scan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skill.nodes.readiness import review
from skill.nodes.readiness.loader import LMap, neutralise_template, parse_yaml, scan_path

FIX = Path(__file__).parent / "fixtures" / "readiness"
GOOD = (FIX / "k8s" / "good-deployment.yaml").read_text()


def warnings(rep):
    return {f.file: f for f in rep.checks if f.id == "scan.file"}


def test_parse_yaml_keeps_key_and_item_lines():
    docs = parse_yaml("a: 1\nb:\n  - x\n  - y: [1, 2]\n---\nkind: Pod\nflag: yes\nnothing: ~\n")
    first, second = docs
    assert isinstance(first, LMap) and first.line_of("b") == 2
    assert first["b"].line_of(1) == 4 and first["b"][1].line_of("y") == 4
    assert second.line == 6 and second["flag"] is True and second["nothing"] is None


def test_yaml_anchors_and_merge_keys():
    (doc,) = parse_yaml("base: &b {cpu: 1, memory: 2Gi}\nlimits:\n  <<: *b\n  cpu: 2\n")
    assert doc["limits"] == {"cpu": 2, "memory": "2Gi"}


def test_recursive_alias_is_an_error_not_a_hang():
    with pytest.raises((ValueError, RecursionError)):
        parse_yaml("a: &x\n  - *x\n")


def test_neutralise_keeps_line_count_and_resolves_values():
    text = (FIX / "helm" / "web" / "templates" / "deployment.yaml").read_text()
    out = neutralise_template(
        text, {"replicaCount": 4, "image": {"repository": "r/web", "tag": ""}}, {"appVersion": "9.9.9"}
    )
    assert len(out.splitlines()) == len(text.splitlines())
    (doc,) = parse_yaml(out)
    assert doc["spec"]["replicas"] == 4
    assert doc["spec"]["template"]["spec"]["containers"][0]["image"] == "r/web:9.9.9"


def test_invalid_yaml_is_a_warning_and_the_scan_goes_on(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x\nspec: [\n")
    rep = review(tmp_path)
    w = warnings(rep)
    assert "broken.yaml" in w and "invalid YAML" in w["broken.yaml"].message and w["broken.yaml"].line
    assert w["broken.yaml"].status == "warn" and w["broken.yaml"].level is None
    assert any(f.object == "Deployment/payments/api" for f in rep.checks)


def test_binary_file_with_a_yaml_name_is_skipped(tmp_path):
    (tmp_path / "blob.yaml").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    (tmp_path / "Dockerfile").write_bytes(b"FROM x\x00\x00")
    rep = review(tmp_path)
    w = warnings(rep)
    assert "binary" in w["blob.yaml"].message and "binary" in w["Dockerfile"].message


def test_symlink_loops_and_broken_links_are_warnings(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "deploy.yaml").write_text(GOOD)
    os.symlink("..", tmp_path / "app" / "up")  # a directory loop
    os.symlink("self.yaml", tmp_path / "self.yaml")  # a link to itself
    os.symlink("missing.yaml", tmp_path / "dangling.yaml")
    rep = review(tmp_path)
    w = warnings(rep)
    assert "symlink" in w["self.yaml"].message and "symlink" in w["dangling.yaml"].message
    assert any("loop" in f.message for f in w.values())
    workloads = [f for f in rep.checks if f.id == "k8s.image-tag"]
    assert len(workloads) == 1  # the loop did not scan the manifest twice


def test_unreadable_and_special_files_are_warnings(tmp_path):
    (tmp_path / "deploy.yaml").write_text(GOOD)
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block: must be skipped, not read
    locked = tmp_path / "locked.yaml"
    locked.write_text(GOOD)
    locked.chmod(0)
    linux_mem = Path("/proc/self/mem")
    if linux_mem.exists():  # a regular file whose read fails (EIO) even for root
        (tmp_path / "mem.yaml").symlink_to(linux_mem)
    rep = review(tmp_path)
    w = warnings(rep)
    assert "not a regular file" in w["pipe.yaml"].message
    if os.geteuid() != 0:  # root reads anything
        assert "cannot read" in w["locked.yaml"].message
    if linux_mem.exists():
        assert "cannot read" in w["mem.yaml"].message
    assert any(f.object == "Deployment/payments/api" for f in rep.checks)


def test_huge_folder_stops_at_max_files_with_a_warning(tmp_path):
    for i in range(60):
        (tmp_path / f"cm-{i:03d}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"
        )
    scan = scan_path(tmp_path, max_files=25)
    assert len(scan.paths) == 25
    assert any("scan stopped" in w.message for w in scan.warnings)
    rep = review(tmp_path, config={"max_files": 25})
    assert any("scan stopped" in f.message for f in rep.checks if f.id == "scan.file")


def test_oversized_file_is_skipped(tmp_path):
    (tmp_path / "big.yaml").write_text("# " + "x" * 5000 + "\n")
    (tmp_path / "package-lock.json").write_text("{}" + " " * 5000)
    rep = review(tmp_path, config={"max_file_bytes": 1000})
    assert "larger than" in warnings(rep)["big.yaml"].message
    assert "package-lock.json" not in warnings(rep)  # only searched for evidence: skipped quietly


def test_skipped_dirs_are_not_scanned(tmp_path):
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / "deploy.yaml").write_text(GOOD)
    rep = review(tmp_path)
    assert not [f for f in rep.checks if f.id == "k8s.image-tag" and f.file]


def test_dockerfile_without_from_is_a_warning(tmp_path):
    (tmp_path / "Dockerfile").write_text("RUN echo hi\n")
    rep = review(tmp_path)
    assert "no FROM" in warnings(rep)["Dockerfile"].message


def test_missing_path_is_an_input_error(tmp_path):
    from skill.errors import InputError

    with pytest.raises(InputError):
        review(tmp_path / "nope")


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_helm_conditions_are_decided_from_values(tmp_path):
    chart = FIX / "helm" / "created"
    rep = review(chart)
    rows = {f.id: f for f in rep.checks if f.object == "Deployment/-/(helm)"}
    template = chart / "templates" / "deployment.yaml"
    replicas_line = next(i for i, ln in enumerate(template.read_text().splitlines(), 1) if "replicas:" in ln)
    assert rows["k8s.replicas"].status == "pass" and rows["k8s.replicas"].line == replicas_line
    assert rows["k8s.run-as-non-root"].status == "pass"  # `with {}` is false: the else branch counts
    assert rows["k8s.image-tag"].message == "all images pinned"  # tag "" -> default .Chart.AppVersion
    assert rows["k8s.resources-requests"].status == "fail"  # resources: {}

    enabled = _copy(chart, tmp_path / "chart")
    values = (enabled / "values.yaml").read_text().replace("enabled: false", "enabled: true")
    (enabled / "values.yaml").write_text(values)
    rows = {f.id: f for f in review(enabled).checks if f.object == "Deployment/-/(helm)"}
    assert rows["k8s.replicas"].status == "fail"  # the HPA decides now: minReplicas 1
    assert rows["k8s.replicas"].file == "templates/hpa.yaml"


def test_pdb_with_empty_selector_selects_every_pod_in_policy_v1(tmp_path):
    base = (FIX / "k8s" / "pdb-zero.yaml").read_text().split("---")[0]
    pdb = "---\napiVersion: {api}\nkind: PodDisruptionBudget\nmetadata: {{name: all, namespace: finance}}\nspec:\n  maxUnavailable: 1\n  selector: {{}}\n"
    (tmp_path / "v1.yaml").write_text(base + pdb.format(api="policy/v1"))
    assert next(f for f in review(tmp_path / "v1.yaml").checks if f.id == "k8s.pdb").status == "pass"
    (tmp_path / "beta.yaml").write_text(base + pdb.format(api="policy/v1beta1"))
    assert next(f for f in review(tmp_path / "beta.yaml").checks if f.id == "k8s.pdb").status == "fail"


def test_kustomize_replicas_transformer(tmp_path):
    root = _copy(FIX / "kustomize", tmp_path / "k")
    k = root / "overlays" / "prod" / "kustomization.yaml"
    k.write_text(k.read_text() + "replicas:\n  - name: cart\n    count: 1\n")
    f = next(f for f in review(root / "overlays" / "prod").checks if f.id == "k8s.replicas")
    assert f.status == "fail" and "1 replica" in f.message


def test_malformed_workloads_never_crash_the_checks():
    """Any shape in any field of a workload yields findings, never an exception."""
    import copy

    import yaml
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from skill.nodes.readiness.k8s import run_k8s_checks
    from skill.nodes.readiness.loader import K8sObject

    base = yaml.safe_load(GOOD.split("---")[0])
    paths = [
        ("spec",),
        ("spec", "replicas"),
        ("spec", "template"),
        ("spec", "template", "metadata", "labels"),
        ("spec", "template", "spec"),
        ("spec", "template", "spec", "containers"),
        ("spec", "template", "spec", "affinity"),
        ("spec", "template", "spec", "securityContext"),
        ("metadata",),
        ("metadata", "namespace"),
    ]
    junk = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(paths), junk, st.sampled_from(["Deployment", "CronJob", "Pod", "Rollout"]))
    def check(path, value, kind):
        doc = copy.deepcopy(base)
        doc["kind"] = kind
        node = doc
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = value
        (obj,) = parse_yaml(yaml.safe_dump(doc))
        findings = run_k8s_checks([K8sObject(obj, "x.yaml")], "production", True)
        assert findings and all(f.line is None or f.line >= 1 for f in findings)

    check()


def test_odd_dockerfiles_never_crash_the_checks():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from skill.nodes.readiness.docker import run_docker_checks
    from skill.nodes.readiness.loader import TextFile

    words = st.sampled_from(
        [
            "FROM",
            "RUN",
            "USER",
            "CMD",
            "ENTRYPOINT",
            "ADD",
            "COPY",
            "ENV",
            "ARG",
            "SHELL",
            "HEALTHCHECK",
            "AS",
            "[",
            "]",
            '"',
            "\\",
            "|",
            "||",
            "apt-get",
            "install",
            "<<EOF",
            "EOF",
            "=",
            "$X",
            "root",
            "--from=a",
            "#",
        ]
    )
    line = st.lists(words | st.text(max_size=4), max_size=6).map(" ".join)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(line, max_size=12))
    def check(lines):
        text = "\n".join(lines)
        findings, warnings = run_docker_checks(
            [TextFile(Path("Dockerfile"), "Dockerfile", text, "dockerfile")]
        )
        assert findings or warnings

    check()


def test_neutralise_never_raises_and_keeps_lines():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(
        [
            "{{",
            "}}",
            "{{-",
            "-}}",
            " if ",
            " else ",
            " end ",
            " with ",
            " range ",
            ".Values.a",
            "not ",
            "toYaml .",
            "| nindent 4",
            "key: ",
            "- ",
            "\n",
            "  ",
            "default",
            '"x"',
            "$.Values.b.c",
            "/* c */",
        ]
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces | st.text(max_size=3), max_size=30).map("".join))
    def check(text):
        out = neutralise_template(text, {"a": {"b": 1}, "b": {"c": [1, 2]}}, {"appVersion": "1.0.0"})
        assert out.count("\n") == text.count("\n")

    check()


def test_json_manifests_are_read_with_lines(tmp_path):
    import json

    import yaml

    doc = yaml.safe_load(GOOD.split("---")[0])
    (tmp_path / "deploy.json").write_text(json.dumps(doc, indent=2))
    rep = review(tmp_path / "deploy.json")
    f = next(f for f in rep.checks if f.id == "k8s.image-tag")
    assert f.status == "pass" and f.object == "Deployment/payments/api"
    lines = (tmp_path / "deploy.json").read_text().splitlines()
    assert '"image"' in lines[f.line - 1]


def test_helm_values_for_the_environment_overlay_values_yaml(tmp_path):
    chart = _copy(FIX / "helm" / "created", tmp_path / "chart")

    def replicas(env):
        rows = {f.id: f for f in review(chart, env=env).checks if f.object == "Deployment/-/(helm)"}
        return rows["k8s.replicas"].message

    (chart / "values.yaml").write_text(
        (chart / "values.yaml").read_text().replace("replicaCount: 2", "replicaCount: 1")
    )
    assert replicas("production").startswith("1 replica")
    (chart / "values-production.yaml").write_text("replicaCount: 4\n")
    assert replicas("production").startswith("4 replicas")
    assert replicas("prod").startswith("4 replicas")  # alias
    assert replicas("staging").startswith("1 replica")
