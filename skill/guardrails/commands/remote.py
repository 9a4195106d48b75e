"""ssh/scp/rsync/sftp/rclone: the remote command is classified; the host names the environment."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx

_SSH_VALUE = frozenset("-b -B -c -D -E -e -F -I -i -J -L -l -m -O -o -p -P -Q -R -S -W -w".split())
_SYSTEM_DIRS = (
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/lib32",
    "/boot",
    "/var/lib",
    "/opt",
    "/root",
    "/sys",
    "/proc",
    "/dev",
)


# ssh_config options whose value the client runs as a local command (or on the remote host).
_SSH_EXEC_OPTIONS = ("proxycommand", "localcommand", "knownhostscommand", "remotecommand")


def _ssh_options(ctx: Ctx) -> None:
    args = ctx.argv[1:]
    for i, a in enumerate(args):
        if a == "--":
            break
        value = args[i + 1] if a == "-o" and i + 1 < len(args) else a[2:] if a.startswith("-o") else None
        if not value:
            continue
        key, _, body = value.replace("=", " ", 1).partition(" ")
        if key.lower() in _SSH_EXEC_OPTIONS and body.strip() and body.strip().lower() != "none":
            ctx.shell(body.strip(), f"{ctx.name} -o {key}")
            ctx.hit(2, "ssh.option-command", f"{ctx.name} -o {key} runs a command (classified)")


def check(ctx: Ctx) -> None:
    if ctx.name in ("ssh", "scp", "sftp", "mosh"):
        _ssh_options(ctx)
    if ctx.name in ("ssh", "mosh"):
        _ssh(ctx)
    elif ctx.name == "scp":
        _scp(ctx)
    elif ctx.name == "rsync":
        _rsync(ctx)
    elif ctx.name == "rclone":
        _rclone(ctx)
    else:
        ctx.hit(2, "remote.session", f"{ctx.name} session")


def _host_of(spec: str) -> str:
    host = spec.split("@", 1)[-1]
    return host.split(":", 1)[0]


def _ssh(ctx: Ctx) -> None:
    args = ctx.argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a.startswith("-") and len(a) > 1:
            if a in _SSH_VALUE:
                i += 2
                continue
            if a in ("-V", "-h", "-?") or a == "--help":
                ctx.hit(1, "ssh.help", "prints ssh usage/version")
                return
            i += 1
            continue
        break
    if i >= len(args):
        ctx.hit(1, "ssh.usage", "ssh without a host prints usage")
        return
    host = args[i]
    ctx.env(_host_of(host))
    for opt in ctx.values("-l"):
        ctx.env(opt)
    # OpenSSH also accepts options after the destination (`ssh bastion -L 5432:db:5432 -N`).
    j = i + 1
    while j < len(args) and args[j].startswith("-") and args[j] != "--":
        j += 2 if args[j] in _SSH_VALUE else 1
    if j < len(args) and args[j] == "--":
        j += 1
    remote = args[j:]
    if remote:
        # ssh joins the remaining words with spaces and hands them to the remote shell.
        ctx.shell(" ".join(remote), f"ssh {host}")
        ctx.hit(2, "ssh.remote-command", f"runs a command on {host}")
    if not _remote_reads_stdin(" ".join(remote).split()):
        return
    # The remote shell reads its script from ssh's stdin: judge that script.
    redirected = next((t for op, t in ctx.redirects if op == "<"), None)
    if ctx.stdin is not None:
        ctx.shell(ctx.stdin, f"ssh {host} <<here-doc")
        ctx.hit(2, "ssh.remote-command", f"runs commands on {host}")
    elif ctx.piped_from:
        literal = ctx.piped_literal
        if literal is not None:
            ctx.shell(literal, f"{ctx.piped_from[0]} | ssh {host}")
            ctx.hit(2, "ssh.remote-command", f"runs commands on {host}")
        else:
            ctx.hit(3, "ssh.piped-script", f"runs a script produced by {ctx.piped_from[0]} on {host}")
    elif redirected is not None:
        # judged like `sh < FILE` here: the file is read when it is a regular file
        ctx.shell(f"sh < {_quote(redirected)}", f"ssh {host} < {redirected}")
        ctx.hit(2, "ssh.remote-command", f"runs the script {redirected} on {host}")
    elif not remote:
        ctx.hit(2, "ssh.session", f"opens an interactive shell on {host}")


_STDIN_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "sudo"})


def _remote_reads_stdin(words: list[str]) -> bool:
    """No remote command (the login shell reads stdin) or a shell without -c or a script operand."""
    if not words:
        return True
    if words[0].rsplit("/", 1)[-1] not in _STDIN_SHELLS:
        return False
    rest = words[1:]
    if words[0] == "sudo":
        return _remote_reads_stdin([w for w in rest if not w.startswith("-")][:1] + rest[1:])
    if any(w.startswith("-") and not w.startswith("--") and "c" in w for w in rest):
        return False
    return "-s" in rest or all(w.startswith("-") for w in rest)


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _remote_path(spec: str) -> tuple[str | None, str]:
    if ":" in spec and not spec.startswith(("/", "./", "../")) and "://" not in spec:
        host, path = spec.split(":", 1)
        return host, path
    return None, spec


def _scp(ctx: Ctx) -> None:
    pos = []
    args = ctx.argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J", "-X", "-D"):
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        pos.append(a)
        i += 1
    if len(pos) < 2:
        ctx.hit(1, "scp.usage", "scp without source and target")
        return
    dest = pos[-1]
    host, path = _remote_path(dest)
    for src in pos[:-1]:
        h, _ = _remote_path(src)
        if h:
            ctx.env(_host_of(h))
    if host:
        ctx.env(_host_of(host))
    if (
        path in ("/", "/*")
        or path.rstrip("/") in _SYSTEM_DIRS
        or path.startswith(tuple(d + "/" for d in _SYSTEM_DIRS))
    ):
        ctx.hit(3, "scp.system-path", f"copies over system path {path} on {host or 'this machine'}")
    else:
        ctx.hit(2, "scp.copy", "copies files")


def _rsync(ctx: Ctx) -> None:
    if ctx.short("n", "--dry-run") or ctx.has("--list-only"):
        ctx.hit(1, "rsync.dry-run", "rsync --dry-run/--list-only changes nothing")
        return
    pos = [a for a in ctx.argv[1:] if not a.startswith("-")]
    for p in pos:
        h, _ = _remote_path(p)
        if h:
            ctx.env(_host_of(h))
    rsh = ctx.value("-e", "--rsh")
    deleting = any(
        a.startswith(("--delete", "--del")) and a != "--delay-updates" for a in ctx.argv[1:]
    ) or ctx.has("--remove-source-files")
    if deleting:
        ctx.hit(3, "rsync.delete", "rsync --delete/--remove-source-files deletes files")
    elif pos and _remote_path(pos[-1])[1].rstrip("/") in ("",) + _SYSTEM_DIRS:
        ctx.hit(3, "rsync.system-path", "syncs over a system path")
    else:
        ctx.hit(2, "rsync.copy", "copies files" + (f" over {rsh}" if rsh else ""))


def _rclone(ctx: Ctx) -> None:
    pos = [a for a in ctx.argv[1:] if not a.startswith("-")]
    sub = pos[0] if pos else ""
    for p in pos[1:]:
        if ":" in p:
            ctx.env(p.split(":", 1)[0])
    if ctx.has("--dry-run", "-n", "--interactive", "-i"):
        ctx.hit(1, "rclone.dry-run", "rclone --dry-run changes nothing")
    elif sub in ("purge", "delete", "deletefile", "rmdir", "rmdirs", "cleanup", "dedupe"):
        ctx.hit(3 if sub != "purge" else 4, f"rclone.{sub}", f"rclone {sub} deletes remote data")
    elif sub == "sync":
        ctx.hit(3, "rclone.sync", "rclone sync deletes destination files missing from the source")
    elif sub in ("move", "moveto"):
        ctx.hit(2, "rclone.move", "moves files (source deleted)")
    elif sub in (
        "ls",
        "lsd",
        "lsl",
        "lsf",
        "lsjson",
        "cat",
        "check",
        "size",
        "about",
        "tree",
        "version",
        "listremotes",
        "config",
        "hashsum",
        "md5sum",
        "sha1sum",
        "ncdu",
        "mount",
        "serve",
        "copy",
        "copyto",
        "mkdir",
        "touch",
        "link",
        "bisync",
        "obscure",
        "selfupdate",
        "authorize",
        "backend",
        "help",
    ):
        ctx.hit(
            2 if sub in ("copy", "copyto", "mkdir", "touch", "mount", "serve", "config", "bisync") else 1,
            f"rclone.{sub}",
            f"rclone {sub}",
        )
    else:
        ctx.hit(2, "rclone.other", f"rclone {sub}")
