"""rm/find/dd/mkfs/shred/truncate/chmod/chown and other file and disk tools."""

from __future__ import annotations

import os
import posixpath
import stat

from skill.guardrails.commands._base import Ctx, positional_indexes, positionals

SYSTEM_DIRS = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/Applications",
    "/Library",
    "/System",
    "/Users",
    "/private",
)
# Paths that are system software or configuration at any depth.
_ALWAYS_SYSTEM = tuple(
    p + "/"
    for p in (
        "/etc",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/boot",
        "/sys",
        "/proc",
        "/dev",
        "/var/lib",
        "/System",
        "/Library",
        "/private/etc",
    )
)
_ALWAYS_SYSTEM_EXACT = frozenset(p.rstrip("/") for p in _ALWAYS_SYSTEM)
TEMP_PREFIXES = ("/tmp/", "/var/tmp/", "/private/tmp/", "/dev/shm/")
_HOME_WORDS = ("~", "$HOME", "${HOME}")
_DEVICE_PREFIXES = (
    "/dev/sd",
    "/dev/nvme",
    "/dev/hd",
    "/dev/vd",
    "/dev/xvd",
    "/dev/mmcblk",
    "/dev/disk",
    "/dev/mapper/",
    "/dev/md",
    "/dev/dm-",
    "/dev/rdisk",
    "/dev/loop",
    "/dev/nbd",
    "/dev/root",
)


def is_device(path: str) -> bool:
    return path.startswith(_DEVICE_PREFIXES)


# Files a shell or sshd runs or trusts on its own later: writing one plants a command that runs
# outside the gate (the next login, the next shell), whichever tool writes it.
_STARTUP_FILES = (
    ".ssh/authorized_keys",
    ".ssh/rc",
    ".ssh/config",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".config/fish/",
    ".git/hooks/",
)


def _in_ssh_dir(path: str) -> bool:
    return "/.ssh/" in path or path.startswith(".ssh/")


def is_startup_file(path: str) -> bool:
    return any(s in path for s in _STARTUP_FILES)


def _expand(path: str) -> str:
    """Normalise a literal path: home forms -> ~, `..` folded, trailing slashes dropped."""
    p = path.strip()
    for word in _HOME_WORDS:
        if p == word or p.startswith(word + "/"):
            p = "~" + p[len(word) :]
            break
    tmp_forms = ("$TMPDIR", "${TMPDIR}", "${TMPDIR:-/tmp}", "${TMPDIR:=/tmp}")
    for word in tmp_forms:
        if p == word or p.startswith(word + "/"):
            p = "/tmp" + p[len(word) :]
            break
    if p.startswith(("/", "~")):
        head = p[0]
        rest = p[1:]
        norm = posixpath.normpath("/" + rest.lstrip("/")) if rest.strip("/") else "/"
        if head == "~":
            norm = "~" + (norm if norm != "/" else "")
        return norm
    return posixpath.normpath(p) if p else p


_KIND_RANK = {"root": 5, "system": 4, "cwd": 3, "home": 2, "dynamic": 2, "path": 1, "temp": 0}


def _braces(word: str, limit: int = 64) -> list[str]:
    """Bash brace expansion of `{a,b}` groups (what `rm -rf /{etc,usr}` really names)."""
    out = [word]
    for _ in range(8):
        grown = []
        changed = False
        for w in out:
            start = w.find("{")
            end = w.find("}", start + 1) if start >= 0 else -1
            inner = w[start + 1 : end] if end > start else ""
            if start < 0 or end < 0 or "," not in inner or "{" in inner:
                grown.append(w)
                continue
            changed = True
            grown.extend(w[:start] + alt + w[end + 1 :] for alt in inner.split(","))
        out = grown[:limit]
        if not changed:
            break
    return out


def path_risk(path: str, dynamic: bool = False) -> tuple[int, str]:
    """How bad it is to recursively delete/overwrite ``path``: (tier, kind)."""
    if "{" in path and "," in path:
        return max((_path_risk(p, dynamic) for p in _braces(path)), key=lambda r: (r[0], _KIND_RANK[r[1]]))
    return _path_risk(path, dynamic)


def _path_risk(path: str, dynamic: bool = False) -> tuple[int, str]:
    norm = _expand(path)
    if norm in ("/", "~") or norm in ("/*", "~/*"):
        return 4, "root"
    if norm.startswith("/tmp/") and "/../" not in path and not path.startswith("/tmp/.."):
        return 2, "temp"
    for prefix in TEMP_PREFIXES:
        if (norm + "/").startswith(prefix) and norm + "/" != prefix:
            return 2, "temp"
    if norm.startswith("/"):
        top = "/" + norm.split("/")[1]
        if any(ch in top for ch in "*?["):
            # `rm -rf /e*` or `/?tc`: a glob in the top directory can name a system directory.
            import fnmatch

            if any(
                fnmatch.fnmatchcase(d, top)
                for d in SYSTEM_DIRS + tuple(p.rstrip("/") for p in _ALWAYS_SYSTEM)
            ):
                return 4, "system"
        if norm.startswith(_ALWAYS_SYSTEM) or norm in _ALWAYS_SYSTEM_EXACT or norm.startswith("/*"):
            return 4, "system"
        if top in SYSTEM_DIRS and norm.count("/") <= 2:
            return 4, "system"  # /home/alice, /var/log, /opt/app: whole trees of someone's data
        return 3, "path"
    if norm.startswith("~"):
        return 3, "home"
    if norm in (".", "..") or norm.startswith("../"):
        return 4 if norm in (".", "..") else 3, "cwd"
    if dynamic or "$" in path:
        return 3, "dynamic"
    return 3, "path"


def check(ctx: Ctx) -> None:
    fn = _DISPATCH.get(ctx.name)
    if fn is None:
        if ctx.name.startswith("mkfs"):
            fn = _mkfs
        else:
            ctx.hit(2, "fs.change", f"{ctx.name} changes files")
            return
    fn(ctx)


def _targets(ctx: Ctx, with_value: frozenset[str] = frozenset()) -> list[tuple[str, bool]]:
    """(word, dynamic) for each operand; a word without a dynamic flag counts as dynamic."""
    args = ctx.argv[1:]
    dyn = ctx.dynamic[1:]
    return [(args[i], dyn[i] if i < len(dyn) else True) for i in positional_indexes(args, with_value)]


def _rm(ctx: Ctx) -> None:
    if ctx.has("--version"):
        ctx.hit(1, "rm.version", "prints the version")
        return
    recursive = ctx.short("r", "--recursive") or ctx.short("R")
    targets = _targets(ctx)
    if not targets and not ctx.args_unknown:
        if recursive:
            ctx.hit(3, "rm.recursive", "recursive delete with targets from elsewhere")
        else:
            ctx.hit(1, "rm.no-target", "rm without a target does nothing")
        return
    if ctx.args_unknown:
        ctx.hit(3, "rm.unknown-targets", "deletes files whose names are produced at run time")
    for path, dyn in targets:
        tier, kind = _risk_in_context(ctx, path, dyn)
        if kind in _WORKTREE_RULES and (recursive or kind in ("git-dir", "home-glob")):
            rule, verb = _WORKTREE_RULES[kind]
            if not recursive and kind == "git-dir":
                # one file of .git: a stale `index.lock` is an everyday fix, other files break the repo
                tier, rule = (2, "rm.git-lock") if path.endswith(".lock") else (3, "rm.git-file")
            ctx.hit(tier, rule, f"{verb} {path}")
            continue
        if recursive:
            if kind == "root":
                ctx.hit(4, "rm.root-or-home", f"recursively deletes {path}", deny=True)
            elif kind == "system":
                ctx.hit(4, "rm.system-dir", f"recursively deletes the system path {path}")
            elif kind == "cwd" and tier == 4:
                ctx.hit(4, "rm.cwd", f"recursively deletes the current/parent directory ({path})")
            elif kind == "temp":
                ctx.hit(2, "rm.temp", f"deletes temporary files under {path}")
            elif kind == "dynamic":
                ctx.hit(3, "rm.recursive-dynamic", f"recursively deletes {path}, known only at run time")
            else:
                ctx.hit(3, "rm.recursive", f"recursively deletes {path}")
        else:
            if kind in ("root", "system"):
                ctx.hit(3, "rm.system-file", f"deletes the system file {path}")
            elif kind == "home" and any(c in path for c in "*?["):
                ctx.hit(3, "rm.home-glob", f"deletes every file matching {path}")
            elif _in_ssh_dir(path):
                ctx.hit(3, "rm.ssh-file", f"deletes {path} (ssh keys or trust)")
            else:
                ctx.hit(2, "rm.file", f"deletes {path}")


# Worktree/home verdicts (skill.guardrails.worktree) of a delete target: rule id and wording.
_WORKTREE_RULES = {
    "worktree-root": ("rm.worktree-root", "deletes the git worktree (or a folder above it):"),
    "git-dir": ("rm.git-dir", "deletes the repository's .git data:"),
    "tracked": ("rm.tracked", "deletes tracked or unignored files of the worktree:"),
    "ignored": ("rm.ignored-output", "deletes git-ignored, regenerable output:"),
    "home": ("rm.home", "recursively deletes a folder of the home directory:"),
    "home-glob": ("rm.home-glob", "deletes everything matching a glob in the home directory:"),
    "temp": ("rm.temp", "deletes scratch files in a temp dir:"),
}


def _risk_in_context(ctx: Ctx, path: str, dyn: bool) -> tuple[int, str]:
    """Risk of a path resolved against the caller's cwd, its git worktree and any `cd` on the line.

    The caller's cwd is trusted (git-ignored output of its worktree may be deleted at T2); a `cd`
    on the same line may have failed, so it can only make things stricter.
    """
    tier, kind = path_risk(path, dyn)
    if path.startswith("$") or dyn:
        return tier, kind
    if kind == "system" and path.startswith("/"):
        from skill.guardrails.worktree import home_dir

        if posixpath.normpath(path) == home_dir():
            return 4, "root"  # `rm -rf /home/alice` is `rm -rf ~` for alice
    if ctx.cwd and ctx.cwd.startswith("/") and kind not in ("root", "system"):
        from skill.guardrails.worktree import absolute, home_dir, judge

        target = absolute(ctx.cwd, path)
        if target in ("/", home_dir()):
            return 4, "root"  # `rm -rf ../../..` from /srv/app/x is `rm -rf /`
        verdict = judge(ctx.cwd, path, TEMP_PREFIXES)
        if verdict is not None:
            ctx.notes.append(f"path {path}: {verdict.note} -> T{verdict.tier}")
            tier, kind = verdict.tier, verdict.kind
        else:
            tier, kind = path_risk(target)
            if kind == "root" and path not in ("*", ".", "./", "./*", "..", "../*"):
                tier, kind = 4, "system"  # a subdirectory of / is a system path, not / itself
    if path.startswith(("/", "~")):
        return tier, kind
    for base in ctx.cd_targets:
        if base.startswith(("/", "~")):
            t2, k2 = path_risk(posixpath.join(base, path))
            if t2 > tier:
                tier, kind = t2, k2
    return tier, kind


def _rimraf(ctx: Ctx) -> None:
    """rimraf / del-cli are `rm -rf` for node projects."""
    args = [a for a in ctx.argv[1:] if not a.startswith("-")]
    inner = Ctx(
        name="rm",
        argv=["rm", "-rf", "--", *args],
        dynamic=[
            False,
            False,
            False,
            *[d for a, d in zip(ctx.argv[1:], ctx.dynamic[1:], strict=False) if not a.startswith("-")],
        ],
        cwd=ctx.cwd,
        cd_targets=ctx.cd_targets,
        args_unknown=ctx.args_unknown,
    )
    _rm(inner)
    ctx.hits.extend(inner.hits)


def _rmdir(ctx: Ctx) -> None:
    ctx.hit(2, "rm.rmdir", "removes empty directories")


def _find(ctx: Ctx) -> None:
    args = ctx.argv[1:]
    roots = []
    for a in args:
        if a.startswith(("-", "(", "!")) and a not in ("-", "-L", "-H", "-P"):
            break
        if a not in ("-L", "-H", "-P"):
            roots.append(a)
    hit = False
    if "-delete" in args:
        hit = True
        kinds = {path_risk(r)[1] for r in roots}
        if "root" in kinds:
            ctx.hit(4, "find.delete-root", "find -delete over / or home", deny=True)
        elif "system" in kinds:
            ctx.hit(4, "find.delete-system", "find -delete under a system directory")
        elif _find_deletes_ignored(ctx, roots or ["."], args):
            ctx.hit(2, "find.delete-ignored", "find -delete removes only git-ignored, regenerable output")
        else:
            ctx.hit(3, "find.delete", "find -delete removes every match")
    for i, a in enumerate(args):
        if a in ("-exec", "-execdir", "-ok", "-okdir"):
            cmd = []
            for b in args[i + 1 :]:
                if b in (";", "\\;", "+"):
                    break
                cmd.append(b)
            if cmd:
                hit = True
                ctx.shell(" ".join(_quote(c) for c in cmd), f"find {a}")
                name = cmd[0].rsplit("/", 1)[-1]
                if name in ("rm", "shred", "unlink", "truncate", "dd", "chmod", "chown", "mv", "sh", "bash"):
                    ctx.hit(3, "find.exec-destructive", f"find {a} runs {name} on every match")
    for a in ("-fprint", "-fprintf", "-fls", "-fprint0"):
        if a in args:
            ctx.hit(2, "find.write", "find writes a file")
            hit = True
    if not hit:
        ctx.hit(1, "find.read", "find only lists files")


def _find_deletes_ignored(ctx: Ctx, roots: list[str], args: list[str]) -> bool:
    """Every root is git-ignored output, or a lone `-name PATTERN` names only ignored files.

    `find . -name '*.pyc' -delete` in a worktree that ignores *.pyc deletes regenerable files only;
    git answers for a sample name built from the pattern (it need not exist).
    """
    if not ctx.cwd or not ctx.cwd.startswith("/"):
        return False
    from skill.guardrails.worktree import absolute, check_ignored, judge, worktree_root

    if all((v := judge(ctx.cwd, r, TEMP_PREFIXES)) is not None and v.kind == "ignored" for r in roots):
        return True
    names = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-name", "-iname")]
    if len(names) != 1 or any(a in ("-o", "-or", "-not", "!", "-path", "-regex") for a in args):
        return False
    root = worktree_root(ctx.cwd)
    if root is None:
        return False
    for r in roots:
        base = absolute(ctx.cwd, r)
        if not (base == root or base.startswith(root + "/")) or base.startswith(root + "/.git"):
            return False
        if not check_ignored(root, posixpath.join(base, names[0].replace("*", "x").replace("?", "x"))):
            return False
    return True


def _quote(word: str) -> str:
    if word and all(c.isalnum() or c in "-_./=:,@%+{}" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def _dd(ctx: Ctx) -> None:
    of = None
    of_dynamic = False
    for i, a in enumerate(ctx.argv[1:], 1):
        if a.startswith("of="):
            of = a[3:]
            of_dynamic = ctx.dynamic[i] if i < len(ctx.dynamic) else True
    if of is None:
        ctx.hit(1, "dd.read", "dd without of= writes to stdout")
    elif of_dynamic:
        ctx.hit(3, "dd.dynamic-target", f"dd writes to a target only known at run time ({of})")
    elif is_device(of):
        ctx.hit(4, "dd.disk-device", f"dd overwrites the disk device {of}", deny=True)
    elif path_risk(of)[1] in ("system", "root"):
        ctx.hit(3, "dd.system-file", f"dd overwrites {of}")
    else:
        ctx.hit(2, "dd.file", f"dd writes {of}")


def _mkfs(ctx: Ctx) -> None:
    targets = [
        t
        for t, _ in _targets(
            ctx, frozenset({"-t", "-L", "-b", "-n", "-O", "-E", "-T", "-N", "-m", "-c", "-F"})
        )
    ]
    if any(is_device(t) for t in targets):
        ctx.hit(4, "mkfs.disk-device", f"formats the device {' '.join(targets)}", deny=True)
    elif targets and all(_image_file(ctx, t) for t in targets[:1]):
        ctx.hit(2, "mkfs.image-file", f"creates a file system inside the image file {targets[0]}")
    else:
        ctx.hit(3, "mkfs.format", "creates a file system (erases the target)")


_IMAGE_SUFFIXES = (
    ".img",
    ".image",
    ".raw",
    ".iso",
    ".qcow2",
    ".vhd",
    ".vmdk",
    ".fs",
    ".ext4",
    ".ext2",
    ".bin",
)


def _image_file(ctx: Ctx, target: str) -> bool:
    """A regular file (on disk, or an image name that is not one yet): mkfs writes only that file."""
    if target.startswith("/dev/") or "$" in target:
        return False
    path = posixpath.join(ctx.cwd, target) if ctx.cwd and not target.startswith(("/", "~")) else target
    path = os.path.expanduser(path)
    try:
        st = os.stat(path)
    except OSError:
        return target.lower().endswith(_IMAGE_SUFFIXES)
    return stat.S_ISREG(st.st_mode)


def _disk_tool(ctx: Ctx) -> None:
    name = ctx.name
    if name in ("fdisk", "sfdisk", "parted", "gdisk", "sgdisk") and (
        ctx.has("-l", "--list", "-p", "--print", "-s", "--show") or "print" in ctx.argv
    ):
        ctx.hit(1, "disk.list", f"{name} only lists partitions")
        return
    devices = [a for a in ctx.argv[1:] if is_device(a)]
    if name == "dmsetup":
        if len(ctx.argv) > 1 and ctx.argv[1] in (
            "ls",
            "info",
            "status",
            "table",
            "deps",
            "version",
            "targets",
        ):
            ctx.hit(1, "disk.list", "dmsetup only reads")
            return
        ctx.hit(4, "disk.dmsetup", "changes device-mapper devices")
        return
    if name in ("lvremove", "vgremove", "pvremove"):
        ctx.hit(4, "disk.lvm-remove", f"{name} destroys LVM volumes")
        return
    if name in ("wipefs", "blkdiscard"):
        if name == "wipefs" and not ctx.has("-a", "--all", "-o", "--offset") and not ctx.short("a"):
            ctx.hit(2, "disk.wipefs-list", "wipefs without -a only lists signatures")
            return
        ctx.hit(4, "disk.wipe", f"{name} erases the device", deny=bool(devices))
        return
    ctx.hit(4, "disk.partition", f"{name} rewrites partition tables on {' '.join(devices) or 'a disk'}")


def _shred(ctx: Ctx) -> None:
    targets = [
        t for t, _ in _targets(ctx, frozenset({"-n", "-s", "--iterations", "--size", "--random-source"}))
    ]
    if any(is_device(t) for t in targets):
        ctx.hit(4, "shred.disk-device", "shreds a whole disk device", deny=True)
    elif any(path_risk(t)[1] in ("system", "root") for t in targets):
        ctx.hit(4, "shred.system-file", "irrecoverably overwrites system files")
    else:
        ctx.hit(3, "shred.file", "irrecoverably overwrites files")


def _repository_hit(ctx: Ctx, targets: list[str], what: str, *, ignored_tier: int | None = None) -> bool:
    """T4 when an operand is the `.git` folder, the worktree root or above it (judged against cwd).

    With ``ignored_tier``, operands that are all git-ignored output get that tier instead.
    Returns True when a hit was recorded.
    """
    if not ctx.cwd or not ctx.cwd.startswith("/") or not targets:
        return False
    from skill.guardrails.worktree import judge

    kinds = []
    for t in targets:
        if "$" in t:
            return False
        verdict = judge(ctx.cwd, t, TEMP_PREFIXES)
        if verdict is not None:
            ctx.notes.append(f"path {t}: {verdict.note} -> T{verdict.tier}")
        kinds.append(verdict.kind if verdict else None)
        if verdict is not None and verdict.kind in ("git-dir", "worktree-root"):
            ctx.hit(4, "fs.repository", f"{what} {t}: {verdict.note}")
            return True
    if ignored_tier is not None and all(k == "ignored" for k in kinds):
        ctx.hit(ignored_tier, "fs.ignored-output", f"{what} git-ignored, regenerable output")
        return True
    return False


def _truncate(ctx: Ctx) -> None:
    targets = [t for t, _ in _targets(ctx, frozenset({"-s", "-r", "--size", "--reference"}))]
    if any(path_risk(t)[1] in ("system", "root") for t in targets) or any(is_device(t) for t in targets):
        ctx.hit(4, "truncate.system-file", "truncates system files")
    elif _repository_hit(ctx, targets, "truncates", ignored_tier=2):
        return
    else:
        ctx.hit(3, "truncate.file", "truncates files (content lost)")


def _is_world_writable(mode: str) -> bool:
    if mode.isdigit() and len(mode) >= 3:
        return mode[-1] in "2367"
    return any(
        s in mode for s in ("o+w", "a+w", "+w", "o=rw", "a=rw", "o+rwx", "a+rwx", "o=rwx", "a=rwx")
    ) and (mode.startswith(("o", "a", "+")))


def _is_setid(mode: str) -> bool:
    if mode.isdigit() and len(mode) == 4:
        return mode[0] in "24567"
    return "+s" in mode or "=s" in mode or ("s" in mode.split("+")[-1] if "+" in mode else False)


def _chmod(ctx: Ctx) -> None:
    recursive = ctx.short("R", "--recursive")
    pos = [t for t, _ in _targets(ctx, frozenset({"--reference"}))]
    if not pos:
        ctx.hit(2, "chmod.change", "changes permissions")
        return
    mode, targets = pos[0], pos[1:]
    risks = [path_risk(t)[1] for t in targets]
    if recursive and "root" in risks:
        on_slash = any(_expand(t) in ("/", "/*") for t in targets)
        ctx.hit(
            4,
            "chmod.recursive-root",
            "recursively changes permissions of / or home",
            deny=on_slash or _is_world_writable(mode),
        )
    elif recursive and "system" in risks:
        ctx.hit(4, "chmod.recursive-system", "recursively changes permissions of system directories")
    elif recursive and _repository_hit(ctx, targets, "recursively changes permissions of"):
        return
    elif _is_world_writable(mode):
        ctx.hit(3, "chmod.world-writable", f"makes files world-writable ({mode})")
    elif _is_setid(mode):
        ctx.hit(3, "chmod.setuid", f"sets setuid/setgid bits ({mode})")
    elif "system" in risks or "root" in risks:
        ctx.hit(3, "chmod.system", "changes permissions of system files")
    else:
        ctx.hit(2, "chmod.change", "changes file permissions")


def _chown(ctx: Ctx) -> None:
    recursive = ctx.short("R", "--recursive")
    pos = [t for t, _ in _targets(ctx, frozenset({"--reference", "--from"}))]
    if not pos:
        ctx.hit(2, "chown.change", "changes ownership")
        return
    owner, targets = pos[0], pos[1:]
    risks = [path_risk(t)[1] for t in targets]
    if recursive and "root" in risks:
        ctx.hit(4, "chown.recursive-root", "recursively changes ownership of / or home", deny=True)
    elif recursive and "system" in risks:
        ctx.hit(4, "chown.recursive-system", "recursively changes ownership of system directories")
    elif recursive and _repository_hit(ctx, targets, "recursively changes ownership of"):
        return
    elif owner.split(":")[0].split(".")[0] in ("root", "0") and ctx.name == "chown":
        ctx.hit(3, "chown.to-root", "gives files to root")
    elif "system" in risks:
        ctx.hit(3, "chown.system", "changes ownership of system files")
    else:
        ctx.hit(2, "chown.change", "changes file ownership")


_WRITE_VALUE = {
    "install": frozenset(
        {"-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory", "-S", "--suffix"}
    ),
    "cp": frozenset({"-t", "--target-directory", "-S", "--suffix"}),
    "mv": frozenset({"-t", "--target-directory", "-S", "--suffix"}),
    "ln": frozenset({"-t", "--target-directory", "-S", "--suffix"}),
    "split": frozenset({"-l", "-b", "-C", "-n", "-a", "-t", "--additional-suffix", "--filter"}),
    "touch": frozenset({"-d", "-r", "-t", "--date", "--reference"}),
    "mkdir": frozenset({"-m", "--mode"}),
    "setfacl": frozenset({"-m", "-x", "-M", "-X", "--modify", "--remove", "--set", "--set-file"}),
}


_DOWNLOADERS = ("curl", "wget", "fetch", "http", "https", "xh", "aria2c")


def _write_tool(ctx: Ctx) -> None:
    """mv/cp/ln/tee/install/touch/mkdir/tar/split: ordinary writes unless aimed at the system."""
    targets = (
        [t for t, _ in _targets(ctx, _WRITE_VALUE.get(ctx.name, frozenset()))] if ctx.name != "tar" else []
    )
    if ctx.name == "install":
        mode = ctx.value("-m", "--mode")
        if mode and _is_setid(mode):
            ctx.hit(3, "install.setuid", f"installs a setuid/setgid file ({mode})")
            return
    if ctx.name == "mv" and targets and targets[-1] == "/dev/null":
        ctx.hit(3, "mv.dev-null", "moves files onto /dev/null (destroys them)")
        return
    if ctx.name in ("mv", "cp") and _repository_hit(
        ctx,
        targets if ctx.name == "mv" else targets[-1:],
        "moves files over" if ctx.name == "mv" else "copies over",
    ):
        return
    if ctx.name == "tar":
        where = ctx.value("-C", "--directory")
        first = ctx.argv[1] if len(ctx.argv) > 1 else ""
        # old-style keys (`tar xzf - -C /`) have no dash
        extracting = (
            ctx.short("x")
            or ctx.has("--extract", "--get")
            or (first[:1].isalpha() and "x" in first and "=" not in first)
        )
        if where and path_risk(where)[1] in ("root", "system") and extracting:
            if ctx.piped_from and ctx.piped_from[0] in _DOWNLOADERS:
                ctx.hit(
                    4,
                    "tar.extract-network-system",
                    f"extracts an archive downloaded by {ctx.piped_from[0]} over {where} unreviewed",
                )
            else:
                ctx.hit(3, "tar.extract-system", f"extracts an archive over {where}")
            return
        # GNU tar runs these values as commands (through sh -c for the exec/command forms).
        for arg in ctx.argv[1:]:
            for opt in (
                "--checkpoint-action=exec=",
                "--to-command=",
                "--use-compress-program=",
                "--rsh-command=",
            ):
                if arg.startswith(opt):
                    ctx.shell(arg[len(opt) :], f"tar {opt.rstrip('=')}")
            if arg in ("--info-script", "--new-volume-script", "-F") or arg.startswith(
                ("--info-script=", "--new-volume-script=")
            ):
                ctx.hit(3, "tar.runs-script", "tar runs a script between volumes")
        for value in ctx.values("-I", "--use-compress-program", "--to-command", "--rsh-command"):
            ctx.shell(value, "tar compress/command program")
        ctx.hit(2, "fs.archive", "reads or writes archives")
        return
    if ctx.name == "setfacl":
        if ctx.short("R") or ctx.short("b") or ctx.short("k"):
            ctx.hit(3, "setfacl.bulk", "changes or removes ACLs recursively")
        else:
            ctx.hit(2, "setfacl.change", "changes ACLs")
        return
    if any(is_device(t) for t in targets):
        ctx.hit(4, "fs.device-write", f"{ctx.name} writes to a disk device", deny=ctx.name in ("cp", "tee"))
        return
    if ctx.name == "mv" and any(path_risk(t)[1] == "root" for t in targets[:-1]):
        ctx.hit(4, "mv.root-or-home", "moves / or the home directory away")
        return
    written = targets if ctx.name == "tee" else targets[-1:]
    if ctx.name in ("mv", "cp", "ln", "install", "tee") and any(_in_ssh_dir(t) for t in written):
        ctx.hit(3, "fs.ssh-file", f"{ctx.name} overwrites a file in an .ssh directory (keys or trust)")
        return
    if ctx.name in ("mv", "cp", "ln", "install", "tee") and any(is_startup_file(t) for t in written):
        ctx.hit(3, "fs.startup-file", f"{ctx.name} writes a shell startup, ssh or git hook file")
        return
    if ctx.name in ("mv", "cp", "ln", "install", "tee") and any(
        path_risk(t)[1] in ("system", "root") for t in targets[-1:] or targets
    ):
        if ctx.name == "tee" or len(targets) >= 1:
            ctx.hit(3, "fs.system-write", f"{ctx.name} writes into system paths")
            return
    if ctx.name == "mv" and any(path_risk(t)[1] in ("system", "root") for t in targets):
        ctx.hit(3, "fs.system-write", "moves system files")
        return
    tier = 1 if ctx.name in ("mkdir", "touch") else 2
    ctx.hit(2 if tier == 2 else 2, f"fs.{ctx.name}", f"{ctx.name} changes local files")


def _srm(ctx: Ctx) -> None:
    ctx.hit(3, "shred.file", "securely (irrecoverably) deletes files")


def _mount(ctx: Ctx) -> None:
    if len(ctx.argv) == 1 or ctx.has("-l", "--list"):
        ctx.hit(1, "mount.list", "lists mounts")
    else:
        ctx.hit(2 if ctx.name == "mount" else 2, f"fs.{ctx.name}", f"{ctx.name} changes mounts")


_DISPATCH = {
    "rm": _rm,
    "unlink": lambda ctx: _rm(ctx),
    "rmdir": _rmdir,
    "rimraf": _rimraf,
    "del-cli": _rimraf,
    "find": _find,
    "dd": _dd,
    "mkfs": _mkfs,
    "mkswap": _mkfs,
    "shred": _shred,
    "srm": _srm,
    "truncate": _truncate,
    "chmod": _chmod,
    "chown": _chown,
    "chgrp": _chown,
    "fdisk": _disk_tool,
    "sfdisk": _disk_tool,
    "parted": _disk_tool,
    "gdisk": _disk_tool,
    "sgdisk": _disk_tool,
    "wipefs": _disk_tool,
    "blkdiscard": _disk_tool,
    "lvremove": _disk_tool,
    "vgremove": _disk_tool,
    "pvremove": _disk_tool,
    "dmsetup": _disk_tool,
    "mount": _mount,
    "umount": _mount,
}
for _name in ("mv", "cp", "ln", "install", "tee", "touch", "mkdir", "tar", "split", "setfacl"):
    _DISPATCH[_name] = _write_tool

__all__ = ["check", "is_device", "path_risk", "positionals"]
