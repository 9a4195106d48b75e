"""git: history rewrites and discards of uncommitted work are risky; reads are T1."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, bundle_flags, local_program, positionals

_GLOBAL_WITH_VALUE = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env", "--super-prefix"}
)
_READ = frozenset(
    """status log diff show blame grep ls-files ls-tree ls-remote rev-parse rev-list describe shortlog
    reflog cat-file show-ref show-branch whatchanged help version range-diff difftool var check-ignore
    check-attr count-objects fsck verify-commit verify-tag name-rev merge-base cherry for-each-ref
    fetch instaweb annotate bisect""".split()
)
_LOW = frozenset(
    """add commit merge pull rebase cherry-pick revert switch clone init mv notes am apply format-patch
    archive bundle submodule sparse-checkout maintenance config remote tag worktree stash branch
    checkout restore rm reset push clean gc prune lfs mergetool request-pull send-email""".split()
)
_PROTECTED = ("main", "master", "prod", "production", "release", "trunk", "develop")

# Long options of the subcommands judged here (from `git SUB -h`, git 2.39). git accepts any unique
# prefix of a long option (`--har` is `--hard`), so prefixes are expanded against these lists; an
# ambiguous prefix (`--forc`: --force, --force-with-lease, --force-if-includes) is read as every
# candidate, because the strictest reading costs at most an ask for a line git would refuse anyway.
_LONG_OPTIONS = {
    sub: tuple(words.split())
    for sub, words in {
        "reset": "hard intent-to-add keep merge mixed no-refresh patch pathspec-file-nul pathspec-from-file "
        "quiet recurse-submodules soft",
        "checkout": "conflict detach force guess ignore-other-worktrees ignore-skip-worktree-bits merge orphan "
        "ours overlay overwrite-ignore patch pathspec-file-nul pathspec-from-file progress quiet "
        "recurse-submodules theirs track",
        "restore": "conflict ignore-skip-worktree-bits ignore-unmerged merge ours overlay patch "
        "pathspec-file-nul pathspec-from-file progress quiet recurse-submodules source staged theirs worktree",
        "switch": "conflict create detach discard-changes force force-create guess ignore-other-worktrees "
        "merge orphan overwrite-ignore progress quiet recurse-submodules track",
        "clean": "dry-run exclude force interactive quiet",
        "push": "all atomic delete dry-run exec follow-tags force force-if-includes force-with-lease ipv4 ipv6 "
        "mirror no-verify porcelain progress prune push-option quiet receive-pack recurse-submodules repo "
        "set-upstream signed tags thin verbose",
        "branch": "abbrev all color column contains copy create-reflog delete edit-description force format "
        "ignore-case list merged move no-contains no-merged points-at quiet recurse-submodules remotes "
        "set-upstream-to show-current sort track unset-upstream verbose",
        "tag": "annotate cleanup color column contains create-reflog delete edit file force format "
        "ignore-case list local-user merged message no-contains no-merged points-at sign sort verify",
        "gc": "aggressive auto cruft force keep-largest-pack prune quiet",
        "prune": "dry-run exclude-promisor-objects expire progress verbose",
        "reflog": "all dry-run expire expire-unreachable rewrite single-worktree stale-fix updateref verbose",
        "rebase": "abort apply autosquash autostash committer-date-is-author-date continue edit-todo empty "
        "exec force-rebase fork-point gpg-sign ignore-whitespace interactive keep-base merge no-ff no-stat "
        "no-verify onto quiet quit reapply-cherry-picks rebase-merges rerere-autoupdate "
        "reschedule-failed-exec reset-author-date root show-current-patch signoff skip strategy "
        "strategy-option update-refs verbose whitespace",
        "difftool": "dir-diff extcmd gui no-index no-prompt symlinks tool tool-help trust-exit-code",
        "worktree": "force",
        "stash": "all include-untracked index keep-index message only-untracked patch quiet staged",
    }.items()
}


def expand_long_options(sub: str, args: list[str]) -> list[str]:
    """``args`` with abbreviated long options written out as git reads them."""
    known = _LONG_OPTIONS.get(sub)
    if not known:
        return args
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        if not arg.startswith("--") or len(arg) < 3:
            out.append(arg)
            continue
        name, eq, value = arg[2:].partition("=")
        negated = name.startswith("no-") and name not in known and not any(k.startswith(name) for k in known)
        stem = name[3:] if negated else name
        if stem in known:
            out.append(arg)
            continue
        candidates = [k for k in known if k.startswith(stem)]
        if not candidates:
            out.append(arg)
            continue
        out.extend(f"--{'no-' if negated else ''}{k}{eq}{value}" for k in candidates)
    return out


def _split_global(argv: list[str]) -> tuple[list[str], list[str]]:
    """(global options, subcommand + its args)."""
    i = 1
    globals_: list[str] = []
    while i < len(argv):
        a = argv[i]
        if a in _GLOBAL_WITH_VALUE:
            globals_.extend(argv[i : i + 2])
            i += 2
            continue
        if a.startswith("-"):
            globals_.append(a)
            i += 1
            continue
        break
    return globals_, argv[i:]


# Configuration keys whose value git runs as a command.
_EXEC_KEYS = (
    "core.sshcommand",
    "core.pager",
    "core.editor",
    "core.fsmonitor",
    "credential.helper",
    "diff.external",
    "sequence.editor",
    "gpg.program",
    "core.askpass",
    "uploadpack.packobjectshook",
)


def _config_exec(ctx: Ctx, key: str, value: str) -> None:
    key = key.lower()
    if key != "core.hookspath" and is_exec_key(key):
        program = local_program(value.lstrip("!"))
        if program:
            ctx.hit(
                3,
                "git.local-program",
                f"git {key} runs the local program {program} (not visible to the gate)",
            )
    if key.startswith("submodule.") and key.endswith(".update") and value.startswith("!"):
        # `git submodule update` runs a `!command` update strategy in the shell
        ctx.shell(value[1:], f"git {key}")
        ctx.hit(2, "git.config-exec", f"git {key} runs a shell command (classified)")
    elif key.startswith("alias.") and value.startswith("!"):
        ctx.shell(value[1:], f"git alias {key[6:]}")
        ctx.hit(2, "git.config-exec", f"git {key} runs a shell command (classified)")
    elif key == "core.hookspath":
        ctx.hit(3, "git.config-exec", "points git hooks at another directory")
    elif key in _EXEC_KEYS or (
        key.startswith(("filter.", "diff."))
        and key.endswith((".clean", ".smudge", ".process", ".textconv", ".command"))
    ):
        ctx.shell(value, f"git -c {key}")
        ctx.hit(2, "git.config-exec", f"git {key} runs a command (classified)")


def _runs_commands(ctx: Ctx, s: Ctx, sub: str, args: list[str]) -> None:
    """Subcommands that take a shell command as an argument: classify it like any other line."""
    if sub == "submodule" and "foreach" in args:
        words = [a for a in args[args.index("foreach") + 1 :] if a not in ("--recursive", "-q", "--quiet")]
        if words:
            ctx.shell(" ".join(words), "git submodule foreach")
    elif sub == "bisect" and args[:1] == ["run"] and len(args) > 1:
        import shlex

        ctx.shell(shlex.join(args[1:]), "git bisect run")
    elif sub in ("rebase", "difftool"):
        flags = ("-x", "--exec") if sub == "rebase" else ("-x", "--extcmd")
        for value in s.values(*flags):
            ctx.shell(value, f"git {sub} {flags[1]}")
        for a in args:
            if a.startswith(flags[1] + "="):
                ctx.shell(a.split("=", 1)[1], f"git {sub} {flags[1]}")
            elif a.startswith("-x") and len(a) > 2:
                ctx.shell(a[2:], f"git {sub} -x")


def _config_pairs(globals_: list[str], ctx: Ctx) -> list[tuple[str, str | None]]:
    """(key, value) set by `-c KEY=VALUE` and `--config-env=KEY=ENVVAR` (None: value unknown)."""
    pairs: list[tuple[str, str | None]] = []
    for i, g in enumerate(globals_):
        if g == "-c" and i + 1 < len(globals_) and "=" in globals_[i + 1]:
            key, value = globals_[i + 1].split("=", 1)
            pairs.append((key, value))
        elif g.startswith("--config-env") and (g.startswith("--config-env=") or i + 1 < len(globals_)):
            spec = g.split("=", 1)[1] if "=" in g else globals_[i + 1]
            key, _, var = spec.partition("=")
            pairs.append((key, ctx.assigns.get(var)))
    return pairs


def _aliases(globals_: list[str], ctx: Ctx) -> dict[str, str]:
    out = {}
    for key, value in _config_pairs(globals_, ctx):
        if key.lower().startswith("alias.") and value and not value.startswith("!"):
            out[key[6:].lower()] = value
    return out


def is_exec_key(key: str) -> bool:
    """Configuration keys whose value git runs (a program, a shell command or a hook directory)."""
    key = key.lower()
    return (
        key in _EXEC_KEYS
        or key == "core.hookspath"
        or key.startswith("alias.")
        or (key.startswith("submodule.") and key.endswith(".update"))
        or (
            key.startswith(("filter.", "diff."))
            and key.endswith((".clean", ".smudge", ".process", ".textconv", ".command"))
        )
    )


def check(ctx: Ctx) -> None:
    globals_, rest = _split_global(ctx.argv)
    for key, value in _config_pairs(globals_, ctx):
        if value is None:
            if is_exec_key(key):
                ctx.hit(
                    3, "git.config-exec", f"git runs {key} from an environment variable the gate cannot see"
                )
        else:
            _config_exec(ctx, key, value)
    if not rest:
        ctx.hit(1, "git.read", "git without a subcommand prints usage")
        return
    sub, args = rest[0].lower(), rest[1:]
    if ctx.dynamic[len(ctx.argv) - len(rest)]:
        ctx.hit(3, "git.dynamic-subcommand", f"the git subcommand {rest[0]!r} is only known at run time")
        return
    aliases = _aliases(globals_, ctx)
    if sub in aliases:
        # `git -c alias.x=push x --force`: a config alias names another subcommand.
        expanded = aliases[sub].split()
        if expanded:
            ctx.notes.append(f"git alias {sub!r} is {aliases[sub]!r}")
            sub, args = expanded[0].lower(), expanded[1:] + args
    args = expand_long_options(sub, args)
    rest = [sub, *args]
    sctx = Ctx(name="git " + sub, argv=rest, dynamic=[False] * len(rest))
    _runs_commands(ctx, sctx, sub, args)
    fn = _SUBS.get(sub)
    if fn is not None:
        fn(ctx, sctx, args)
        return
    if sub in _READ:
        ctx.hit(1, "git.read", f"git {sub} only reads")
    elif sub in _LOW:
        ctx.hit(2, "git.change", f"git {sub} changes the local repository")
    elif sub in ("filter-branch", "filter-repo", "replace"):
        ctx.hit(3, "git.rewrite-history", f"git {sub} rewrites history")
    elif sub == "update-ref" and ("-d" in args or "--stdin" in args):
        ctx.hit(3, "git.delete-ref", "deletes refs directly")
    else:
        ctx.hit(2, "git.other", f"git {sub}")


def _reset(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if s.has("--hard"):
        ctx.hit(3, "git.reset-hard", "git reset --hard discards uncommitted changes")
    elif s.has("--merge", "--keep"):
        ctx.hit(3, "git.reset-merge", "git reset --merge/--keep can discard local changes")
    else:
        ctx.hit(2, "git.reset", "moves HEAD/unstages (working tree kept)")


def _checkout(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if "--" in args and args.index("--") < len(args) - 1:
        ctx.hit(3, "git.checkout-discard", "git checkout -- <paths> discards uncommitted changes")
        return
    if s.has("-f", "--force") or s.short("f", values="bBU"):
        ctx.hit(3, "git.checkout-force", "git checkout --force discards local changes")
        return
    if s.has("-b", "-B", "--orphan", "--track", "-t", "--detach"):
        ctx.hit(2, "git.change", "creates or switches branches")
        return
    pos = positionals(
        args, frozenset({"--conflict", "--pathspec-from-file", "-b", "-B", "--orphan", "-U", "--unified"})
    )
    if "." in pos or len(pos) >= 2:
        ctx.hit(3, "git.checkout-discard", "checking out paths overwrites uncommitted changes")
        return
    ctx.hit(2, "git.change", "switches branches")


def _restore(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    staged = s.has("--staged") or s.short("S")
    worktree = s.has("--worktree") or s.short("W")
    if staged and not worktree:
        ctx.hit(2, "git.unstage", "unstages changes (working tree kept)")
    else:
        ctx.hit(3, "git.restore-worktree", "git restore discards uncommitted changes in the working tree")


def _switch(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if s.has("--discard-changes", "--force", "-f") or s.short("f", values="cC"):
        ctx.hit(3, "git.switch-discard", "git switch --discard-changes loses local changes")
    else:
        ctx.hit(2, "git.change", "switches branches")


def _clean(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if s.short("n", "--dry-run"):
        ctx.hit(1, "git.clean-dry-run", "git clean -n only lists what would be removed")
    elif (
        (s.short("f", "--force") or s.short("i", "--interactive"))
        and s.short("X", values="e")
        and not s.short("x", values="e")
    ):
        # -X removes only what .gitignore names: build output and caches, regenerable by definition
        ctx.hit(2, "git.clean-ignored", "git clean -X deletes only git-ignored (regenerable) files")
    elif s.short("f", "--force") or s.short("i", "--interactive"):
        ctx.hit(3, "git.clean-force", "git clean -f deletes untracked files permanently")
    else:
        ctx.hit(1, "git.clean-noop", "git clean without -f refuses to delete")


def _push(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    force = False
    lease = False
    for a in args:
        if a == "--":
            break
        if a in ("--force-with-lease", "--force-if-includes", "--no-force-with-lease") or a.startswith(
            "--force-with-lease="
        ):
            lease = lease or a != "--no-force-with-lease"
            continue
        if a.startswith("--force") or (
            a.startswith("-") and not a.startswith("--") and "f" in bundle_flags(a, "o")
        ):
            force = True
    pos = positionals(args, frozenset({"--repo", "-o", "--push-option", "--receive-pack", "--exec"}))
    refspecs = pos[1:]
    if any(r.startswith("+") for r in refspecs):
        force = True
    deleting = s.has("--delete", "-d") or any(r.startswith(":") and len(r) > 1 for r in refspecs)
    # A glob refspec (`refs/heads/*:refs/heads/*`) covers every branch, protected ones included.
    protected = any(
        r.lstrip("+:").split(":")[-1].rsplit("/", 1)[-1] in _PROTECTED or "*" in r for r in refspecs
    )
    if s.has("--dry-run") or s.short("n", values="o"):
        ctx.hit(1, "git.push-dry-run", "git push --dry-run only shows what would be pushed")
        return
    if s.has("--mirror"):
        ctx.hit(3, "git.push-mirror", "git push --mirror overwrites and deletes remote refs")
    if s.has("--prune"):
        ctx.hit(3, "git.push-prune", "git push --prune deletes remote branches that do not exist locally")
    if force:
        if protected:
            ctx.hit(4, "git.force-push-protected", "force-pushes over a protected branch")
        else:
            ctx.hit(3, "git.force-push", "git push --force can overwrite remote history")
    elif deleting:
        ctx.hit(4 if protected else 3, "git.push-delete", "deletes a remote branch or tag")
    elif lease and protected:
        # The lease only guards against commits we have not fetched; it still rewrites the branch.
        ctx.hit(3, "git.force-push-lease-protected", "force-pushes (with lease) over a protected branch")
    elif not s.has("--mirror", "--prune"):
        ctx.hit(2, "git.push", "pushes commits")


def _branch(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    force_delete = False
    for a in args:
        flags = bundle_flags(a, "u") if a.startswith("-") and not a.startswith("--") else ""
        if "D" in flags or "f" in flags or a == "--force":
            force_delete = True
        if a == "--delete" and s.has("--force"):
            force_delete = True
    if force_delete:
        ctx.hit(3, "git.branch-force", "deletes or resets a branch even if unmerged")
    elif s.has("-d", "--delete", "-m", "-M", "--move", "-c", "-C") or s.short("d"):
        ctx.hit(2, "git.branch-change", "deletes a merged branch / renames a branch")
    else:
        pos = positionals(
            args,
            frozenset(
                {
                    "--contains",
                    "--merged",
                    "--no-merged",
                    "--sort",
                    "--format",
                    "--points-at",
                    "-u",
                    "--set-upstream-to",
                }
            ),
        )
        ctx.hit(
            2 if pos else 1,
            "git.branch" if pos else "git.read",
            "creates a branch" if pos else "lists branches",
        )


def _stash(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    sub = args[0] if args else "push"
    if sub in ("clear",):
        ctx.hit(3, "git.stash-clear", "git stash clear deletes every stash")
    elif sub in ("drop",):
        ctx.hit(3, "git.stash-drop", "git stash drop deletes a stash")
    elif sub in ("list", "show"):
        ctx.hit(1, "git.read", "lists stashes")
    else:
        ctx.hit(2, "git.stash", f"git stash {sub}")


def _worktree(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    sub = args[0] if args else "list"
    if sub == "remove" and (s.has("--force") or s.short("f")):
        ctx.hit(3, "git.worktree-remove-force", "removes a worktree with uncommitted changes")
    elif sub == "list":
        ctx.hit(1, "git.read", "lists worktrees")
    else:
        ctx.hit(2, "git.change", f"git worktree {sub}")


def _reflog(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if args and args[0] in ("expire", "delete"):
        ctx.hit(3, "git.reflog-expire", "expiring the reflog removes the safety net for lost commits")
    else:
        ctx.hit(1, "git.read", "reads the reflog")


def _gc(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if any(a.startswith("--prune=now") or a == "--prune=all" for a in args) or (
        ctx.name == "git" and args[:1] == ["--expire=now"]
    ):
        ctx.hit(3, "git.gc-prune-now", "prunes unreachable objects immediately")
    else:
        ctx.hit(2, "git.change", "git gc")


def _tag(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    if s.has("-d", "--delete") or s.short("d"):
        ctx.hit(2, "git.tag-delete", "deletes a local tag")
    elif s.has("-f", "--force"):
        ctx.hit(3, "git.tag-force", "moves an existing tag")
    elif positionals(
        args, frozenset({"-m", "-F", "-u", "--sort", "--format", "--contains", "--points-at", "--cleanup"})
    ):
        ctx.hit(2, "git.tag", "creates a tag")
    else:
        ctx.hit(1, "git.read", "lists tags")


def _config(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    pos = positionals(args, frozenset({"-f", "--file", "--blob", "--type"}))
    if len(pos) >= 2 and pos[0] not in ("get", "list", "unset", "--get"):
        key, value = (pos[1], pos[2]) if pos[0] == "set" and len(pos) > 2 else (pos[0], pos[1])
        _config_exec(ctx, key, value)
    if s.has("--get", "--get-all", "--list", "-l", "--get-regexp", "--show-origin") or args[:1] in (
        ["get"],
        ["list"],
    ):
        ctx.hit(1, "git.read", "reads configuration")
    else:
        pos = positionals(args, frozenset({"-f", "--file", "--blob"}))
        ctx.hit(1 if len(pos) <= 1 else 2, "git.config", "git config")


def _remote(ctx: Ctx, s: Ctx, args: list[str]) -> None:
    pos = positionals(args)
    if not pos or pos[0] in ("show", "get-url"):
        ctx.hit(1, "git.read", "lists remotes")
    elif pos[0] in ("remove", "rm", "prune"):
        ctx.hit(2, "git.remote-remove", f"git remote {pos[0]}")
    else:
        ctx.hit(2, "git.change", f"git remote {pos[0]}")


_SUBS = {
    "reset": _reset,
    "checkout": _checkout,
    "restore": _restore,
    "switch": _switch,
    "clean": _clean,
    "push": _push,
    "branch": _branch,
    "stash": _stash,
    "worktree": _worktree,
    "reflog": _reflog,
    "gc": _gc,
    "prune": _gc,
    "tag": _tag,
    "config": _config,
    "remote": _remote,
}
