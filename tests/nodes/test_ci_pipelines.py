"""Pipelines against fake `gh`/`glab` executables on PATH (recorded output in the real formats)
and a real git repository: status, watch, triage (log fallback, flaky, timeout, GitLab), the
guarded rerun and pushflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from skill.errors import ApprovalRequired, Blocked, ToolFailedError, ToolMissingError, UsageError
from skill.nodes.ci import pipeline_status, triage_run, watch_run
from skill.nodes.ci.cli import ci
from skill.nodes.ci.pipelines import rerun_failed
from skill.nodes.ci.platforms import detect, parse_remote

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ci"
BIN = FIX / "bin"


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


class Env:
    def __init__(self, repo: Path, data: Path):
        self.repo, self.data = repo, data

    def calls(self) -> list[str]:
        log = self.data / "calls.log"
        return log.read_text().splitlines() if log.exists() else []


def _make(tmp_path, monkeypatch, platform: str, branch: str = "main") -> Env:
    base = tmp_path / platform
    data = base / "recorded"
    shutil.copytree(FIX / "recorded" / platform, data)
    repo = base / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", branch)
    url = "git@github.com:acme/shop.git" if platform == "github" else "https://gitlab.com/acme/shop.git"
    _git(repo, "remote", "add", "origin", url)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CI_DIR", str(data))
    monkeypatch.delenv("DEVOPS_CI_PLATFORM", raising=False)
    return Env(repo, data)


@pytest.fixture
def gh(tmp_path, monkeypatch):
    return _make(tmp_path, monkeypatch, "github")


@pytest.fixture
def glab(tmp_path, monkeypatch):
    return _make(tmp_path, monkeypatch, "gitlab")


@pytest.mark.parametrize(
    "url,host,slug",
    [
        ("git@github.com:acme/shop.git", "github.com", "acme/shop"),
        ("https://github.com/acme/shop", "github.com", "acme/shop"),
        ("ssh://git@gitlab.example.com:2222/group/sub/proj.git", "gitlab.example.com", "group/sub/proj"),
        ("https://oauth2:tok@gitlab.com/group/proj.git/", "gitlab.com", "group/proj"),
    ],
)
def test_parse_remote(url, host, slug):
    assert parse_remote(url) == (host, slug)


def test_detect_platform_from_remote(gh, glab):
    assert detect(gh.repo).platform == "github"
    assert (detect(glab.repo).platform, detect(glab.repo).slug) == ("gitlab", "acme/shop")


def test_unknown_host_needs_an_explicit_platform(gh, monkeypatch):
    _git(gh.repo, "remote", "set-url", "origin", "https://git.internal.example/acme/shop.git")
    with pytest.raises(UsageError, match="DEVOPS_CI_PLATFORM"):
        detect(gh.repo)
    monkeypatch.setenv("DEVOPS_CI_PLATFORM", "github")
    assert detect(gh.repo).platform == "github"


def test_status_lists_runs_with_exact_json_fields(gh):
    runs = pipeline_status(gh.repo, branch="main", limit=3)
    assert [r.id for r in runs] == ["9501", "9402", "9301"]
    assert runs[0].conclusion == "failure" and runs[1].status == "in_progress"
    call = gh.calls()[-1]
    assert call.startswith("gh run list --json ") and "-b main" in call and "-L 3" in call


def test_status_cli_json_and_text(gh):
    runner = CliRunner()
    res = runner.invoke(ci, ["status", "--cwd", str(gh.repo), "--json", "--limit", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [r["id"] for r in data["runs"]] == ["9501", "9402"]
    res = runner.invoke(ci, ["status", "--cwd", str(gh.repo), "--branch", "feature/cart"])
    assert res.exit_code == 0 and "9201" in res.output and "9001" not in res.output


def test_gitlab_status_normalises_pipelines(glab):
    runs = pipeline_status(glab.repo, branch="main")
    assert [r.id for r in runs] == ["504", "503", "502", "501"]
    assert runs[0].status == "in_progress" and runs[1].conclusion == "failure"
    assert "glab ci list -F json" in glab.calls()[-1]


def test_missing_cli_and_unauthenticated(gh, monkeypatch):
    (gh.data / "unauthenticated").write_text("")
    with pytest.raises(ToolFailedError, match="not authenticated"):
        pipeline_status(gh.repo)
    res = CliRunner().invoke(ci, ["status", "--cwd", str(gh.repo)])
    # a tool that failed is an operational failure (5), not a finding (1)
    assert res.exit_code == 5 and "gh auth login" in res.output and "Traceback" not in res.output
    empty = gh.data / "emptybin"
    empty.mkdir()
    git = shutil.which("git")
    os.symlink(git, empty / "git")
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ToolMissingError, match="gh not found"):
        pipeline_status(gh.repo)


def test_triage_pytest_failure(gh):
    t = triage_run("9001", gh.repo, use_memory=False)
    assert t.classification == "test"
    assert [j.name for j in t.failed_jobs] == ["test (3.12)"]
    assert [s.name for s in t.failed_jobs[0].failed_steps()] == ["Run tests"]
    assert t.log_source == "log-failed"
    texts = [e.text for e in t.error_lines]
    assert "FAILED tests/test_cart.py::test_total_with_coupon - assert 100 == 90" in texts
    assert all("\x1b" not in x for x in texts)
    assert "tests/test_cart.py::test_total_with_coupon" in t.next_step


def test_triage_falls_back_to_jobs_api_when_log_failed_is_empty(gh):
    t = triage_run("9101", gh.repo, use_memory=False)
    assert t.log_source == "jobs-api"
    assert any(c.startswith("gh api repos/acme/shop/actions/jobs/55501/logs") for c in gh.calls())
    assert t.classification == "build"
    assert any("error[E0308]" in e.text for e in t.error_lines)


def test_triage_flaky_when_a_rerun_attempt_passed(gh):
    t = triage_run("9201", gh.repo, use_memory=False)
    assert t.classification == "flaky" and t.failed_attempt == 1
    assert [j.name for j in t.failed_jobs] == ["e2e"]
    assert any("--attempt 1" in c for c in gh.calls())
    assert "flaky" in t.next_step


def test_triage_timed_out_and_oom(gh):
    assert triage_run("9301", gh.repo, use_memory=False).classification == "timeout"
    oom = triage_run("9501", gh.repo, use_memory=False)
    assert oom.classification == "infrastructure"
    assert any(e.kind == "oom" for e in oom.error_lines)


def test_triage_default_picks_latest_failed_run_and_refuses_green_ones(gh):
    assert triage_run(None, gh.repo, use_memory=False).run.id == "9501"
    with pytest.raises(UsageError, match="succeeded"):
        triage_run("9000", gh.repo, use_memory=False)


def test_gitlab_triage_uses_trace_and_failure_reasons(glab):
    t = triage_run("501", glab.repo, use_memory=False)
    assert [j.name for j in t.failed_jobs] == ["unit"]  # the allow_failure job is not a failure
    assert t.log_source == "trace" and t.classification == "test"
    assert any(e.text.startswith("--- FAIL: TestCheckoutTotal") for e in t.error_lines)
    assert triage_run("502", glab.repo, use_memory=False).classification == "infrastructure"
    assert triage_run("503", glab.repo, use_memory=False).classification == "timeout"


def test_triage_cli_json(gh):
    res = CliRunner().invoke(ci, ["triage", "9001", "--cwd", str(gh.repo), "--json", "--no-memory"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["classification"] == "test" and data["run"]["id"] == "9001"
    assert {"failed_jobs", "error_lines", "similar", "next_step"} <= set(data)


def test_triage_works_when_memory_is_broken(gh, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    monkeypatch.setenv("DEVOPS_HOME", str(blocker / "home"))
    t = triage_run("9001", gh.repo)
    assert t.classification == "test"
    assert t.notices and t.notices[0].startswith("memory")


def test_triage_remembers_and_recalls_similar_failures(gh):
    pytest.importorskip("skill.memory")
    first = triage_run("9001", gh.repo)
    assert first.remembered_id, first.notices
    from skill.memory import Memory

    mem = Memory.open()
    try:
        hits = mem.recall("test_total_with_coupon", kind="ci_failure", limit=5)
    finally:
        mem.close()
    record = next(h.memory for h in hits if h.memory.id == first.remembered_id)
    assert record.kind == "ci_failure" and "test_total_with_coupon" in record.text
    assert record.metadata["classification"] == "test" and record.metadata["run_id"] == "9001"
    # the same test failing in another run is "seen before"; an unrelated compile error is not
    same = triage_run("9002", gh.repo)
    assert first.remembered_id in [s.id for s in same.similar]
    assert "Seen before" in same.next_step
    other = triage_run("9101", gh.repo, remember=False)
    assert first.remembered_id not in [s.id for s in other.similar]
    again = triage_run("9001", gh.repo, remember=False)
    assert first.remembered_id not in [s.id for s in again.similar]  # never "similar" to itself


def test_watch_follows_until_done_and_mirrors_conclusion(gh):
    seen = []
    run = watch_run("9401", gh.repo, interval=0, on_update=lambda r: seen.append((r.status, r.conclusion)))
    assert run.succeeded and seen[0] == ("queued", None) and seen[-1] == ("completed", "success")
    runner = CliRunner()
    ok = runner.invoke(ci, ["watch", "9401", "--cwd", str(gh.repo), "--interval", "0"])
    assert ok.exit_code == 0 and "finished: success" in ok.output
    bad = runner.invoke(ci, ["watch", "9402", "--cwd", str(gh.repo), "--interval", "0"])
    assert bad.exit_code == 1 and "failed: test" in bad.output


def test_watch_gitlab_pipeline(glab):
    run = watch_run("504", glab.repo, interval=0)
    assert run.succeeded and run.platform == "gitlab"


def _policy(text: str) -> None:
    cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_text(text)


def test_rerun_is_allowed_by_the_default_gate(gh):
    pytest.importorskip("skill.guardrails.engine")
    res = rerun_failed("9001", gh.repo)
    assert res.rerun == ["9001"]
    assert "gh run rerun 9001 -R acme/shop --failed" in gh.calls()


@pytest.mark.parametrize(
    "policy,exc,code",
    [
        ("[actions.ci_rerun]\ntier = 3\n", ApprovalRequired, 3),
        # a T4 action a human may approve is "approval required" on every front-end, not "blocked"
        ("[actions.ci_rerun]\ntier = 4\n", ApprovalRequired, 3),
        ('[[deny]]\nid = "no-reruns"\naction = "ci_rerun"\n', Blocked, 4),
    ],
    ids=["T3", "T4", "deny"],
)
def test_rerun_not_allowed_does_nothing(gh, policy, exc, code):
    pytest.importorskip("skill.guardrails.engine")
    _policy(policy)
    with pytest.raises(exc):
        rerun_failed("9001", gh.repo)
    res = CliRunner().invoke(ci, ["rerun", "9001", "--failed", "--cwd", str(gh.repo)])
    assert res.exit_code == code, res.output
    assert not [c for c in gh.calls() if c.startswith("gh run rerun")]


def test_rerun_requires_failed_flag_and_a_failed_run(gh):
    res = CliRunner().invoke(ci, ["rerun", "9001", "--cwd", str(gh.repo)])
    assert res.exit_code == 2 and "--failed" in res.output
    with pytest.raises(UsageError, match="succeeded"):
        rerun_failed("9000", gh.repo)


def test_gitlab_rerun_retries_failed_jobs_only(glab):
    pytest.importorskip("skill.guardrails.engine")
    res = rerun_failed("501", glab.repo)
    assert res.rerun == ["7001"]
    assert [c for c in glab.calls() if "ci retry" in c] == ["glab ci retry 7001 -R acme/shop"]


def test_pushflow_pushes_then_watches_the_run_of_that_sha(gh, tmp_path):
    bare = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(gh.repo, "config", "remote.origin.pushurl", str(bare))
    (gh.repo / "README").write_text("hi\n")
    _git(gh.repo, "add", "README")
    _git(gh.repo, "commit", "-q", "-m", "first")
    sha = _git(gh.repo, "rev-parse", "HEAD")
    runs = json.loads((gh.data / "runs.json").read_text())
    other = dict(runs[0], databaseId=9700, headSha="f" * 40)
    mine = dict(runs[0], databaseId=9701, headSha=sha, status="in_progress", conclusion=None)
    (gh.data / "runs.json").write_text(json.dumps([other, mine, *runs]))
    states = json.loads((gh.data / "run-9401.seq.json").read_text())
    for s in states:
        s.update(databaseId=9701, headSha=sha)
    (gh.data / "run-9701.seq.json").write_text(json.dumps(states))
    res = CliRunner().invoke(
        ci, ["pushflow", "origin", "main", "--cwd", str(gh.repo), "--interval", "0", "--wait", "5"]
    )
    assert res.exit_code == 0, res.output
    assert _git(bare, "rev-parse", "refs/heads/main") == sha
    assert "run 9701: success" in res.output and "9700" not in res.output
    assert any(c.startswith("gh run list") and f"-c {sha}" in c for c in gh.calls())


def test_pushflow_without_a_pipeline_gives_a_clear_error(gh, tmp_path):
    bare = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(gh.repo, "config", "remote.origin.pushurl", str(bare))
    _git(gh.repo, "commit", "-q", "--allow-empty", "-m", "empty")
    res = CliRunner().invoke(ci, ["pushflow", "--cwd", str(gh.repo), "--interval", "0", "--wait", "0"])
    assert res.exit_code == 2 and "no pipeline started" in res.output


def test_not_a_git_repository_is_a_usage_error(gh, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    res = CliRunner().invoke(ci, ["triage", "--cwd", str(plain), "--no-memory"])
    assert res.exit_code == 2 and "no git remote" in res.output and "Traceback" not in res.output


def test_pushflow_goes_through_the_gate_and_does_not_push_when_blocked(gh, tmp_path):
    pytest.importorskip("skill.guardrails.engine")
    bare = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _git(gh.repo, "config", "remote.origin.pushurl", str(bare))
    _git(gh.repo, "commit", "-q", "--allow-empty", "-m", "c")
    cfg = Path(os.environ["DEVOPS_CONFIG_DIR"])
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_text(
        '[[deny]]\nid = "no-push"\ncommand_regex = "^git push"\nreason = "frozen"\n'
    )
    res = CliRunner().invoke(ci, ["pushflow", "--cwd", str(gh.repo), "--interval", "0", "--wait", "0"])
    assert res.exit_code == 4, res.output
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/heads/main"], cwd=bare).returncode != 0
    assert not gh.calls()


@pytest.mark.parametrize("cmd", ["watch", "triage", "rerun"])
@pytest.mark.parametrize("bad", ["abc", "--web", "12 34", "0"])
def test_a_run_id_that_is_not_a_number_never_reaches_gh(gh, cmd, bad):
    args = (
        [cmd, "--cwd", str(gh.repo), "--", bad]
        if cmd != "rerun"
        else [cmd, "--failed", "--cwd", str(gh.repo), "--", bad]
    )
    res = CliRunner().invoke(ci, args)
    assert res.exit_code == 2, res.output
    assert "is not a run id" in res.output and len(res.output.strip().splitlines()) == 1
    assert not [c for c in gh.calls() if " view " in c or " rerun " in c]


@pytest.mark.parametrize("name,value", [("DEVOPS_CI_TIMEOUT", "abc"), ("DEVOPS_CI_TIMEOUT", "-5"),
                                        ("DEVOPS_CI_SIMILAR_MIN", "high")])  # fmt: skip
def test_bad_numeric_setting_is_a_one_line_config_error(gh, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    cmd = ["status"] if name == "DEVOPS_CI_TIMEOUT" else ["triage", "9001", "--no-remember"]
    res = CliRunner().invoke(ci, [*cmd, "--cwd", str(gh.repo)])
    assert res.exit_code == 2, res.output
    assert res.output.startswith(f"Error: ${name} must be a number") and "Traceback" not in res.output


def test_unexpected_json_shapes_from_gh_are_a_clean_tool_error(gh):
    (gh.data / "run-list.raw").write_text('{"message": "API rate limit exceeded"}')
    res = CliRunner().invoke(ci, ["status", "--cwd", str(gh.repo)])
    assert res.exit_code == 5, res.output
    assert "returned a JSON dict, expected a list" in res.output and "Traceback" not in res.output
    run = json.loads((gh.data / "run-9001.json").read_text())
    run["jobs"] = ["not-a-job", *run["jobs"]]
    (gh.data / "run-9001.json").write_text(json.dumps(run))
    t = triage_run("9001", gh.repo, use_memory=False)  # junk entries are skipped, the rest is read
    assert t.failed_jobs and t.classification == "test"
