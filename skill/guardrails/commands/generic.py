"""Programs without a rule family: judged by the meaning of their subcommand verbs.

Most CLIs of SaaS and infrastructure tools (stripe, flipt, kafka-topics, unleash …) follow the
`tool <noun> <verb>` or `tool --verb` convention, so a destructive verb (delete, destroy, purge …)
in subcommand position is a reliable signal even for a tool we have no rules for. Everything else
defaults to T2 (it runs, we cannot see it is read-only) or T1 for read verbs.
"""

from __future__ import annotations

import re

from skill.guardrails.commands._base import Ctx

DESTRUCTIVE_VERBS = frozenset(
    """delete del destroy remove rm purge drop wipe reset prune forget truncate flush flushall uninstall
    revoke terminate kill erase shred nuke zap unregister deregister evict yank unpublish rb
    clear clean decommission detach rdelete down unset archive reboot rotate roll break-lock""".split()
)
READ_VERBS = frozenset(
    """list ls get show status describe view info logs log version help whoami inspect search history
    details cat check diff tail top ps stats doctor validate lint config env""".split()
)
_DESTRUCTIVE_OPTIONS = re.compile(
    r"^--?(delete|purge|force-delete|reset-offsets|delete-config|drop|wipe|destroy|remove|remove-all|prune|no-backup|cleanup)(=|$)"
)
_PLAUSIBLE_NAME = re.compile(r"^[\w.+@:,%~=-]+$")
_SEGMENTS = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])")
_PUBLISHERS = {
    "cargo": ("publish", "yank", "owner"),
    "npm": ("publish", "unpublish", "deprecate", "owner", "dist-tag"),
    "pnpm": ("publish",),
    "yarn": ("publish", "npm"),
    "poetry": ("publish",),
    "twine": ("upload",),
    "gem": ("push", "yank", "owner"),
    "mvn": ("deploy", "release:perform", "release:prepare"),
    "mvnw": ("deploy", "release:perform", "release:prepare"),
    "gradle": ("publish", "publishToMavenCentral", "closeAndReleaseRepository"),
    "gradlew": ("publish", "publishToMavenCentral", "closeAndReleaseRepository"),
    "dotnet": ("nuget",),
    "flutter": ("pub",),
    "dart": ("pub",),
}
_BUILD_HOUSEKEEPING = frozenset(
    {"clean", "distclean", "clobber", "remove", "rm", "uninstall", "un", "prune", "unlink"}
)
_SYSTEM_PACKAGERS = frozenset(
    {"apt", "apt-get", "yum", "dnf", "apk", "pacman", "zypper", "brew", "port", "snap", "rpm", "dpkg"}
)
_WINDOWS_DISK = frozenset({"format", "diskpart"})


def _words(ctx: Ctx) -> list[str]:
    out = []
    for arg, dyn in zip(ctx.argv[1:], ctx.dynamic[1:], strict=False):
        if arg == "--":
            break
        if dyn or arg.startswith("-") or "/" in arg or "=" in arg:
            continue
        out.append(arg)
        if len(out) >= 4:
            break
    return out


def check_unknown(ctx: Ctx, build_tool: bool) -> None:
    name = ctx.name
    lowered = name.lower()
    if lowered.startswith("db.") or lowered.startswith("rs.") or lowered.startswith("sh."):
        from skill.guardrails.commands.sql import analyse_mongo

        text = " ".join(ctx.argv)
        for tier, rule, reason in analyse_mongo(text):
            ctx.hit(tier, rule, reason)
        return
    if lowered in ("make", "gmake") and any(
        v in ("-", "/dev/stdin", "/proc/self/fd/0") for v in ctx.values("-f", "--file", "--makefile")
    ):
        # A makefile on stdin is a script of shell recipes the gate does not read.
        ctx.hit(3, "make.stdin-makefile", "make runs recipes read from stdin")
        return
    if lowered in ("vi", "vim", "nvim", "gvim", "view", "ex", "vimdiff"):
        # -c/--cmd/+CMD run editor commands; `:!cmd` (also after silent/exe) hands cmd to a shell.
        for value in ctx.values("-c", "--cmd") + [a[1:] for a in ctx.argv[1:] if a.startswith("+")]:
            if "!" in value:
                ctx.shell(value.split("!", 1)[1], f"{name} :!")
    if lowered in ("userdel", "deluser", "groupdel", "delgroup", "usermod", "passwd", "chpasswd", "visudo"):
        if len(ctx.argv) > 1 and not ctx.has("--help", "-S", "--status"):
            ctx.hit(3, "system.accounts", f"{name} changes system accounts, passwords or sudo rights")
            return
    if lowered in _WINDOWS_DISK:
        ctx.hit(4, "windows.format-disk", f"{name} erases a disk/partition")
        return
    if not _PLAUSIBLE_NAME.match(name):
        ctx.hit(3, "generic.odd-program-name", f"{name[:40]!r} is not a plausible program name")
        return
    segments = [s.lower() for s in _SEGMENTS.findall(name)]
    if len(segments) > 1 and any(s in DESTRUCTIVE_VERBS or s in ("format", "cancel") for s in segments):
        ctx.hit(3, "generic.destructive-name", f"{name} is named for a destructive action")
        return
    words = _words(ctx)
    lowered_words = [w.lower() for w in words]
    if name in _PUBLISHERS:
        for w in lowered_words[:2]:
            if w in _PUBLISHERS[name]:
                ctx.hit(3, "generic.publish", f"{name} {w} publishes or withdraws a release (irreversible)")
                return
    if name in _SYSTEM_PACKAGERS:
        if any(
            w in ("remove", "purge", "uninstall", "erase", "autoremove", "zap") for w in lowered_words[:1]
        ) or ctx.has("-e", "--erase", "-R", "--remove", "--purge", "-Rns", "-Rs"):
            ctx.hit(3, "packages.remove-system", f"{name} removes system packages")
            return
        ctx.hit(2, "packages.install", f"{name} installs or updates packages")
        return
    if name in ("nginx", "haproxy", "apachectl", "apache2ctl", "httpd", "caddy", "traefik"):
        signal = ctx.value("-s", "-k")
        if signal in ("stop", "quit", "graceful-stop"):
            ctx.hit(3, "service.stop", f"{name} -s {signal} stops the server")
            return
    args = ctx.argv[1:]
    for i, arg in enumerate(args[:-1]):
        if arg in ("-c", "--command", "-e", "--execute", "--query", "--sql"):
            # `some-db-wrapper shell -- -c 'DROP TABLE users'`: statements handed to a database.
            from skill.guardrails.commands.sql import statement_hits

            hits = statement_hits(args[i + 1])
            if hits:
                for tier, rule, reason in hits:
                    ctx.hit(tier, rule, reason)
                return
    for arg in ctx.argv[1:]:
        if arg == "--":
            break
        if _DESTRUCTIVE_OPTIONS.match(arg):
            ctx.hit(3, "generic.destructive-option", f"{name} {arg}")
            return
    if lowered_words[:1] == ["help"]:
        ctx.hit(1, "generic.help", f"{name} help")
        return
    # The first verb-like word in subcommand position decides (`borg list repo::archive` reads).
    for i, w in enumerate(lowered_words[:4]):
        if build_tool and w in _BUILD_HOUSEKEEPING:
            break  # `make clean`, `npm uninstall left-pad`: project-local and recoverable
        verb = (w.split(":")[-1] if w.count(":") == 1 else w).replace("_", "-")
        head = verb.split("-")[0]
        if verb in DESTRUCTIVE_VERBS or (
            head in ("delete", "destroy", "remove", "purge", "drop", "wipe", "clear", "force") and "-" in verb
        ):
            ctx.hit(
                3,
                "generic.destructive-verb",
                f"{name} {' '.join(words[: i + 1])} deletes or resets something",
            )
            return
        if verb in READ_VERBS and not build_tool:
            ctx.hit(1, "generic.read-verb", f"{name} {' '.join(words[: i + 1])} reads")
            return
    if build_tool:
        ctx.hit(2, "generic.build-tool", f"{name} builds, installs or edits local files")
        return
    ctx.hit(2, "generic.unknown-program", f"{name} is not a known program (allowed, audited)")
