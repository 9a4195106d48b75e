"""Where a path lands relative to the git working tree a command runs in (issue 12 §3).

A recursive delete is judged by what it destroys: git-ignored build output and caches inside the
worktree are regenerable (T2), tracked or unignored files are someone's work (T3), the `.git`
folder, the worktree root or anything above it loses the repository (T4). Outside a worktree,
temp dirs are scratch and `$HOME` is the user's (T3; a glob directly in `$HOME` T4).

Read-only and cheap: the worktree is found by looking for `.git` upwards from the working
directory (a few stats), and ignore/tracked questions go to git itself, started with
``posix_spawn`` (importing subprocess would cost more than the question) and only for a delete
inside a worktree. Repository configuration that would make git run a program (fsmonitor, hooks)
is switched off for these calls: the gate must not execute what it is judging.
"""

from __future__ import annotations

import os
import posixpath

GIT_TIMEOUT = 2.0  # seconds; a git that does not answer leaves the path "tracked" (T3)

_ROOTS: dict[str, str | None] = {}


def worktree_root(cwd: str) -> str | None:
    """The top of the git worktree containing ``cwd`` (a `.git` dir or file), or None."""
    if cwd in _ROOTS:
        return _ROOTS[cwd]
    found = None
    d = cwd
    for _ in range(64):
        if os.path.lexists(posixpath.join(d, ".git")):
            found = d
            break
        parent = posixpath.dirname(d)
        if parent == d:
            break
        d = parent
    _ROOTS[cwd] = found
    return found


def home_dir() -> str:
    return posixpath.normpath(os.environ.get("HOME") or os.path.expanduser("~"))


def absolute(cwd: str, path: str) -> str:
    """``path`` made absolute against ``cwd`` with `~` expanded and `..` folded (no symlinks followed)."""
    if path == "~" or path.startswith("~/"):
        path = home_dir() + path[1:]
    elif not path.startswith("/"):
        path = posixpath.join(cwd, path)
    return posixpath.normpath(path).replace("//", "/")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class PathVerdict:
    __slots__ = ("tier", "kind", "note")

    def __init__(self, tier: int, kind: str, note: str) -> None:
        self.tier = tier
        self.kind = kind  # git-dir | worktree-root | ignored | tracked | home | home-glob | temp
        self.note = note


def judge(cwd: str | None, path: str, temp_prefixes: tuple[str, ...]) -> PathVerdict | None:
    """The worktree/home verdict for deleting ``path`` from ``cwd``; None when these rules do not apply."""
    if not cwd or not cwd.startswith("/"):
        return None
    target = absolute(cwd, path)
    root = worktree_root(cwd)
    if root is None or not (_inside(target, root) or _inside(root, target)):
        # the target may sit in another worktree (`rm -rf /tmp/other-project/.git`)
        root = worktree_root(target) or root
    if root is not None and root != "/":
        if _inside(root, target):
            return PathVerdict(4, "worktree-root", f"the worktree {root} or a folder above it")
        if _inside(target, posixpath.join(root, ".git")):
            return PathVerdict(4, "git-dir", f"inside {root}/.git (the repository itself)")
        if _inside(target, root):
            if any(c in target for c in "*?[") or "$" in target:
                pattern_ok = _ignored(root, target.replace("*", "x").replace("?", "x"))
                if pattern_ok and not _has_tracked(root, target):
                    return PathVerdict(
                        2, "ignored", f"matches only git-ignored output of the worktree {root}"
                    )
                return PathVerdict(3, "tracked", f"files of the worktree {root}")
            if _ignored(root, target) and not _has_tracked(root, target):
                return PathVerdict(2, "ignored", f"git-ignored (regenerable) in the worktree {root}")
            return PathVerdict(3, "tracked", f"tracked or unignored files of the worktree {root}")
    home = home_dir()
    if home != "/" and _inside(target, home) and target != home:
        if posixpath.dirname(target) == home and any(c in target for c in "*?["):
            return PathVerdict(4, "home-glob", f"a glob over the home directory {home}")
        return PathVerdict(3, "home", "in the home directory, outside any worktree")
    for prefix in temp_prefixes:
        if _inside(target, prefix.rstrip("/")) and target != prefix.rstrip("/"):
            return PathVerdict(2, "temp", "scratch space in a temp dir, outside any worktree")
    return None


def check_ignored(root: str, path: str) -> bool:
    """True when git ignores ``path`` (which need not exist) in the worktree ``root``."""
    return _ignored(root, path)


def _ignored(root: str, path: str) -> bool:
    rel = posixpath.relpath(path, root)
    if not os.path.lexists(path) and not rel.endswith("/"):
        # a folder that does not exist yet: `__pycache__/` patterns only match directories, so ask
        # for both readings (git answers for paths that do not exist)
        code, out = _git(root, ["check-ignore", "--", rel, rel + "/"])
        return code == 0 and len(out.splitlines()) >= 1
    code, _ = _git(root, ["check-ignore", "-q", "--", rel])
    return code == 0


def _has_tracked(root: str, path: str) -> bool:
    """Any tracked file at or below ``path`` (an ignored folder can still hold forced-in files)."""
    code, out = _git(root, ["ls-files", "-z", "--", posixpath.relpath(path, root)])
    return code != 0 or bool(out)


_ANSWERS: dict[tuple[str, ...], tuple[int, bytes]] = {}


def _git(root: str, args: list[str]) -> tuple[int, bytes]:
    """git's answer, once per question and process (a batch asks about `build/` many times)."""
    key = (root, *args)
    if key not in _ANSWERS:
        _ANSWERS[key] = _run_git(root, args)
    return _ANSWERS[key]


def _run_git(root: str, args: list[str]) -> tuple[int, bytes]:
    """Run git read-only in ``root``: (exit code, first 4 KiB of stdout); (-1, b"") when it cannot."""
    import select

    argv = [
        "git",
        "-C",
        root,
        "-c",
        "core.fsmonitor=false",
        "-c",
        "core.hooksPath=/dev/null",
        "--no-optional-locks",
        *args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    read_fd, write_fd = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        pid = os.posix_spawnp(
            "git",
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, write_fd, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
            ],
        )
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        os.close(devnull)
        return -1, b""
    os.close(write_fd)
    os.close(devnull)
    out = b""
    finished = False
    try:
        while len(out) < 4096:
            ready, _, _ = select.select([read_fd], [], [], GIT_TIMEOUT)
            if not ready:
                break
            chunk = os.read(read_fd, 4096)
            if not chunk:
                finished = True
                break
            out += chunk
    finally:
        os.close(read_fd)
    if not finished:  # timed out, or enough output read: do not wait for the rest
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, out
