"""The blameless post-mortem draft, filled from the memory records."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from skill.cli import cli
from skill.errors import NotFoundError
from skill.memory import Memory
from skill.nodes.incident import draft_postmortem
from skill.nodes.incident.postmortem import template_path


@pytest.fixture
def incident_id():
    with Memory.open() as mem:
        mem.record_deployment("api", "production", "v1.3.9", strategy="rolling")
        mem.record_deployment("api", "production", "v1.4.0", strategy="canary")
        inc = mem.open_incident(
            "checkout 5xx after v1.4.0", severity="SEV2", service="api", summary="5xx rate at 9% on checkout"
        )
        mem.update_incident(inc.id, status="mitigated")
        mem.record_deployment("api", "production", "v1.3.9", strategy="rollback", rolled_back_from="v1.4.0")
        mem.resolve_incident(
            inc.id, resolution="rolled back to v1.3.9", root_cause="cache key collision in v1.4.0"
        )
    return inc.id


def test_template_is_blameless_with_every_section():
    text = template_path().read_text()
    assert "Blameless" in text
    for section in (
        "## Timeline",
        "## Impact",
        "## Root cause",
        "## What went well",
        "## What went wrong",
        "## Action items",
    ):
        assert section in text
    assert "{title}" in text and "{timeline}" in text


def test_draft_is_filled_from_the_records(incident_id):
    md = draft_postmortem(incident_id)
    assert md.startswith("# Post-mortem: checkout 5xx after v1.4.0")
    assert "SEV2 (degraded)" in md and "notify eng lead" in md
    assert "cache key collision in v1.4.0" in md and "rolled back to v1.3.9" in md
    timeline = md.split("## Timeline (UTC)")[1].split("##")[0]
    lines = [line for line in timeline.splitlines() if line.startswith("- ")]
    assert any("Deploy of api v1.4.0" in line for line in lines)
    assert any("Rollback of api in production from v1.4.0 to v1.3.9" in line for line in lines)
    assert any("status=mitigated" in line for line in lines)
    assert lines[-1].split(" ", 2)[2].startswith("Resolved")
    stamps = [line.split(" ")[1] for line in lines]
    assert stamps == sorted(stamps)
    assert "v1.4.0 reached production and had to be rolled back" in md
    assert re.search(r"\| 1 \| .+ \| .+ \|", md)  # at least one action item row
    assert "{" not in md.replace("{devops", "")  # no unfilled variable left


def test_refine_hook_is_used_and_its_failure_keeps_the_draft(incident_id):
    seen = {}

    def refine(draft, values):
        seen.update(values)
        return draft.replace("# Post-mortem:", "# Refined post-mortem:")

    assert draft_postmortem(incident_id, refine=refine).startswith("# Refined post-mortem:")
    assert seen["incident_id"] == incident_id

    def broken(draft, values):
        raise TimeoutError("LLM timed out")

    assert draft_postmortem(incident_id, refine=broken).startswith("# Post-mortem:")


def test_unknown_incident_is_not_found():
    with pytest.raises(NotFoundError):
        draft_postmortem("INC-404")


def test_cli_postmortem_writes_the_file(incident_id, tmp_path):
    out = tmp_path / "pm.md"
    result = CliRunner().invoke(
        cli, ["incident", "postmortem", incident_id, "--output", str(out), "--no-refine"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Post-mortem: checkout 5xx after v1.4.0")
    missing = CliRunner().invoke(cli, ["incident", "postmortem", "INC-404"])
    assert missing.exit_code == 2 and "INC-404" in missing.stderr


def test_a_project_template_overrides_the_shipped_one(incident_id, tmp_path, monkeypatch):
    project = tmp_path / "proj"
    (project / ".devops" / "prompts").mkdir(parents=True)
    (project / ".devops" / "prompts" / "postmortem.md").write_text(
        "PM {incident_id}: {root_cause} {unknown_var}\n"
    )
    monkeypatch.setenv("DEVOPS_PROJECT_DIR", str(project))
    assert (
        draft_postmortem(incident_id) == f"PM {incident_id}: cache key collision in v1.4.0 {{unknown_var}}\n"
    )


def test_unwritable_postmortem_output_is_a_one_line_error(incident_id, tmp_path):
    target = tmp_path / "missing-dir" / "pm.md"
    result = CliRunner().invoke(cli, ["incident", "postmortem", incident_id, "--output", str(target)])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: cannot write {target}: No such file or directory"


def test_braces_in_a_project_template_are_kept_as_written(incident_id, tmp_path, monkeypatch):
    # JSON, code and format-like text in a team's template must not break the draft
    project = tmp_path / "proj"
    (project / ".devops" / "prompts").mkdir(parents=True)
    (project / ".devops" / "prompts" / "postmortem.md").write_text(
        'PM {incident_id}\n```json\n{"alert": {"for": "5m"}, "n": {0}}\n```\nlone } and { here\n'
    )
    monkeypatch.setenv("DEVOPS_PROJECT_DIR", str(project))
    draft = draft_postmortem(incident_id)
    assert (
        draft
        == f'PM {incident_id}\n```json\n{{"alert": {{"for": "5m"}}, "n": {{0}}}}\n```\nlone }} and {{ here\n'
    )
    result = CliRunner().invoke(cli, ["incident", "postmortem", incident_id, "--no-refine"])
    assert result.exit_code == 0 and '{"alert": {"for": "5m"}' in result.stdout
