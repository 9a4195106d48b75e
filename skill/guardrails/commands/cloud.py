"""aws, gcloud/gsutil, az, doctl, eksctl: judged by the operation verb (describe/list vs delete)."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_AWS_GLOBAL_VALUE = frozenset(
    {
        "--profile",
        "--region",
        "--output",
        "--endpoint-url",
        "--query",
        "--color",
        "--ca-bundle",
        "--cli-read-timeout",
        "--cli-connect-timeout",
        "--cli-binary-format",
    }
)
_READ_PREFIXES = (
    "describe",
    "list",
    "get",
    "head",
    "batch-get",
    "search",
    "lookup",
    "test",
    "validate",
    "estimate",
    "preview",
    "simulate",
    "filter",
    "wait",
    "help",
    "show",
    "check",
    "verify",
    "query",
    "scan",
    "receive-message",
    "generate-",
    "decode",
    "download",
    "select",
    "export",
    "info",
    "version",
    "exists",
    "ls",
    "tail",
)
_DESTRUCTIVE_PREFIXES = (
    "delete",
    "batch-delete",
    "terminate",
    "deregister",
    "remove",
    "purge",
    "schedule-key-deletion",
    "disable",
    "revoke",
    "detach",
    "disassociate",
    "unsubscribe",
    "destroy",
    "undeploy",
    "untag",
    "deallocate",
    "reset",
    "cancel",
    "abort",
    "rm",
    "rb",
    "wipe",
    "drop",
    "stop",
)
# Deleting these loses data or whole environments: T4 rather than T3.
_CRITICAL_OPS = frozenset(
    """delete-db-instance delete-db-cluster delete-table delete-bucket delete-cluster delete-file-system
    terminate-instances schedule-key-deletion delete-stack delete-hosted-zone delete-repository
    delete-global-cluster delete-replication-group delete-cache-cluster delete-stream delete-volume
    delete-vault delete-backup-vault delete-domain delete-keyspace delete-database delete-graph
    projects-delete purge delete-db-cluster-snapshot delete-db-snapshot delete-snapshot delete-objects""".split()
)
_SECRET_WRITE = (
    "put-secret-value",
    "update-secret",
    "restore-secret",
    "rotate-secret",
    "replicate-secret-to-regions",
    "remove-regions-from-replication",
    "put-resource-policy",
)


def _resource_hints(ctx: Ctx) -> None:
    """Bucket, cluster and project names say which environment they belong to (`s3://acme-web-prod`)."""
    ctx.env(ctx.value("--cluster"), ctx.value("--bucket"), ctx.value("--cluster-name"))
    for arg in ctx.argv[1:]:
        if arg.startswith(("s3://", "gs://", "az://", "abfss://")):
            ctx.env(arg.split("://", 1)[1].split("/", 1)[0])


def check(ctx: Ctx) -> None:
    _resource_hints(ctx)
    if ctx.name == "aws":
        _aws(ctx)
    elif ctx.name in ("gcloud",):
        _gcloud(ctx)
    elif ctx.name == "gsutil":
        _gsutil(ctx)
    elif ctx.name == "az":
        _az(ctx)
    elif ctx.name == "bq":
        pos = positionals(ctx.args, frozenset({"--project_id", "--location", "--format", "--dataset_id"}))
        ctx.env(ctx.value("--project_id"))
        if pos and pos[0] in ("rm",):
            ctx.hit(
                3 if not (ctx.short("r") or ctx.has("--recursive")) else 4,
                "cloud.delete",
                "bq rm deletes tables or datasets",
            )
        elif pos and pos[0] == "query":
            sql = " ".join(pos[1:])
            ctx.run_sql(sql, "bigquery")
            ctx.hit(1, "cloud.read", "bq query (statements analysed)")
        elif pos and pos[0] in ("ls", "show", "head", "version", "help"):
            ctx.hit(1, "cloud.read", f"bq {pos[0]}")
        else:
            ctx.hit(2, "cloud.change", f"bq {' '.join(pos[:1])}")
    else:  # doctl, eksctl
        pos = positionals(
            ctx.args,
            frozenset(
                {
                    "--context",
                    "-t",
                    "--access-token",
                    "--region",
                    "--name",
                    "--cluster",
                    "-o",
                    "--output",
                    "-f",
                    "--config-file",
                    "--profile",
                }
            ),
        )
        ctx.env(ctx.value("--context", "--profile"), ctx.value("--cluster"))
        _by_verb(ctx, pos, f"{ctx.name} {' '.join(pos[:3])}")


def _forms(prefixes: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """A verb matches a prefix as the whole word or as its first dash-separated part(s)."""
    return frozenset(p.rstrip("-") for p in prefixes), tuple(
        p if p.endswith("-") else p + "-" for p in prefixes
    )


_DESTRUCTIVE_FORMS = _forms(_DESTRUCTIVE_PREFIXES)
_READ_FORMS = _forms(_READ_PREFIXES)


def _verb_kind(verb: str) -> str:
    v = verb.lower()
    if v in _DESTRUCTIVE_FORMS[0] or v.startswith(_DESTRUCTIVE_FORMS[1]):
        return "destructive"
    if v in _READ_FORMS[0] or v.startswith(_READ_FORMS[1]):
        return "read"
    return "change"


def _by_verb(ctx: Ctx, words: list[str], label: str) -> None:
    """The first verb-like word decides: read (describe/list/get…), destructive (delete/…) or a change."""
    for i, word in enumerate(words):
        kind = _verb_kind(word)
        if kind == "read":
            ctx.hit(1, "cloud.read", f"{label} only reads")
            return
        if kind == "destructive":
            groups = words[:i]
            critical = word in _CRITICAL_OPS or any(
                g
                in (
                    "projects",
                    "clusters",
                    "instances",
                    "databases",
                    "keyvault",
                    "group",
                    "aks",
                    "cosmosdb",
                    "server",
                    "managed-zones",
                    "zone",
                )
                for g in groups
            )
            if word.startswith("stop"):
                ctx.hit(3, "cloud.stop", f"{label} stops running resources")
            elif critical and word.startswith(
                ("delete", "destroy", "purge", "terminate", "schedule-key-deletion")
            ):
                ctx.hit(4, "cloud.delete-critical", f"{label} deletes data or whole environments")
            else:
                ctx.hit(3, "cloud.delete", f"{label} deletes or detaches cloud resources")
            return
    ctx.hit(2, "cloud.change", f"{label} changes cloud resources")


def _aws(ctx: Ctx) -> None:
    profile = (
        ctx.value("--profile")
        or ctx.assigns.get("AWS_PROFILE")
        or ctx.assigns.get("AWS_DEFAULT_PROFILE")
        or ctx.assigns.get("AWS_VAULT")
    )
    ctx.env(profile)
    pos = positionals(ctx.args, _AWS_GLOBAL_VALUE | _AWS_OP_VALUE)
    if not pos or "help" in pos[:3]:
        ctx.hit(1, "cloud.read", "aws help/version")
        return
    service = pos[0]
    op = pos[1] if len(pos) > 1 else ""
    label = f"aws {service} {op}".strip()
    not_dry = ctx.has("--no-dry-run") or any(a == "--dry-run=false" for a in ctx.argv)
    if service == "ec2" and ctx.has("--dry-run") and not not_dry:
        ctx.hit(1, "cloud.dry-run", "aws ec2 --dry-run only checks permissions")
        return
    if service == "s3":
        _aws_s3(ctx, op, label)
        return
    sql = ctx.value("--query-string", "--sql", "--statement")
    if sql is None:
        raw = ctx.value("--cli-input-json")
        if raw and raw.lstrip().startswith("{"):
            import json

            try:
                doc = json.loads(raw)
                sql = doc.get("QueryString") or doc.get("Sql") or doc.get("Statement")
            except (ValueError, AttributeError):
                ctx.hit(3, "cloud.unparsed-input", "aws --cli-input-json could not be read")
    if sql:
        ctx.run_sql(sql, "athena")
    if service == "secretsmanager" and op in _SECRET_WRITE:
        ctx.hit(3, "cloud.secret-write", f"{label} overwrites or re-keys a secret")
        return
    if service == "cloudfront" and op == "create-invalidation":
        paths = " ".join(ctx.values("--paths")) + " " + " ".join(positionals(ctx.args))
        if "/*" in paths:
            ctx.hit(3, "cloud.cdn-invalidate-all", "invalidates every cached path (origin load spike)")
            return
    _by_verb(ctx, [op], label)
    if op.startswith("start-query-execution") or op == "execute-statement":
        pass


_AWS_OP_VALUE = frozenset(
    {
        "--query-string",
        "--cli-input-json",
        "--bucket",
        "--key",
        "--stack-name",
        "--table-name",
        "--instance-ids",
        "--queue-url",
        "--secret-id",
        "--name",
        "--id",
        "--paths",
        "--include",
        "--exclude",
        "--storage-class",
        "--acl",
        "--sse",
        "--expires-in",
        "--content-type",
        "--cache-control",
        "--metadata",
        "--sql",
    }
)


def _aws_s3(ctx: Ctx, op: str, label: str) -> None:
    if ctx.has("--dryrun"):
        ctx.hit(1, "cloud.dry-run", "aws s3 --dryrun only prints what it would do")
    elif op in ("ls", "presign"):
        ctx.hit(1, "cloud.read", f"{label} only reads")
    elif op == "rm":
        if ctx.has("--recursive"):
            ctx.hit(4, "cloud.s3-rm-recursive", "deletes every object under the prefix")
        else:
            ctx.hit(3, "cloud.delete", "deletes an S3 object")
    elif op == "rb":
        ctx.hit(
            4 if ctx.has("--force") else 3,
            "cloud.s3-rb",
            "removes a bucket" + (" and all its objects" if ctx.has("--force") else ""),
        )
    elif op == "sync" and ctx.has("--delete"):
        ctx.hit(3, "cloud.s3-sync-delete", "aws s3 sync --delete removes objects missing from the source")
    elif op == "mv":
        ctx.hit(2, "cloud.change", "moves S3 objects")
    else:
        ctx.hit(2, "cloud.change", f"{label} uploads or copies objects")


def _gcloud(ctx: Ctx) -> None:
    ctx.env(
        ctx.value("--project"),
        ctx.value("--configuration"),
        ctx.value("--impersonate-service-account"),
        ctx.assigns.get("CLOUDSDK_CORE_PROJECT"),
        ctx.assigns.get("GOOGLE_CLOUD_PROJECT"),
    )
    pos = positionals(
        ctx.args,
        frozenset(
            {
                "--project",
                "--configuration",
                "--impersonate-service-account",
                "--account",
                "--format",
                "--verbosity",
                "--region",
                "--zone",
                "--location",
                "--filter",
                "--limit",
                "--config-file",
                "--flags-file",
                "--billing-project",
            }
        ),
    )
    words = [w for w in pos if w not in ("alpha", "beta", "preview")]
    if not words or words[0] in (
        "info",
        "version",
        "help",
        "auth",
        "components",
        "topic",
        "init",
        "feedback",
        "cheat-sheet",
    ):
        ctx.hit(1, "cloud.read", f"gcloud {' '.join(words[:2])}")
        return
    if words[0] == "config":
        ctx.hit(1 if words[1:2] in (["list"], ["get-value"], ["get"]) else 2, "cloud.config", "gcloud config")
        return
    if words[:2] == ["storage", "rm"]:
        ctx.hit(
            4 if ctx.short("r") or ctx.has("--recursive") else 3,
            "cloud.delete",
            "gcloud storage rm deletes objects",
        )
        return
    # The verb is the first word after the resource groups that looks like an operation.
    verbs = [w for w in words[:5] if "/" not in w and "@" not in w and ":" not in w]
    _by_verb(ctx, verbs, "gcloud " + " ".join(words[:4]))


def _gsutil(ctx: Ctx) -> None:
    pos = positionals(ctx.args, frozenset({"-o", "-h", "-p", "-u"}))
    sub = pos[0] if pos else ""
    if sub in ("rm",):
        ctx.hit(
            4 if ctx.short("r") or ctx.short("R") or ctx.short("a") else 3,
            "cloud.delete",
            "gsutil rm deletes objects",
        )
    elif sub == "rb":
        ctx.hit(4, "cloud.delete-critical", "gsutil rb removes a bucket")
    elif sub == "rsync" and ctx.short("d"):
        ctx.hit(3, "cloud.sync-delete", "gsutil rsync -d deletes objects missing from the source")
    elif sub in ("ls", "cat", "du", "stat", "help", "version", "hash", "signurl", "") or sub.endswith("get"):
        ctx.hit(1, "cloud.read", f"gsutil {sub}")
    else:
        ctx.hit(2, "cloud.change", f"gsutil {sub}")


def _az(ctx: Ctx) -> None:
    ctx.env(
        ctx.value("--subscription"),
        ctx.value("-g", "--resource-group"),
        ctx.assigns.get("AZURE_SUBSCRIPTION_ID"),
    )
    pos = positionals(
        ctx.args,
        frozenset(
            {
                "--subscription",
                "-g",
                "--resource-group",
                "-n",
                "--name",
                "--query",
                "-o",
                "--output",
                "--id",
                "--ids",
                "-c",
                "--container",
                "--container-name",
                "--account-name",
                "--vault-name",
                "--image",
                "--assignee",
                "--role",
                "--scope",
                "-f",
                "--file",
                "-d",
                "-s",
                "--location",
                "-l",
                "--template-file",
                "--parameters",
                "--database-name",
            }
        ),
    )
    if not pos or pos[0] in (
        "version",
        "login",
        "logout",
        "account",
        "find",
        "upgrade",
        "interactive",
        "configure",
        "extension",
        "cloud",
        "feedback",
        "bicep",
    ):
        ctx.hit(1, "cloud.read", f"az {' '.join(pos[:2])}")
        return
    if (
        ("what-if" in pos or ctx.has("--what-if", "-w"))
        and pos[0] == "deployment"
        and not ctx.has("--confirm-with-what-if", "-c")
    ):
        ctx.hit(1, "cloud.dry-run", "az deployment what-if only previews")
        return
    label = "az " + " ".join(pos[:4])
    if "purge" in pos:
        ctx.hit(4, "cloud.purge", f"{label} permanently purges (no recovery)")
        return
    _by_verb(ctx, pos[:5], label)
