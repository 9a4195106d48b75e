"""Shared pieces of the click commands: the one place domain errors become CLI errors.

Every ``DevopsError`` raised by the library is printed as a single ``Error: ...`` line on
stderr with its exit code; an unexpected exception becomes a one-line internal error
(exit 2; the traceback only with ``DEVOPS_DEBUG=1``).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import click

from skill.errors import EXIT_USAGE, DevopsError


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _invoke_with_clean_errors(invoke, ctx: click.Context) -> Any:
    """The one boundary: DevopsError -> its message and exit code; anything else -> one line."""
    try:
        return invoke(ctx)
    except DevopsError as exc:
        fail(str(exc), exc.exit_code)
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
        raise
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the boundary: never a traceback for users
        if os.environ.get("DEVOPS_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_USAGE)


class ErrorHandlingGroup(click.Group):
    """A click group that maps DevopsError (and anything unexpected) to a one-line error."""

    def invoke(self, ctx: click.Context) -> Any:
        return _invoke_with_clean_errors(super().invoke, ctx)


class ErrorHandlingCommand(click.Command):
    """A single command (not in a group of ours) with the same error mapping."""

    def invoke(self, ctx: click.Context) -> Any:
        return _invoke_with_clean_errors(super().invoke, ctx)


class LazyGroup(ErrorHandlingGroup):
    """Subcommands imported on first use: ``devops --help`` must not import langgraph or chromadb."""

    def __init__(self, *args: Any, lazy_commands: dict[str, tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            target, help_text = self.lazy_commands[name]
            module_name, attr = target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
                    return _unavailable(name, help_text)
                raise
            return getattr(module, attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help must not import every subcommand module: use the registered one-liners.
        rows = [(name, self.lazy_commands[name][1]) for name in sorted(self.lazy_commands)]
        rows += [(n, c.get_short_help_str()) for n, c in self.commands.items() if n not in self.lazy_commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))


def _unavailable(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        fail(f"'{name}' is not available in this build")

    return command


def echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "md", "sarif"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def not_blank(ctx: click.Context, param: click.Parameter, value):
    """Option callback: an empty value (``--since ""``) is a usage error, not "no filter"."""
    if isinstance(value, str) and not value.strip():
        raise click.BadParameter("must not be empty")
    return value


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (same as --format json).")


def resolve_format(fmt: str, as_json: bool) -> str:
    """--json is --format json; asking for both JSON and another explicit format is a usage error."""
    if not as_json:
        return fmt
    ctx = click.get_current_context(silent=True)
    explicit = ctx is not None and ctx.get_parameter_source("fmt") == click.core.ParameterSource.COMMANDLINE
    if explicit and fmt != "json":
        raise click.UsageError(f"--json and --format {fmt} ask for two formats; give one")
    return "json"


output_option = click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the report to this file instead of stdout.",
)


def emit(text: str, output: str | None) -> None:
    """Write a rendered report to ``output`` (atomically) or stdout."""
    if not output:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from skill.errors import InputError
    from skill.files import write_text

    try:
        write_text(output, text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
