"""The workflow auditor: every rule both ways on authored fixtures, positions, suppression, CLI formats.

Fixture convention: a line that must produce a finding of rule R carries the marker
``expect: R``; ``<rule>-bad*.yml`` must yield exactly the marked lines for that rule and
``<rule>-good*.yml`` none at all.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.nodes.ci.audit import RULES, RULES_BY_ID, audit_file, audit_text, audit_workflows
from skill.nodes.ci.audit.expressions import taints
from skill.nodes.ci.cli import ci

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ci"
REPO = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"^(?P<rule>[a-z\-]+?)-(?P<kind>bad|good)\d*(?:\.gitlab-ci)?\.yml$")


def _cases(kind: str) -> list[tuple[str, Path]]:
    out = []
    for path in sorted((FIX / "github").glob("*.yml")) + sorted((FIX / "gitlab").glob("*.yml")):
        m = _NAME.match(path.name)
        assert m, f"fixture name not understood: {path.name}"
        if m.group("kind") == kind:
            out.append(("ci." + m.group("rule"), path))
    return out


def _expected_lines(path: Path, rule: str) -> set[int]:
    return {
        n
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if f"expect: {rule}" in line and not line.lstrip().startswith("#")
    }


@pytest.mark.parametrize("rule,path", _cases("bad"), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_bad_fixture_yields_exactly_the_marked_lines(rule, path):
    ctx = audit_file(path)
    assert not [f for f in ctx.findings if f.id == "ci.parse-error"], "fixture must be valid YAML"
    got = {f.line for f in ctx.findings if f.id == rule}
    expected = _expected_lines(path, rule)
    assert expected, "a bad fixture must mark at least one line"
    assert got == expected
    for f in ctx.findings:
        assert f.column and f.column >= 1 and f.file and f.fix


@pytest.mark.parametrize("rule,path", _cases("good"), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_good_fixture_is_clean_for_its_rule(rule, path):
    ctx = audit_file(path)
    assert not [f for f in ctx.findings if f.id in (rule, "ci.parse-error")], [
        f.message for f in ctx.findings if f.id == rule
    ]


def test_every_rule_has_a_bad_and_a_good_fixture():
    bad = {r for r, _ in _cases("bad")}
    good = {r for r, _ in _cases("good")}
    documented = {r.id for r in RULES} - {"ci.parse-error"}
    assert documented <= bad, f"rules without a bad fixture: {documented - bad}"
    assert documented <= good, f"rules without a good fixture: {documented - good}"


SAFE = [
    "${{ github.sha }}",
    "${{ github.event.pull_request.head.sha }}",
    "${{ github.action_path }}",
    "${{ github.run_id }}",
    "${{ github.event.pull_request.number }}",
    "${{ github.event.issue.number }}",
    "${{ github.event.pull_request.base.ref }}",
    "${{ github.event.pull_request.user.login }}",
    "${{ github.event.repository.default_branch }}",
    "${{ github.event.workflow_run.head_sha }}",
    "${{ github.event.pull_request.merged_at }}",
    "${{ contains(github.event.issue.title, 'bug') }}",
    "${{ github.event.issue.title == 'x' }}",
    "${{ !startsWith(github.head_ref, 'dependabot/') }}",
    "${{ 3 }}",
    "${{ steps.build.outputs.digest }}",
    "${{ inputs.dry_run }}",
    "${{ github.event_name }}",  # not github.event.name: a regex over the text could not tell
    "${{ (github.event.pull_request || github.event.issue).number }}",  # either way a number
    "${{ github.event.issue.title && 'x' || 'y' }}",  # && yields 'x' or an empty title; || then 'y'
    "${{ format('{0}-{1}', github.run_id, github.event.pull_request.number) }}",
    "${{ hashFiles(github.event.pull_request.title) }}",  # a hash, not the text
    "${{ github.event.issue.title != '' && github.run_id }}",
]
UNSAFE = [
    ("${{ github.event.issue.title }}", "github.event.issue.title"),
    ("${{ github.event.pull_request.body }}", "github.event.pull_request.body"),
    ("${{ github.head_ref }}", "github.head_ref"),
    ("${{ github.event.workflow_run.head_branch }}", "github.event.workflow_run.head_branch"),
    ("${{ github.event.pull_request.head.label }}", "github.event.pull_request.head.label"),
    ("${{ github.event.pages[0].page_name }}", "github.event.pages.*.page_name"),
    ("${{ github.event.head_commit.author.name }}", "github.event.head_commit.author.name"),
    ("${{ github.event.issue.title || 'y' }}", "github.event.issue.title"),
    ("${{ github.run_id && github.event.issue.title }}", "github.event.issue.title"),
    ("${{ (github.event.pull_request || github.event.issue).title }}", "github.event.pull_request.title"),
    ("${{ fromJSON(toJSON(github.event.comment)).body }}", "github.event.comment.body"),
    ("${{ github['event']['pull_request']['title'] }}", "github.event.pull_request.title"),
    ("${{ GitHub.Event.Issue.Title }}", "github.event.issue.title"),  # contexts are case-insensitive
    ("${{ join(github.event.pull_request.labels.*.name, ',') }}", "github.event.pull_request.labels.*.name"),
    ("${{ toJSON(github.event) }}", "github.event"),
    ("${{ inputs.message }}", "inputs.message"),
]


@pytest.mark.parametrize("expr", SAFE)
def test_safe_expressions_are_not_tainted(expr):
    assert taints(f"echo {expr}", {"message"}) == []


@pytest.mark.parametrize("expr,context", UNSAFE)
def test_unsafe_expressions_are_tainted(expr, context):
    found = taints(f"echo {expr}", {"message"})
    assert [t.context for t in found] == [context]


def test_injection_columns_point_at_each_expression():
    text = (FIX / "github" / "template-injection-bad.yml").read_text()
    ctx = audit_text(text, "w.yml", "github")
    lines = text.splitlines()
    for f in (f for f in ctx.findings if f.id == "ci.template-injection"):
        assert lines[f.line - 1][f.column - 1 :].startswith("${{"), (f.line, f.column)


SUPPRESSED = """\
name: s
on: push  # devops: ignore[ci.no-concurrency]
permissions: {contents: read}
jobs:
  build:  # devops: ignore[ci.no-timeout, ci.persist-credentials]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4  # devops: ignore
      - uses: some/action@v1
"""


def test_inline_suppression_on_the_line_and_the_job_line():
    ctx = audit_text(SUPPRESSED, "s.yml", "github")
    ids = [f.id for f in ctx.findings]
    assert (
        "ci.no-timeout" not in ids and "ci.no-concurrency" not in ids and "ci.persist-credentials" not in ids
    )
    # the bare ignore on the checkout line hides its unpinned finding, not the next step's
    unpinned = [f.line for f in ctx.findings if f.id == "ci.unpinned-action"]
    assert unpinned == [9]
    assert ctx.suppressed >= 4
    unsuppressed = audit_text(re.sub(r"#\s*devops:.*", "", SUPPRESSED), "s.yml", "github")
    assert {"ci.no-timeout", "ci.no-concurrency"} <= {f.id for f in unsuppressed.findings}


def test_file_level_suppression():
    text = "# devops: ignore-file[ci.unpinned-action]\n" + SUPPRESSED
    ctx = audit_text(text, "s.yml", "github")
    assert not [f for f in ctx.findings if f.id == "ci.unpinned-action"]


def test_invalid_yaml_is_a_positioned_parse_error():
    ctx = audit_text("on: push\njobs:\n  a: [unclosed\n", "x.yml", "github")
    assert [f.id for f in ctx.findings] == ["ci.parse-error"]
    assert ctx.findings[0].line and ctx.findings[0].line >= 3


def test_gitlab_reference_tags_and_anchors_are_understood():
    text = """\
.setup: &setup
  before_script: [pip install -r requirements.txt]
default:
  interruptible: true
  timeout: 10m
test:
  <<: *setup
  script:
    - !reference [.setup, before_script]
    - pytest
"""
    ctx = audit_text(text, ".gitlab-ci.yml", "gitlab")
    assert not [f for f in ctx.findings if f.id == "ci.parse-error"]
    assert [f.id for f in ctx.findings if f.id == "ci.no-dependency-cache"] == ["ci.no-dependency-cache"]


def test_discovery_of_repository_layout(tmp_path):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    shutil.copy(FIX / "github" / "no-timeout-bad.yml", wf / "build.yaml")
    shutil.copy(FIX / "gitlab" / "no-timeout-bad.gitlab-ci.yml", tmp_path / ".gitlab-ci.yml")
    (wf / "notes.txt").write_text("not a workflow")
    rep = audit_workflows(tmp_path)
    assert rep.files == [".github/workflows/build.yaml", ".gitlab-ci.yml"]
    assert {f.file for f in rep.findings if f.id == "ci.no-timeout"} == set(rep.files)


def test_project_workflow_passes_its_own_audit():
    """The repository's .github/workflows/ci.yml follows the advice the auditor gives."""
    rep = audit_workflows(REPO)
    assert ".github/workflows/ci.yml" in rep.files
    serious = [f for f in rep.findings if f.severity in ("medium", "high", "critical")]
    assert serious == [], [(f.id, f.line, f.message) for f in serious]
    result = CliRunner().invoke(ci, ["audit", str(REPO), "--fail-on", "medium"])
    assert result.exit_code == 0, result.output


def _write(tmp_path, name, text):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True, exist_ok=True)
    (wf / name).write_text(text)
    return tmp_path


def test_cli_json_shape_and_fail_on(tmp_path):
    root = _write(tmp_path, "a.yml", (FIX / "github" / "secrets-inherit-bad.yml").read_text())
    runner = CliRunner()
    res = runner.invoke(ci, ["audit", str(root), "--format", "json"])
    assert res.exit_code == 0, res.output  # secrets-inherit is medium: below the default --fail-on high
    data = json.loads(res.output)
    assert data["findings"], data
    for f in data["findings"]:
        assert set(f) == {"id", "severity", "file", "line", "column", "job", "message", "fix"}
        assert f["id"] in RULES_BY_ID
    inherit = [f for f in data["findings"] if f["id"] == "ci.secrets-inherit"][0]
    assert (inherit["file"], inherit["line"], inherit["job"]) == (".github/workflows/a.yml", 7, "call")
    res = runner.invoke(ci, ["audit", str(root), "--format", "json", "--fail-on", "medium"])
    assert res.exit_code == 1


def test_cli_sarif_and_text(tmp_path):
    root = _write(tmp_path, "a.yml", (FIX / "github" / "template-injection-bad.yml").read_text())
    runner = CliRunner()
    res = runner.invoke(ci, ["audit", str(root), "--format", "sarif"])
    assert res.exit_code == 1
    sarif = json.loads(res.output)
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "ci.template-injection" for r in results)
    loc = next(r for r in results if r["ruleId"] == "ci.template-injection")["locations"][0][
        "physicalLocation"
    ]
    assert loc["artifactLocation"]["uri"] == ".github/workflows/a.yml" and loc["region"]["startLine"] == 19
    res = runner.invoke(ci, ["audit", str(root)])
    assert res.exit_code == 1
    assert ".github/workflows/a.yml:19:" in res.output and "ci.template-injection" in res.output


def test_cli_single_file_and_missing_path(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        ci, ["audit", str(FIX / "gitlab" / "mutable-image-bad.gitlab-ci.yml"), "--format", "json"]
    )
    assert res.exit_code == 0
    assert {f["id"] for f in json.loads(res.output)["findings"]} >= {"ci.mutable-image"}
    res = runner.invoke(ci, ["audit", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_sample_service_demo_workflow_is_flagged():
    path = REPO / "examples" / "sample-service" / ".github" / "workflows" / "deploy.yml"
    if not path.exists():
        pytest.skip("demo workflow not present")
    ids = {f.id for f in audit_file(path).findings}
    assert {"ci.unpinned-action", "ci.template-injection", "ci.rebuild-per-env"} <= ids


def test_devops_ci_audit_as_a_real_process(run):
    proc = run(
        "-m",
        "skill.cli",
        "ci",
        "audit",
        str(FIX / "github" / "dangerous-triggers-bad.yml"),
        "--format",
        "json",
    )
    assert proc.returncode == 1, proc.stderr
    ids = {f["id"] for f in json.loads(proc.stdout)["findings"]}
    assert "ci.dangerous-triggers" in ids


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
_keys = st.sampled_from(
    ["on", "jobs", "steps", "uses", "run", "with", "env", "needs", "permissions", "container", "services",
     "image", "script", "stages", "stage", "extends", "include", "variables", "strategy", "matrix", "x",
     "runs", "using", "inputs", "shell"]
)  # fmt: skip
_trees = st.recursive(
    _scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_keys, kids, max_size=5),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(
    doc=st.dictionaries(_keys, _trees, max_size=6),
    platform=st.sampled_from(["github", "gitlab", "action", None]),
)
def test_any_yaml_shape_gives_findings_never_an_exception(doc, platform):
    text = yaml.safe_dump(doc)
    ctx = audit_text(text, "f.yml", platform)
    for f in ctx.findings:
        assert f.id in RULES_BY_ID and (f.line is None or f.line >= 1)


# --------------------------------------------------------------------------- action.yml files

ACTIONS = FIX / "actions"


@pytest.mark.parametrize("name", ["composite-bad", "docker-bad"])
def test_action_metadata_bad_yields_exactly_the_marked_lines(name):
    path = ACTIONS / name / "action.yml"
    ctx = audit_file(path)
    marked = {
        (rule, n)
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for rule in re.findall(r"expect: (ci\.[a-z\-]+)", line)
    }
    assert marked, "a bad fixture must mark at least one line"
    assert {(f.id, f.line) for f in ctx.findings} == marked
    assert all(f.job is None for f in ctx.findings)  # the calling workflow owns the job


@pytest.mark.parametrize("name", ["composite-good", "docker-good"])
def test_action_metadata_good_is_clean(name):
    ctx = audit_file(ACTIONS / name / "action.yml")
    assert ctx.findings == [], [(f.id, f.line, f.message) for f in ctx.findings]


def test_every_action_input_is_free_text_declared_or_not():
    text = "runs:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.n }}\n      shell: bash\n"
    assert [f.id for f in audit_text(text, "action.yml", "action").findings] == ["ci.template-injection"]
    assert audit_text("name: x\n", "action.yml", "action").findings[0].id == "ci.parse-error"


def test_repository_actions_are_discovered_and_symlink_loops_do_not_hang(tmp_path):
    shutil.copy(ACTIONS / "docker-bad" / "action.yml", tmp_path / "action.yml")
    local = tmp_path / ".github" / "actions" / "setup"
    local.mkdir(parents=True)
    shutil.copy(ACTIONS / "composite-bad" / "action.yml", local / "action.yaml")
    (local / "up").symlink_to("..")  # a loop back to .github/actions
    (tmp_path / ".github" / "actions" / "README.md").write_text("not an action")
    rep = audit_workflows(tmp_path)
    assert rep.files == ["action.yml", ".github/actions/setup/action.yaml"]
    (tmp_path / "action.yml").write_text("steps: [build, ship]\n")  # another tool's file of that name
    assert audit_workflows(tmp_path).files == [".github/actions/setup/action.yaml"]
    assert {f.file for f in rep.findings if f.id == "ci.template-injection"} == {
        ".github/actions/setup/action.yaml"
    }


# --------------------------------------------------------------------------- bad input


def test_empty_and_comment_only_files_are_named_as_empty():
    for text in ("", "# nothing but a comment\n"):
        ctx = audit_text(text, "e.yml", "github")
        assert [(f.id, f.message) for f in ctx.findings] == [
            ("ci.parse-error", "the file is empty (no YAML document)")
        ]


def test_unreadable_file_is_an_input_error(tmp_path):
    from skill.errors import InputError

    folder = tmp_path / "ci.yml"  # reading a directory fails like an unreadable file
    folder.mkdir()
    with pytest.raises(InputError, match="cannot read"):
        audit_file(folder)


@pytest.mark.parametrize("kind", ["empty-dir", "not-yaml", "device"])
def test_cli_refuses_what_it_cannot_audit_with_exit_2(tmp_path, kind):
    target = {"empty-dir": tmp_path, "not-yaml": tmp_path / "notes.txt", "device": Path("/dev/null")}[kind]
    if kind == "not-yaml":
        target.write_text("jobs: {}\n")
    res = CliRunner().invoke(ci, ["audit", str(target), "--format", "json"])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1
    assert "Traceback" not in res.output


def test_line_scans_attribute_findings_to_the_right_job():
    text = """\
on: push
permissions: {contents: read}
jobs:
  first:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - run: echo '${{ toJSON(secrets) }}'
  second:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - run: curl -H "Authorization ghp_abcdefghijklmnopqrstuvwxyz0123456789" https://example.invalid
"""
    found = {(f.id, f.line, f.job) for f in audit_text(text, "w.yml", "github").findings}
    assert ("ci.secret-exposure", 8, "first") in found
    assert ("ci.hardcoded-credentials", 13, "second") in found


# --------------------------------------------------------------------------- SARIF validity


def check_sarif(log: dict) -> None:
    """SARIF 2.1.0 structure (tests/fixtures/ci/sarif-2.1.0-subset.schema.json) and rule indexes."""
    import jsonschema

    schema = json.loads((FIX / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema.validate(log, schema)
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert len({r["id"] for r in rules}) == len(rules), "rule ids must be unique"
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_of_a_whole_repository_is_valid_2_1_0(tmp_path, monkeypatch):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    for name in ("template-injection-bad.yml", "needs-cycle-bad.yml", "secret-exposure-bad.yml"):
        shutil.copy(FIX / "github" / name, wf / name)
    shutil.copy(FIX / "gitlab" / "mutable-image-bad.gitlab-ci.yml", tmp_path / ".gitlab-ci.yml")
    shutil.copy(ACTIONS / "composite-bad" / "action.yml", tmp_path / "action.yml")
    (wf / "broken.yml").write_text("on: [push\n")
    res = CliRunner().invoke(ci, ["audit", str(tmp_path), "--format", "sarif"])
    assert res.exit_code == 1, res.output
    log = json.loads(res.output)
    check_sarif(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {
        "ci.template-injection", "ci.needs-cycle", "ci.secret-exposure", "ci.mutable-image", "ci.parse-error"
    }  # fmt: skip
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert ".github/workflows/broken.yml" in uris and "action.yml" in uris and ".gitlab-ci.yml" in uris
    with pytest.raises(Exception, match="ruleId|ruleIndex|2.1.0"):  # the check itself can fail
        broken = json.loads(res.output)
        broken["version"] = "2.0.0"
        check_sarif(broken)


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_secret_exposure_messages_quote_the_line_redacted(platform):
    token = "glpat-abcdefghijklmnopqrstuv"
    line = f'echo "$DEPLOY_TOKEN" && curl --header "PRIVATE-TOKEN: {token}" https://example.invalid'
    if platform == "github":
        text = (
            "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      DEPLOY_TOKEN: ${{ secrets.T }}\n"
            f"    steps:\n      - run: |\n          {line}\n"
        )
    else:
        text = f"job:\n  script:\n    - |\n      {line}\n"
    found = [f for f in audit_text(text, "f.yml", platform).findings if f.id == "ci.secret-exposure"]
    assert found and all(token not in f.message for f in found)
    assert any("DEPLOY_TOKEN" in f.message for f in found)


def test_single_file_keeps_its_repository_path_for_sarif(tmp_path, monkeypatch):
    root = _write(tmp_path, "deploy.yml", (FIX / "github" / "no-timeout-bad.yml").read_text())
    monkeypatch.chdir(root)
    for as_given in (".github/workflows/deploy.yml", str(root / ".github" / "workflows" / "deploy.yml")):
        res = CliRunner().invoke(ci, ["audit", as_given, "--format", "sarif"])
        results = json.loads(res.output)["runs"][0]["results"]
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
        assert uris == {".github/workflows/deploy.yml"}, as_given


@settings(max_examples=60, deadline=None)
@given(
    using=st.sampled_from(["composite", "docker", "node20", 3]),
    steps=st.lists(st.dictionaries(_keys, _trees, max_size=4) | _trees, max_size=4),
    image=_trees,
    inputs=_trees,
)
def test_any_action_shape_gives_findings_never_an_exception(using, steps, image, inputs):
    text = yaml.safe_dump({"inputs": inputs, "runs": {"using": using, "steps": steps, "image": image}})
    for f in audit_text(text, "action.yml", "action").findings:
        assert f.id in RULES_BY_ID and (f.line is None or f.line >= 1)


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux /proc")
def test_unreadable_workflow_is_one_line_exit_2(tmp_path):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "mem.yml").symlink_to("/proc/self/mem")  # a regular file whose read fails, even for root
    res = CliRunner().invoke(ci, ["audit", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "mem.yml: cannot read (Input/output error)" in res.output
    assert len(res.output.strip().splitlines()) == 1


WORKFLOW = """\
on: pull_request
permissions: {contents: read}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_anything_under_github_workflows_is_github_whatever_its_name(tmp_path):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "sync-to-gitlab.yml").write_text(WORKFLOW)
    ids = {f.id for f in audit_workflows(tmp_path).findings}
    assert "ci.template-injection" in ids


@pytest.mark.parametrize(
    "text,why",
    [
        ("version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n", "Dependabot"),
        ("repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.6.0\n", "pre-commit"),
        ("name: docs\nnav:\n  - index.md\n", "not a pipeline"),
    ],
)
def test_a_loose_yaml_file_that_is_not_a_pipeline_is_a_parse_error(tmp_path, text, why):
    path = tmp_path / "config.yml"
    path.write_text(text)
    findings = audit_file(path).findings
    assert [f.id for f in findings] == ["ci.parse-error"]
    assert why in findings[0].message


def test_a_loose_file_is_routed_by_its_content(tmp_path):
    gh = tmp_path / "ci.yml"
    gh.write_text(WORKFLOW)
    assert "ci.template-injection" in {f.id for f in audit_file(gh).findings}
    gl = tmp_path / "templates.yml"
    gl.write_text("stages: [test]\ntest:\n  image: python\n  script: [pytest]\n")
    found = audit_file(gl).findings
    assert "ci.mutable-image" in {f.id for f in found} and "ci.parse-error" not in {f.id for f in found}


@pytest.mark.parametrize(
    "text,message",
    [
        ("jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: echo}]\n", "no on: trigger"),
        ("on: push\njobs:\n  a:\n    steps: [{run: echo}]\n", "neither runs-on: nor uses:"),
        ("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{name: nothing}]\n", "step 1 of job 'a'"),
        ("on: push\njobs: [a, b]\n", "no jobs: mapping"),
    ],
)
def test_invalid_workflows_are_parse_errors_not_clean(text, message):
    findings = audit_text(text, ".github/workflows/w.yml", "github").findings
    assert any(f.id == "ci.parse-error" and message in f.message for f in findings), findings


def test_renamed_rule_ids_still_suppress():
    text = (FIX / "github" / "dangerous-triggers-bad.yml").read_text()
    text = text.replace(
        "pull_request_target:  #", "pull_request_target:  # devops: ignore[ci.pull-request-target] #"
    )
    ctx = audit_text(text, "w.yml", "github")
    lines = {f.line for f in ctx.findings if f.id == "ci.dangerous-triggers"}
    assert 3 not in lines and lines and ctx.suppressed == 1


def test_advisory_list_is_dated_and_names_the_reference_case():
    from skill.nodes.ci.audit.actions import advisories, compromised

    data = advisories()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["as_of"])
    assert compromised("tj-actions/changed-files@v45")[0] == "high"
    assert (
        compromised("tj-actions/changed-files@v46.0.1") is None
        or compromised("tj-actions/changed-files@v46.0.1")[0] != "high"
    )
    assert compromised("actions/checkout@v4") is None


def test_every_rule_id_is_documented_with_an_anchor_and_a_paragraph():
    doc = (REPO / "docs" / "ci.md").read_text()
    for rule in RULES:
        anchor = f'<a id="{rule.id}"></a>'
        assert anchor in doc, f"{rule.id}: no anchor in docs/ci.md"
        assert f"](#{rule.id})" in doc, f"{rule.id}: the rules table does not link to it"
        after = doc.split(anchor, 1)[1].lstrip().splitlines()
        assert after[0] == f"#### `{rule.id}`", f"{rule.id}: the anchor is not on its heading"
        paragraph = " ".join(after[1:4])
        assert len(paragraph) > 80, f"{rule.id}: no paragraph under its heading"
    documented = set(re.findall(r'<a id="(ci\.[a-z\-]+)"></a>', doc))
    assert documented == set(RULES_BY_ID), f"documented but not a rule: {documented - set(RULES_BY_ID)}"
