"""``devops db``: where each store lives (SQLite files or the team PostgreSQL database), schema
migrations, and copying a laptop's stores into the team database."""

from __future__ import annotations

import click

from skill.cli_support import ErrorHandlingGroup, echo_json


@click.group("db", cls=ErrorHandlingGroup)
def db():
    """The stores: SQLite files in the data dir, or one PostgreSQL database (DEVOPS_DATABASE_URL)."""


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per store.")
def status_cmd(as_json):
    """Each store's backend, location and schema version (read-only).

    \b
    devops db status
    DEVOPS_DATABASE_URL=postgresql://devops@db.internal/devops devops db status --json
    """
    from skill.storage.manage import status, team_database

    team = team_database()
    rows = status()
    if as_json:
        echo_json([r.model_dump() for r in rows])
        return
    if team:
        click.echo(f"team database: {team[0]} (PostgreSQL {team[1]})")
    for r in rows:
        version = "not created yet" if r.version is None else f"schema v{r.version} (code knows v{r.known})"
        click.echo(f"{r.store:<10} {r.backend:<8} {version:<34} {r.location}")


@db.command("migrate")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per store: version before and after.")
def migrate_cmd(as_json):
    """Apply the schema migrations every store is missing (they also apply on first use).

    On PostgreSQL run it as the database owner: the application role may lack the right to
    change tables (docs/team.md lists the grants).

    \b
    devops db migrate
    """
    from skill.storage.manage import migrate_all

    results = migrate_all()
    if as_json:
        echo_json([{**was.model_dump(), "migrated_to": now} for was, now in results])
        return
    for was, now in results:
        have = "new" if was.version is None else f"v{was.version}"
        change = f"{have} -> v{now}" if was.version != now else f"v{now} (up to date)"
        click.echo(f"{was.store:<10} {was.backend:<8} {change}")


@db.command("copy")
@click.option(
    "--from",
    "source",
    type=click.Choice(["sqlite"]),
    default="sqlite",
    show_default=True,
    help="Copy from this machine's embedded SQLite stores (the data dir, $DEVOPS_HOME).",
)
@click.option("--to", "target", default=None, help="The team database URL (default: DEVOPS_DATABASE_URL).")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per store and table: copied, already_there."
)
def copy_cmd(source, target, as_json):
    """Copy the embedded stores into the team PostgreSQL database; a rerun copies nothing twice.

    Every store's tables, the LangGraph checkpoints of the runs (a run paused here is then
    approved from any host), the pending approval requests, the flag history and memory.db's
    records; each line says how many rows were copied and how many were already there.

    \b
    devops db copy --from sqlite --to postgresql://devops@db.internal/devops
    """
    from skill.errors import UsageError
    from skill.storage import database_url
    from skill.storage.manage import copy_to

    url = target or database_url()
    if not url:
        raise UsageError(
            "no team database to copy to", hint="pass --to postgresql://... or set DEVOPS_DATABASE_URL"
        )
    results = copy_to(url)
    if as_json:
        echo_json([r.model_dump() for r in results])
        return
    if not results:
        click.echo("nothing to copy: no embedded store with rows in this data dir")
    for r in results:
        click.echo(f"{r.store}.{r.table}: {r.copied} copied, {r.already_there} already there")
