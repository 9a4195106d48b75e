"""Per-tool rule families for raw shell commands.

Each family module exposes ``check(ctx)`` and records hits on the :class:`Ctx` it receives.
Modules are imported lazily (only the families a command needs) to keep hook start-up cheap.
"""

from __future__ import annotations

import importlib

from skill.guardrails.commands._base import Ctx

__all__ = ["Ctx", "family_for", "run_family"]

# command name -> family module
_FAMILIES: dict[str, str] = {}


def _register(module: str, *names: str) -> None:
    for name in names:
        _FAMILIES[name] = module


_register("git", "git", "git-lfs")
_register(
    "filesystem",
    "rm",
    "rmdir",
    "rimraf",
    "del-cli",
    "unlink",
    "find",
    "dd",
    "mkfs",
    "shred",
    "truncate",
    "chmod",
    "chown",
    "chgrp",
    "mv",
    "cp",
    "ln",
    "wipefs",
    "fdisk",
    "sfdisk",
    "parted",
    "gdisk",
    "sgdisk",
    "mkswap",
    "blkdiscard",
    "srm",
    "install",
    "setfacl",
    "tee",
    "lvremove",
    "vgremove",
    "pvremove",
    "dmsetup",
    "mount",
    "umount",
    "tar",
    "split",
    "touch",
    "mkdir",
)
_register(
    "iac", "terraform", "tofu", "terragrunt", "pulumi", "ansible", "ansible-playbook", "atmos", "cdk", "cdktf"
)
_register("kubernetes", "kubectl", "helm", "kustomize", "oc", "k9s", "kubens", "kubectx", "velero")
_register(
    "containers", "docker", "podman", "docker-compose", "podman-compose", "nerdctl", "buildah", "skopeo"
)
_register("cloud", "aws", "gcloud", "gsutil", "az", "bq", "doctl", "eksctl")
_register(
    "sql",
    "psql",
    "mysql",
    "mariadb",
    "sqlite3",
    "mongosh",
    "mongo",
    "redis-cli",
    "keydb-cli",
    "valkey-cli",
    "sqlcmd",
    "clickhouse-client",
    "cockroach",
    "dropdb",
    "dropuser",
    "mysqladmin",
    "pg_dump",
    "pg_restore",
    "pg_dumpall",
    "createdb",
    "mongodump",
    "mongorestore",
)
_register("secrets", "vault", "op", "doppler", "aws-vault", "sops")
_register("forges", "gh", "glab")
_register(
    "migrations",
    "prisma",
    "rails",
    "rake",
    "alembic",
    "flyway",
    "knex",
    "sequelize",
    "sequelize-cli",
    "goose",
    "migrate",
    "dbmate",
    "liquibase",
    "sqitch",
    "atlas",
    "typeorm",
    "diesel",
)
_register(
    "protections",
    "setenforce",
    "getenforce",
    "sestatus",
    "aa-teardown",
    "aa-disable",
    "aa-complain",
    "aa-status",
    "apparmor_parser",
    "auditctl",
    "firewall-cmd",
)
_register(
    "services",
    "systemctl",
    "service",
    "journalctl",
    "reboot",
    "shutdown",
    "poweroff",
    "halt",
    "init",
    "kill",
    "killall",
    "pkill",
    "crontab",
    "launchctl",
    "iptables",
    "ufw",
    "nft",
)
_register("remote", "ssh", "scp", "rsync", "sftp", "mosh", "rclone")
_register("text", "sed", "gsed", "awk", "gawk", "mawk", "nawk", "perl-rename")
_register("network", "curl", "wget", "http", "https", "xh", "nc", "socat")
_register(
    "interpreters",
    "python",
    "python3",
    "python2",
    "node",
    "nodejs",
    "deno",
    "bun",
    "perl",
    "ruby",
    "php",
    "lua",
    "pwsh",
    "powershell",
    "osascript",
    "Rscript",
    "rscript",
    "R",
    "r",
)


def family_for(name: str) -> str | None:
    family = _FAMILIES.get(name)
    if family is None and name.startswith("python3."):
        return "interpreters"
    if family is None and name.startswith("mkfs."):
        return "filesystem"
    return family


def run_family(family: str, ctx: Ctx) -> None:
    check = _CHECKS.get(family)
    if check is None:
        check = importlib.import_module(f"skill.guardrails.commands.{family}").check
        _CHECKS[family] = check
    check(ctx)


_CHECKS: dict = {}
