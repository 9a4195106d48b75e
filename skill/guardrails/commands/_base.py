"""The context a rule family works on, plus small argv helpers shared by the families."""

from __future__ import annotations


class Hit:
    __slots__ = ("tier", "rule_id", "reason", "deny")

    def __init__(self, tier: int, rule_id: str, reason: str, deny: bool = False) -> None:
        self.tier = tier
        self.rule_id = rule_id
        self.reason = reason
        self.deny = deny


class Ctx:
    """One simple command after unwrapping, as seen by a rule family.

    A plain class with __slots__ rather than a dataclass: one is built per simple command on the
    hot path, and the generated dataclass __init__ with eight default factories is measurably slower.
    """

    __slots__ = (
        "name",
        "argv",
        "dynamic",
        "stdin",
        "piped_from",
        "pipe_src",
        "redirects",
        "assigns",
        "cwd",
        "cd_targets",
        "workspace",
        "args_unknown",
        "plan_reviewed",
        "hits",
        "env_hints",
        "nested",
        "sql",
        "notes",
    )

    def __init__(
        self,
        name: str,
        argv: list[str],
        dynamic: list[bool],
        stdin: str | None = None,
        piped_from: list[str] | None = None,
        redirects: list[tuple[str, str]] | None = None,
        assigns: dict[str, str] | None = None,
        cwd: str | None = None,
        cd_targets: list[str] | None = None,
        workspace: str | None = None,
        args_unknown: bool = False,
        pipe_src=None,
        plan_reviewed: bool = False,
    ) -> None:
        self.name = name  # argv[0] basename
        self.argv = argv
        self.dynamic = dynamic
        self.stdin = stdin  # literal here-doc/here-string text fed to the command
        self.piped_from = piped_from  # argv of the command piping into this one (unwrapped)
        self.pipe_src = pipe_src  # the parsed command piping into this one (shell.Simple)
        self.redirects = redirects if redirects is not None else []
        self.assigns = assigns if assigns is not None else {}  # env for this command (incl. exported)
        self.cwd = cwd  # working directory given by the caller (trusted)
        self.cd_targets = cd_targets if cd_targets is not None else []  # `cd` earlier on the line
        self.workspace = workspace  # terraform workspace selected earlier on the line
        self.args_unknown = args_unknown  # extra args appended at run time (xargs, parallel)
        self.plan_reviewed = plan_reviewed  # `devops iac review` ran earlier on the line
        self.hits: list[Hit] = []
        self.env_hints: list[str] = []
        self.nested: list[tuple[str, str, str | None]] = []  # (shell text, label, env)
        self.sql: list[tuple[str, str]] = []  # (statements, dialect)
        self.notes: list[str] = []

    @property
    def piped_literal(self) -> str | None:
        """What the command piping into this one prints, when it is literal (echo, printf, base64 -d)."""
        if self.pipe_src is None:
            return None
        from skill.guardrails.literals import literal_output

        return literal_output(self.pipe_src)

    # -- recording ---------------------------------------------------------------------------
    def hit(self, tier: int, rule_id: str, reason: str, deny: bool = False) -> None:
        self.hits.append(Hit(tier, rule_id, reason, deny))

    def env(self, *texts: str | None) -> None:
        for text in texts:
            if text:
                self.env_hints.append(text)

    def shell(self, text: str, label: str, env: str | None = None) -> None:
        """Classify ``text`` as a shell command line too (bash -c bodies, ssh remote commands)."""
        self.nested.append((text, label, env))

    def run_sql(self, text: str, dialect: str) -> None:
        self.sql.append((text, dialect))

    # -- argv helpers ------------------------------------------------------------------------
    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    def has(self, *flags: str) -> bool:
        """Any of ``flags`` present (long flags also match ``--flag=value``)."""
        for arg in self.argv[1:]:
            if arg == "--":
                return False
            if arg in flags:
                return True
            # `--flag=value`, and Go-style single-dash long flags (`-auto-approve=true`)
            if arg.startswith("-") and "=" in arg and arg.split("=", 1)[0] in flags:
                return True
        return False

    def short(self, letter: str, long: str | None = None, values: str = "") -> bool:
        """A single-letter flag, also inside a bundle (``-rf``), or its long form.

        ``values`` are the letters that take a value: the rest of a bundle after one of them is
        that value, not more flags (``git checkout -bfeature`` has no ``-f``).
        """
        for arg in self.argv[1:]:
            if arg == "--":
                return False
            if long and (arg == long or arg.startswith(long + "=")):
                return True
            if len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and letter in bundle_flags(arg, values):
                return True
        return False

    def value(self, *flags: str) -> str | None:
        """Value of the first of ``flags`` (``--f v``, ``--f=v``, ``-fv`` for short flags)."""
        args = self.argv[1:]
        for i, arg in enumerate(args):
            if arg == "--":
                return None
            for flag in flags:
                if arg == flag:
                    return args[i + 1] if i + 1 < len(args) else ""
                if flag.startswith("--") and arg.startswith(flag + "="):
                    return arg[len(flag) + 1 :]
                if len(flag) == 2 and flag[0] == "-" and flag[1] != "-":
                    if arg.startswith(flag) and len(arg) > 2 and not arg.startswith("--"):
                        return arg[2:].lstrip("=")
                if flag.startswith("-") and not flag.startswith("--") and len(flag) > 2:
                    if arg.startswith(flag + "="):  # terraform-style -chdir=dir
                        return arg[len(flag) + 1 :]
        return None

    def values(self, *flags: str) -> list[str]:
        out = []
        args = self.argv[1:]
        for i, arg in enumerate(args):
            for flag in flags:
                if arg == flag and i + 1 < len(args):
                    out.append(args[i + 1])
                elif arg.startswith(flag + "="):
                    out.append(arg[len(flag) + 1 :])
        return out


def bundle_flags(arg: str, values: str = "") -> str:
    """The flag letters of a short-option bundle (``-rf`` -> ``rf``), up to a value-taking letter."""
    for i, ch in enumerate(arg[1:], 1):
        if ch in values:
            return arg[1 : i + 1]
    return arg[1:]


def positional_indexes(args: list[str], with_value: frozenset[str] | set[str] = frozenset()) -> list[int]:
    """Indexes of the non-option words, skipping the values of options listed in ``with_value``."""
    out = []
    skip = False
    rest = False
    for i, arg in enumerate(args):
        if rest:
            out.append(i)
            continue
        if skip:
            skip = False
            continue
        if arg == "--":
            rest = True
            continue
        if arg.startswith("-") and len(arg) > 1:
            if "=" not in arg and arg in with_value:
                skip = True
            continue
        out.append(i)
    return out


def positionals(args: list[str], with_value: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Non-option words, skipping the values of options listed in ``with_value``."""
    return [args[i] for i in positional_indexes(args, with_value)]


_SYSTEM_BIN = ("/usr/", "/bin/", "/sbin/", "/opt/homebrew/", "/nix/store/", "/snap/bin/")


def local_program(command: str) -> str | None:
    """The program of ``command`` when it is a file of the project or user (``./x``, ``/tmp/x``, ``~/x``).

    Variables and config keys that name a program (GIT_SSH, core.fsmonitor, GIT_EXTERNAL_DIFF) run
    whatever file they point at; the gate cannot see into it, unlike a system tool found on PATH.
    """
    words = command.split()
    if not words:
        return None
    program = words[0].strip("'\"")
    if "/" not in program or program.startswith(_SYSTEM_BIN):
        return None
    return program
