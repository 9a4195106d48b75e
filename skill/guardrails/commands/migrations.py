"""Database schema migrations (prisma, rails/rake, alembic, flyway, knex, sequelize, goose …).

Applying migrations changes a live schema: routine on a development database (T2), an outage or
data loss risk on production (T4, ``migrate.production``). The environment comes from where the
tool reads its target: ``DATABASE_URL`` and similar variables, ``RAILS_ENV``/``NODE_ENV``,
``--env``/``-e``, connection URLs and settings-module names.
"""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx

# program -> words (any of them among the arguments) that apply migrations
_APPLY = {
    "prisma": ("deploy", "dev", "push"),
    "rails": ("db:migrate", "db:migrate:up", "db:rollback", "db:schema:load", "db:setup", "db:migrate:redo"),
    "rake": ("db:migrate", "db:migrate:up", "db:rollback", "db:schema:load", "db:setup", "db:migrate:redo"),
    "alembic": ("upgrade", "downgrade", "stamp"),
    "flyway": ("migrate", "undo", "repair", "baseline", "clean"),
    "knex": ("migrate:latest", "migrate:up", "migrate:down", "migrate:rollback"),
    "sequelize": ("db:migrate", "db:migrate:undo", "db:migrate:undo:all"),
    "sequelize-cli": ("db:migrate", "db:migrate:undo", "db:migrate:undo:all"),
    "goose": ("up", "up-by-one", "up-to", "down", "down-to", "redo", "reset"),
    "migrate": ("up", "down", "goto", "force", "drop"),
    "dbmate": ("up", "migrate", "rollback", "down", "drop"),
    "liquibase": ("update", "update-count", "rollback", "rollback-count", "drop-all"),
    "sqitch": ("deploy", "revert", "rebase"),
    "atlas": ("apply",),
    "typeorm": ("migration:run", "migration:revert", "schema:sync", "schema:drop"),
    "diesel": ("run", "revert", "redo"),
    "manage.py": ("migrate",),
}
# words that mean the migration removes data or the whole schema (T3 anywhere, T4 in production)
_DESTRUCTIVE = frozenset(
    {
        "clean",
        "drop",
        "drop-all",
        "schema:drop",
        "reset",
        "db:migrate:undo:all",
        "down",
        "downgrade",
        "revert",
    }
)
_ENV_VARS = (
    "DATABASE_URL",
    "DB_URL",
    "DB_HOST",
    "PGHOST",
    "PGDATABASE",
    "MYSQL_HOST",
    "RAILS_ENV",
    "RACK_ENV",
    "NODE_ENV",
    "APP_ENV",
    "ENVIRONMENT",
    "STAGE",
    "FLYWAY_URL",
    "GOOSE_DBSTRING",
    "DJANGO_SETTINGS_MODULE",
    "ALEMBIC_CONFIG",
)
_ENV_FLAGS = (
    "-e",
    "--env",
    "--environment",
    "-url",
    "--url",
    "-database",
    "--database",
    "--database-url",
    "--settings",
    "-configFiles",
    "--config",
    "-c",
    "-n",
    "--name",
    "-x",
    "--target",
    "--schema",
)
MIGRATION_TOOLS = frozenset(_APPLY)


def check(ctx: Ctx) -> None:
    tool = ctx.name
    words = [a for a in ctx.argv[1:] if not a.startswith("-")]
    if tool == "prisma" and words[:1] in (["migrate"], ["db"]):
        words = words[1:]
        if words[:1] == ["reset"] or ctx.has("--accept-data-loss", "--force-reset"):
            _judge(ctx, tool, "reset", destructive=True)
            return
    applying = [w for w in words if w in _APPLY[tool]]
    if not applying:
        # rails/rake/prisma do much besides migrations (`rake db:drop`): the generic verb rules judge it
        from skill.guardrails.commands.generic import check_unknown

        check_unknown(ctx, True)
        return
    _judge(ctx, tool, applying[0], destructive=applying[0] in _DESTRUCTIVE)


def _judge(ctx: Ctx, tool: str, verb: str, destructive: bool) -> None:
    from skill.environments import PRODUCTION, infer_environment

    hints = [ctx.assigns.get(v) for v in _ENV_VARS]
    hints += [v for flag in _ENV_FLAGS for v in ctx.values(flag)]
    hints += [
        a.split("=", 1)[1] for a in ctx.argv[1:] if "=" in a and a.split("=", 1)[0] in ("env", "environment")
    ]
    hints += [v.split("=", 1)[1] for v in ctx.values("-x") if "=" in v]  # alembic -x env=prod
    hints = [h for h in hints if h]
    ctx.env(*hints)
    production = infer_environment(*hints) == PRODUCTION
    label = f"{tool} {verb}"
    if production:
        # `env.production` is not added on top: this rule already is the production tier
        ctx.hit(4, "migrate.production", f"{label} changes the schema of a production database")
    elif destructive:
        ctx.hit(3, "migrate.destructive", f"{label} drops or reverts schema objects (data loss)")
    else:
        ctx.hit(2, "migrate.apply", f"{label} applies schema migrations (non-production)")
