"""gh and glab: repository/release/secret deletions and raw API DELETEs are risky, reads are T1."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_VALUE = frozenset(
    {
        "-R",
        "--repo",
        "-X",
        "--method",
        "-H",
        "--header",
        "-f",
        "--field",
        "-F",
        "--raw-field",
        "--jq",
        "-q",
        "-t",
        "--template",
        "--input",
        "-b",
        "--body",
        "-m",
        "--message",
        "--title",
        "-T",
        "-L",
        "--limit",
        "-s",
        "--state",
        "-l",
        "--label",
        "-a",
        "--assignee",
        "--ref",
        "-r",
        "--hostname",
        "--json",
        "-B",
        "--base",
        "--head",
        "-e",
        "--env",
        "--org",
        "-o",
        "--output",
        "-g",
        "--group",
        "--visibility",
        "-w",
        "--workflow",
        "--body-file",
        "--notes",
        "-n",
        "--notes-file",
        "--branch",
        "--description",
        "--milestone",
        "--reviewer",
        "--app",
        "--user",
        "--page",
        "--per-page",
        "--scope",
    }
)
_READ_VERBS = frozenset(
    {
        "list",
        "ls",
        "view",
        "status",
        "diff",
        "checks",
        "watch",
        "search",
        "browse",
        "download",
        "logs",
        "log",
        "trace",
        "get",
        "show",
        "lint",
        "version",
        "help",
        "config",
        "completion",
        "token",
        "--version",
    }
)
_CRITICAL = {("repo", "delete"), ("project", "delete")}
_RISKY = {
    ("repo", "archive"),
    ("release", "delete"),
    ("release", "delete-asset"),
    ("gist", "delete"),
    ("issue", "delete"),
    ("secret", "delete"),
    ("secret", "remove"),
    ("secret", "set"),
    ("variable", "delete"),
    ("variable", "remove"),
    ("run", "cancel"),
    ("run", "delete"),
    ("ci", "delete"),
    ("ci", "cancel"),
    ("workflow", "disable"),
    ("deploy-key", "delete"),
    ("ssh-key", "delete"),
    ("gpg-key", "delete"),
    ("cache", "delete"),
    ("label", "delete"),
    ("ruleset", "delete"),
    ("environment", "delete"),
    ("schedule", "delete"),
    ("token", "revoke"),
    ("auth", "logout"),
    ("repo", "rename"),
    ("repo", "transfer"),
    ("mr", "delete"),
    ("pr", "delete"),
}


# Workflow inputs that name the environment a run deploys to (`gh workflow run deploy.yml -f environment=prod`).
_ENV_INPUTS = frozenset({"environment", "env", "stage", "target", "deploy_env", "deploy_environment", "tier"})


def check(ctx: Ctx) -> None:
    ctx.env(ctx.value("-R", "--repo"), ctx.value("-e", "--env"), ctx.value("--hostname"))
    for field in ctx.values("-f", "-F", "--field", "--raw-field", "--variables", "-V"):
        key, _, value = (
            field.replace(":", "=", 1).partition("=") if "=" not in field else field.partition("=")
        )
        if key.strip().lower() in _ENV_INPUTS:
            ctx.env(value)
    pos = positionals(ctx.args, _VALUE)
    if not pos or pos[0] in ("help", "version", "completion", "status", "browse", "search"):
        ctx.hit(1, "forge.read", f"{ctx.name} {' '.join(pos[:1])}")
        return
    group = pos[0]
    verb = pos[1] if len(pos) > 1 else ""
    if group == "api":
        _api(ctx)
        return
    if group == "repo" and verb in ("deploy-key",) and len(pos) > 2:
        group, verb = "deploy-key", pos[2]
    if group in ("secret", "variable") and verb in ("set",) and group == "variable":
        ctx.hit(2, "forge.variable-set", f"{ctx.name} variable set")
        return
    if (group, verb) in _CRITICAL:
        ctx.hit(4, "forge.repo-delete", f"{ctx.name} {group} {verb} permanently deletes the repository")
    elif (group, verb) in _RISKY:
        ctx.hit(3, f"forge.{group}-{verb}", f"{ctx.name} {group} {verb}")
    elif group in ("pr", "mr") and verb == "merge" and ctx.has("--admin"):
        ctx.hit(3, "forge.merge-admin", "merges bypassing branch protection")
    elif group == "repo" and verb == "edit" and ctx.has("--visibility"):
        ctx.hit(3, "forge.repo-visibility", "changes repository visibility")
    elif verb in _READ_VERBS or group in ("auth",) and verb == "status":
        ctx.hit(1, "forge.read", f"{ctx.name} {group} {verb} only reads")
    else:
        ctx.hit(2, "forge.change", f"{ctx.name} {group} {verb}")


def _api(ctx: Ctx) -> None:
    method = ctx.value("-X", "--method")
    for arg in ctx.argv[1:]:
        if arg.startswith("-X") and len(arg) > 2 and not arg.startswith("--"):
            method = arg[2:]
    has_fields = ctx.has("-f", "--field", "-F", "--raw-field", "--input")
    method = (method or ("POST" if has_fields else "GET")).upper()
    pos = positionals(ctx.args, _VALUE)
    endpoint = pos[1] if len(pos) > 1 else ""
    if method == "DELETE":
        critical = endpoint.strip("/").count("/") <= 2 and endpoint.strip("/").startswith(
            ("repos/", "projects/")
        )
        ctx.hit(4 if critical else 3, "forge.api-delete", f"{ctx.name} api DELETE {endpoint}")
    elif method in ("GET", "HEAD"):
        if endpoint.startswith("graphql") and "mutation" in " ".join(ctx.argv):
            ctx.hit(2, "forge.api-write", "GraphQL mutation")
        else:
            ctx.hit(1, "forge.read", f"{ctx.name} api GET {endpoint}")
    else:
        ctx.hit(2, "forge.api-write", f"{ctx.name} api {method} {endpoint}")
