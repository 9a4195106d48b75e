"""systemctl/service, power state, process killing, cron and firewalls."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_SYSTEMCTL_READ = frozenset(
    """status show cat list-units list-unit-files list-sockets list-timers list-jobs list-dependencies
    list-machines is-active is-enabled is-failed is-system-running get-default help show-environment""".split()
)
_CRITICAL_UNITS = (
    "sshd",
    "ssh",
    "networking",
    "network",
    "NetworkManager",
    "systemd-networkd",
    "docker",
    "containerd",
    "kubelet",
    "postgresql",
    "mysql",
    "mariadb",
    "firewalld",
)


def check(ctx: Ctx) -> None:
    name = ctx.name
    if name == "systemctl":
        _systemctl(ctx)
    elif name == "service":
        pos = positionals(ctx.args)
        action = pos[1] if len(pos) > 1 else ""
        unit = pos[0] if pos else ""
        if not pos or action in ("status", "") or pos[0] == "--status-all":
            ctx.hit(1, "service.status", "service status")
        elif action in ("stop",):
            ctx.hit(3, "service.stop", f"stops {unit}")
        else:
            ctx.hit(2, "service.change", f"service {unit} {action}")
    elif name in ("reboot", "shutdown", "poweroff", "halt"):
        if ctx.has("--help", "-k", "-c"):
            ctx.hit(1, "power.noop", f"{name} without effect")
        else:
            ctx.hit(4, "power.off", f"{name} takes the machine down")
    elif name == "init":
        pos = positionals(ctx.args)
        ctx.hit(
            4 if pos and pos[0] in ("0", "6", "1", "s", "S") else 2, "power.runlevel", f"init {' '.join(pos)}"
        )
    elif name in ("kill", "killall", "pkill"):
        pos = positionals(ctx.args, frozenset({"-s", "-n", "-u", "-g", "-t", "-P", "--signal"}))
        if ctx.has("-l", "-L", "--list"):
            ctx.hit(1, "kill.list", "lists signals")
        elif any(p in ("1", "-1") for p in pos) or "-1" in ctx.args and name == "kill":
            ctx.hit(4, "kill.init", "kills PID 1 / every process")
        elif name in ("killall", "pkill"):
            ctx.hit(3, "kill.by-name", f"{name} kills every matching process")
        else:
            ctx.hit(2, "kill.pid", "sends a signal to a process")
    elif name == "crontab":
        if ctx.short("r"):
            ctx.hit(3, "crontab.remove", "crontab -r deletes every cron job")
        elif ctx.short("l"):
            ctx.hit(1, "crontab.list", "lists cron jobs")
        elif "-" in ctx.argv[1:] or ctx.piped_from or ctx.stdin is not None:
            # `… | crontab -` replaces the whole crontab with generated text.
            ctx.hit(3, "crontab.replace", "replaces every cron job with text produced on this line")
        else:
            ctx.hit(2, "crontab.edit", "edits cron jobs")
    elif name == "launchctl":
        pos = positionals(ctx.args)
        ctx.hit(
            1 if pos[:1] in (["list"], ["print"], ["help"]) else 2,
            "launchctl",
            f"launchctl {' '.join(pos[:1])}",
        )
    elif name in ("iptables", "ufw", "nft"):
        _firewall(ctx)
    else:
        ctx.hit(2, "service.other", name)


def _systemctl(ctx: Ctx) -> None:
    ctx.env(ctx.value("-H", "--host"), ctx.value("-M", "--machine"))
    pos = positionals(
        ctx.args,
        frozenset(
            {
                "-H",
                "--host",
                "-M",
                "--machine",
                "-t",
                "--type",
                "-p",
                "--property",
                "-s",
                "--signal",
                "--state",
                "-n",
                "--lines",
                "-o",
                "--output",
                "--root",
            }
        ),
    )
    verb = pos[0] if pos else "list-units"
    units = pos[1:]
    if verb in _SYSTEMCTL_READ:
        ctx.hit(1, "systemctl.read", f"systemctl {verb} only reads")
    elif verb in (
        "reboot",
        "poweroff",
        "halt",
        "kexec",
        "emergency",
        "rescue",
        "suspend",
        "hibernate",
        "soft-reboot",
    ):
        ctx.hit(4, "systemctl.power", f"systemctl {verb} takes the machine down")
    elif verb in ("isolate",):
        ctx.hit(
            4
            if any(u.startswith(("rescue", "emergency", "poweroff", "reboot", "halt")) for u in units)
            else 3,
            "systemctl.isolate",
            f"systemctl isolate {' '.join(units)}",
        )
    elif verb in ("stop", "disable", "mask", "kill"):
        critical = any(u.split(".")[0] in _CRITICAL_UNITS for u in units)
        ctx.hit(
            4 if critical and verb in ("stop", "mask", "disable") else 3,
            f"systemctl.{verb}",
            f"systemctl {verb} {' '.join(units)} (service outage)",
        )
    elif verb in (
        "start",
        "restart",
        "reload",
        "try-restart",
        "reload-or-restart",
        "enable",
        "unmask",
        "daemon-reload",
        "reset-failed",
        "daemon-reexec",
        "set-property",
        "edit",
        "preset",
        "revert",
        "link",
    ):
        ctx.hit(2, f"systemctl.{verb}", f"systemctl {verb} {' '.join(units)}".strip())
    elif verb == "set-default":
        ctx.hit(3, "systemctl.set-default", "changes the boot target")
    else:
        ctx.hit(2, "systemctl.other", f"systemctl {verb}")


def _firewall(ctx: Ctx) -> None:
    if (
        ctx.has("-L", "--list", "-S", "--list-rules", "status", "show")
        or (ctx.name == "ufw" and positionals(ctx.args)[:1] in (["status"], ["show"]))
        or (ctx.name == "nft" and "list" in ctx.argv)
    ):
        ctx.hit(1, "firewall.read", f"{ctx.name} lists rules")
    elif (
        ctx.has("-F", "--flush", "-X", "--delete-chain", "-P", "--policy")
        or (ctx.name == "ufw" and positionals(ctx.args)[:1] in (["disable"], ["reset"]))
        or (ctx.name == "nft" and "flush" in ctx.argv)
    ):
        ctx.hit(3, "firewall.flush", f"{ctx.name} flushes/disables firewall rules")
    else:
        ctx.hit(3, "firewall.change", f"{ctx.name} changes firewall rules")
