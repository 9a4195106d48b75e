"""The docs tell the truth: SKILL.md is a valid Agent Skill, every command the docs show exists with
the options shown, and every CLI command is documented somewhere a user will look."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
PROGRAMS = ("devops", "guardrails.py", "memory.py")
_PREFIX = re.compile(r"^(?:\$\{CLAUDE_SKILL_DIR\}/scripts/|\./|\.venv/bin/|python3? )*")


def frontmatter(path: Path) -> dict:
    text = path.read_text()
    assert text.startswith("---\n"), "SKILL.md must start with YAML frontmatter"
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_skill_frontmatter_is_valid_agent_skills_format():
    meta = frontmatter(REPO / "SKILL.md")
    assert set(meta) <= ALLOWED_KEYS, f"keys outside the Agent Skills spec: {set(meta) - ALLOWED_KEYS}"
    name = meta["name"]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) and len(name) <= 64
    description = meta["description"]
    assert 0 < len(description) <= 1024
    assert "<" not in description and ">" not in description
    assert "use it" in description.lower() or "use when" in description.lower()
    if "compatibility" in meta:
        assert len(meta["compatibility"]) <= 500


def test_skill_body_is_short_and_its_references_exist():
    text = (REPO / "SKILL.md").read_text()
    assert len(text.splitlines()) < 500
    for target in re.findall(r"\]\((references/[^)]+)\)", text):
        assert (REPO / "docs" / target).is_file(), f"SKILL.md points at missing {target}"


def _doc_files() -> list[Path]:
    return [REPO / "SKILL.md", REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _command_lines(text: str) -> list[str]:
    """Command invocations shown in fenced blocks and inline code spans."""
    candidates: list[str] = []
    for block in re.findall(r"```(?:bash|sh|console|shell)\n(.*?)```", text, re.S):
        candidates.extend(block.splitlines())
    candidates.extend(re.findall(r"`([^`\n]+)`", text))
    out = []
    for raw in candidates:
        line = raw.strip().lstrip("$ ").strip()
        line = re.split(r"\s+#\s", line)[0]
        for piece in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
            piece = _PREFIX.sub("", piece.strip())
            # "…" marks an elided example ("devops memory …"), not a command to check.
            if piece.split(" ", 1)[0] in PROGRAMS and " " in piece and "…" not in piece:
                out.append(piece)
    return out


def _shown_commands() -> list[tuple[str, str]]:
    return [
        (path.name, line)
        for path in _doc_files()
        if path.exists()
        for line in _command_lines(path.read_text())
    ]


def _click_root(program: str) -> click.Command:
    if program == "devops":
        from skill.cli import cli

        return cli
    from skill.memory.cli import cli

    return cli


def _resolve(root: click.Command, words: list[str]) -> tuple[click.Command, list[str]]:
    """Walk subcommands; return the leaf command and the remaining words."""
    command = root
    ctx = click.Context(root)
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.get_command(ctx, words[0])
        if sub is None:
            return command, words
        command, words = sub, words[1:]
    return command, words


def _options(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


@pytest.mark.parametrize("doc,line", _shown_commands())
def test_every_command_shown_in_the_docs_exists_with_its_options(doc, line):
    try:
        words = shlex.split(line)
    except ValueError:
        pytest.fail(f"{doc}: cannot parse {line!r}")
    program, args = words[0], words[1:]
    flags = [w.split("=", 1)[0] for w in args if w.startswith("-") and w not in ("-", "--")]
    if program == "guardrails.py":
        sub = next((w for w in args if not w.startswith("-")), None)
        help_args = [sub, "--help"] if sub else ["--help"]
        proc = subprocess.run(
            [sys.executable, str(REPO / "guardrails.py"), *help_args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, f"{doc}: `{line}`: {proc.stderr.strip()}"
        for flag in flags:
            assert flag in proc.stdout, f"{doc}: `{line}` uses {flag}, not in `guardrails.py {sub} --help`"
        return
    command, rest = _resolve(_click_root(program), args)
    assert not isinstance(command, click.Group) or not rest or rest[0].startswith("-"), (
        f"{doc}: `{line}`: unknown subcommand {rest[:1]}"
    )
    known = _options(command)
    for flag in flags:
        assert flag in known, f"{doc}: `{line}` uses {flag}, which `{program} …` does not have"


def _leaf_paths(group: click.Group, prefix: str) -> list[str]:
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if isinstance(sub, click.Group):
            paths.extend(_leaf_paths(sub, f"{prefix} {name}"))
        else:
            paths.append(f"{prefix} {name}")
    return paths


def test_every_cli_command_is_documented():
    from skill.cli import cli

    docs = "\n".join(p.read_text() for p in _doc_files() if p.exists())
    # `devops memory X` is the same command as `memory.py X`; either spelling documents it.
    missing = [
        path
        for path in _leaf_paths(cli, "devops")
        if path not in docs and path.replace("devops memory ", "memory.py ", 1) not in docs
    ]
    assert not missing, f"commands without documentation: {missing}"
