"""``devops readiness PATH``: the thin click command over ``review()``."""

from __future__ import annotations

import click

from skill.cli_support import emit, format_option, json_option, output_option, resolve_format
from skill.errors import EXIT_FINDINGS, EXIT_OK, InputError
from skill.nodes.readiness.checks import rules
from skill.nodes.readiness.loader import REPORT_MARKER
from skill.report import print_table, to_json, to_markdown, to_sarif


def _anchored(findings, path: str):
    """Code scanning rejects results without a location: anchor repository-level ones to a file."""
    from pathlib import Path

    target = Path(path)
    anchor = target.name
    if target.is_dir():
        names = ("README.md", "README.rst", "README", "CODEOWNERS")
        found = [n for n in names if (target / n).is_file()]
        files = found or sorted(p.name for p in target.iterdir() if p.is_file())
        anchor = files[0] if files else "."
    return [f if f.file else f.model_copy(update={"file": anchor, "line": 1}) for f in findings]


@click.command("readiness")
@click.argument("path", type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option(
    "--env", "env", default="production", show_default=True, help="Environment the service goes to."
)
@click.option(
    "--level", "level", default=None, help="Target level L1..L4 (default: [readiness.targets] for --env)."
)
@format_option
@json_option
@output_option
@click.option("--all", "show_all", is_flag=True, help="Text/Markdown: also list passing and n/a checks.")
@click.option(
    "--with",
    "with_peers",
    multiple=True,
    metavar="PEER",
    help="Also run a peer scanner and merge its results: checkov (Kubernetes, Terraform), hadolint "
    "(Dockerfiles). Repeatable. Exit 2 when it is not installed.",
)
def readiness(
    path: str,
    env: str,
    level: str | None,
    fmt: str,
    as_json: bool,
    output: str | None,
    show_all: bool,
    with_peers: tuple[str, ...],
) -> None:
    """Score PATH (a repository, folder or file) L1-L4 for production readiness.

    \b
    Exit 0 when the target level is met, 1 when not, 2 on usage errors.
    Example: devops readiness examples/sample-service --env production --format json
    """
    from skill.nodes.readiness import review
    from skill.peers import parse_with, peer_rules

    fmt = resolve_format(fmt, as_json)
    rep = review(path, env=env, target_level=level, peers=parse_with(with_peers))
    title = f"{REPORT_MARKER[3:]}{path}"
    blocking = list(dict.fromkeys(f.id for f in rep.failing(rep.target_level)))
    try:
        if fmt == "json":
            emit(to_json(rep.to_json_dict()), output)
        elif fmt == "sarif":
            sarif_rules = [*rules(), *peer_rules(rep.checks)]
            emit(to_sarif("devops-readiness", _anchored(rep.checks, path), sarif_rules), output)
        elif fmt == "md":
            verdict = ":white_check_mark: **GO**" if rep.go else ":x: **NO-GO**"
            lines = [
                f"{verdict}: level achieved **{rep.level_achieved}**, target **{rep.target_level}** ({rep.env})."
            ]
            if blocking:
                ids = ", ".join(f"`{i}`" for i in blocking)
                lines.append(f"Blocking {rep.target_level}: {ids}.")
            emit(to_markdown(title, rep.checks, summary_lines=lines, show_passing=show_all), output)
        else:
            footer = rep.summary()
            if blocking:
                footer += f"\nBlocking {rep.target_level}: " + ", ".join(blocking)
            if output:
                from rich.console import Console

                with open(output, "w", encoding="utf-8") as fh:
                    console = Console(file=fh, width=160)
                    print_table(title, rep.checks, show_passing=show_all, console=console, footer=footer)
            else:
                print_table(title, rep.checks, show_passing=show_all, footer=footer)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    raise SystemExit(EXIT_OK if rep.go else EXIT_FINDINGS)
