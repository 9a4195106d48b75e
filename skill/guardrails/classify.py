"""Tier a raw shell command line: T1 read-only/preview … T4 critical/destructive.

Entry point: :func:`classify_command`. The line is parsed with tree-sitter-bash (skill.guardrails.
shell), every simple command is unwrapped (sudo, env, timeout, bash -c, xargs …), then judged by the
rule family for its program (skill.guardrails.commands.*). The verdict is the maximum over all parts;
a production target raises a part by one tier. It never raises: anything it cannot make sense of is
at least T3 with a reason.
"""

from __future__ import annotations

from skill.guardrails.wrappers import SHELLS, basename, join_words, unwrap

MAX_COMMAND_CHARS = 131_072  # longer input is not analysed (over budget -> ask)
MAX_NESTING = 24  # bash -c / ssh / eval bodies classified recursively up to this depth
MAX_PARTS = 2_000
# Other readings of a wrapper's words judged per line: each undeclared option doubles the ways to
# read the words after it, so a line of many (`sudo -Z1 -Z2 … cmd`) asks instead of growing without end.
MAX_READINGS = 128


class _Record:
    """Dataclass-like value object without importing dataclasses.

    `import dataclasses` (inspect, ast, tokenize …) plus generating each class's methods costs
    ~10 ms per cold start, a third of the hook's whole budget; these few hand-written classes keep
    the same constructor (positional or keyword), equality and repr.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"

    def to_dict(self) -> dict:
        out = {}
        for f in self._fields:
            value = getattr(self, f)
            if isinstance(value, list):
                value = [v.to_dict() if isinstance(v, _Record) else v for v in value]
            out[f] = value
        return out


class PartVerdict(_Record):
    """One simple command after unwrapping."""

    _fields = ("text", "argv", "tier", "rule_ids", "reasons", "environment", "deny")

    def __init__(
        self,
        text: str,
        argv: list[str],
        tier: int,
        rule_ids: list[str],
        reasons: list[str],
        environment: str | None,
        deny: bool = False,
    ) -> None:
        self.text = text  # normalised text: wrappers stripped, argv[0] basename
        self.argv = argv
        self.tier = tier  # 1..4
        self.rule_ids = rule_ids
        self.reasons = reasons
        self.environment = environment
        self.deny = deny  # hard deny: no approval can pass it


class CommandVerdict(_Record):
    """The verdict of a whole command line: the maximum over its parts."""

    _fields = ("tier", "deny", "rule_ids", "reasons", "deciding", "environment", "parts", "parse_notes")

    def __init__(
        self,
        tier: int,
        deny: bool,
        rule_ids: list[str],
        reasons: list[str],
        deciding: str | None,
        environment: str | None,
        parts: list[PartVerdict],
        parse_notes: list[str] | None = None,
    ) -> None:
        self.tier = tier
        self.deny = deny
        self.rule_ids = rule_ids
        self.reasons = reasons
        self.deciding = deciding
        self.environment = environment
        self.parts = parts
        self.parse_notes = parse_notes if parse_notes is not None else []


_ENV_RANK = {"production": 3, "staging": 2, "development": 1}

READ_ONLY = frozenset(
    """ls ll la dir vdir cat bat batcat head tail less more most grep egrep fgrep rg ag ack wc sort uniq
    cut tr echo printf pwd whoami id groups date cal which type whereis file stat du df free uptime ps
    pgrep pstree top htop btop diff diff3 cmp comm tree jq yq gojq basename dirname realpath readlink
    hostname uname true false test [ [[ sleep seq md5sum sha1sum sha256sum sha512sum cksum b2sum xxd od
    hexdump strings man info help history cd pushd popd dirs dig nslookup host ping ping6
    traceroute tracepath whois lsblk blkid lscpu lsusb lspci lsof lsmod printenv locale tput clear
    column nl tac rev fold fmt expand unexpand paste join look yes env export declare local readonly
    getent nproc arch w who last lastlog vmstat iostat mpstat sar netstat ss ip ifconfig route arp
    nmcli hostnamectl timedatectl localectl whatis apropos zcat zless zgrep xzcat bzcat tldr cowsay
    set shopt ulimit umask wait jobs fg bg disown read mapfile let getopts shift return
    break continue exit logout hash true : base32 base64 iconv numfmt factor expr bc dc column watchexec
    entr fd fdfind fzf sk delta difftool git-lfs-ls colordiff wdiff less tput tty stty logname users
    nvidia-smi envsubst openssl ssh-keyscan ssh-add ssh-agent ssh-keygen gpg-agent""".split()
)

# Build/test/dev-tool commands: they run project code, so T2 (allowed, audited) unless read-only.
BUILD_TOOLS = frozenset(
    """make cmake ninja meson bazel buck gradle gradlew mvn mvnw ant sbt lein npm npx pnpm yarn bun
    deno pip pip3 pipx uv uvx poetry pdm hatch tox nox pytest py.test coverage ruff black isort flake8
    pylint mypy pyright eslint prettier tsc jest vitest mocha go cargo rustc rustup gcc g++ cc clang
    clang++ ld javac java kotlinc swift swiftc dotnet msbuild composer bundle bundler gem rake rails
    mix elixir erl rebar3 stack cabal ghc zig nim dart flutter pod xcodebuild pre-commit cp mv mkdir
    touch ln tar zip unzip gzip gunzip bzip2 xz unxz 7z zstd patch git-crypt code vim vi nvim nano emacs
    open xdg-open brew apt apt-get yum dnf apk pacman port snap flatpak conda mamba micromamba nvm
    asdf mise direnv just task docker-credential-helper gpg age tmux screen""".split()
)

_DEFAULT_UNKNOWN_TIER = 2


class _State:
    """What earlier parts of the line established, shared while classifying one command line."""

    def __init__(self, cwd: str | None, notes: list[str], parts: list[PartVerdict]) -> None:
        self.cwd = cwd
        self.notes = notes
        self.parts = parts
        self.budget_hit = False
        self.exported: dict[str, str] = {}
        self.workspace: str | None = None
        self.cd_targets: list[str] = []
        self.written: dict[str, str | None] = {}  # file -> literal text written on the line (None: unknown)
        self.session: dict[str, str] = {}  # tool family -> context selected earlier on the line
        self.plan_reviewed = False  # `devops iac review` earlier on the line gates a saved-plan apply
        self.readings: set[str] = set()  # other readings already judged (the same text comes by many paths)


def classify_command(command: str, cwd: str | None = None) -> CommandVerdict:
    """Classify a raw shell command line. Never raises."""
    try:
        return _classify_top(command, cwd)
    except RecursionError:
        return _failed("command is nested too deeply to analyse", "shell.too-deep", 3)
    except Exception as exc:  # fail closed: a bug here must not turn into an allow
        return _failed(f"internal classifier error: {type(exc).__name__}", "classifier.error", 4)


def _failed(reason: str, rule: str, tier: int, text: str = "") -> CommandVerdict:
    part = PartVerdict(
        text=text[:200], argv=[], tier=tier, rule_ids=[rule], reasons=[reason], environment=None
    )
    return CommandVerdict(
        tier=tier,
        deny=False,
        rule_ids=[rule],
        reasons=[reason],
        deciding=part.text or None,
        environment=None,
        parts=[part],
        parse_notes=[reason],
    )


def _coerce(command) -> tuple[str, list[str]]:
    notes = []
    if isinstance(command, bytes | bytearray):
        command = bytes(command).decode("utf-8", "surrogateescape")
        notes.append("input was bytes")
    elif not isinstance(command, str):
        command = "" if command is None else str(command)
    return command, notes


def _classify_top(command, cwd: str | None) -> CommandVerdict:
    command, notes = _coerce(command)
    if len(command) > MAX_COMMAND_CHARS:
        return _failed(
            # T4, not T3: an ask would show the start of the line and hide a `rm -rf ~` at its end;
            # a human can still approve the exact text.
            f"command is {len(command):,} characters, over the {MAX_COMMAND_CHARS:,} analysis budget",
            "shell.over-budget",
            4,
            command,
        )
    state = _State(cwd=cwd, notes=notes, parts=[])
    floor: list[tuple[int, str, str]] = []
    if "\x00" in command:
        floor.append((3, "shell.nul-byte", "command contains NUL bytes (not a valid shell line)"))
        command = command.replace("\x00", " ")
    if not command.isascii() and not _valid_utf8(command):
        floor.append((3, "shell.invalid-utf8", "command is not valid UTF-8"))
    elif _binary_junk(command):
        floor.append((3, "shell.binary", "command contains control characters / binary data"))
    _classify_text(command, state, depth=0, inherited_env=None)
    parts = state.parts
    for tier, rule, reason in floor:
        parts.append(
            PartVerdict(
                text=command[:200], argv=[], tier=tier, rule_ids=[rule], reasons=[reason], environment=None
            )
        )
    return _combine(parts, state.notes)


def _valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: the input was not UTF-8
        return False
    return True


_JUNK = None


def _binary_junk(text: str) -> bool:
    global _JUNK
    if text.isprintable():
        return False
    if _JUNK is None:
        import re

        _JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")
    return _JUNK.search(text) is not None


def _combine(parts: list[PartVerdict], notes: list[str]) -> CommandVerdict:
    if not parts:
        return CommandVerdict(
            tier=1,
            deny=False,
            rule_ids=[],
            reasons=[],
            deciding=None,
            environment=None,
            parts=[],
            parse_notes=notes,
        )
    best = max(parts, key=lambda p: (p.deny, p.tier))
    rule_ids: list[str] = []
    reasons: list[str] = []
    for p in parts:
        if p.tier >= best.tier or p.deny:
            for r in p.rule_ids:
                if r not in rule_ids:
                    rule_ids.append(r)
            for r in p.reasons:
                if r not in reasons:
                    reasons.append(r)
    env = None
    for p in parts:
        if p.environment and (env is None or _ENV_RANK.get(p.environment, 0) > _ENV_RANK.get(env, 0)):
            env = p.environment
    return CommandVerdict(
        tier=best.tier,
        deny=any(p.deny for p in parts),
        rule_ids=rule_ids,
        reasons=reasons,
        deciding=best.text,
        environment=env,
        parts=parts,
        parse_notes=notes,
    )


def _classify_text(text: str, state: _State, depth: int, inherited_env: str | None, label: str = "") -> None:
    """Parse ``text`` and append a PartVerdict per simple command to ``state.parts``."""
    from skill.guardrails import shell

    if depth > MAX_NESTING:
        state.parts.append(
            PartVerdict(
                text[:200],
                [],
                3,
                ["shell.too-deep"],
                ["nested shell commands too deep to analyse"],
                inherited_env,
            )
        )
        return
    if len(state.parts) > MAX_PARTS:
        if not state.budget_hit:
            state.budget_hit = True
            state.parts.append(
                PartVerdict(
                    text[:200], [], 3, ["shell.over-budget"], ["too many sub-commands to analyse"], None
                )
            )
        return
    if _is_fork_bomb(text):
        state.parts.append(
            PartVerdict(
                text.strip()[:200], [], 4, ["shell.fork-bomb"], ["fork bomb"], inherited_env, deny=True
            )
        )
        return
    sql_hits = _raw_sql(text)
    if sql_hits is not None:
        tier = max(h[0] for h in sql_hits)
        state.notes.append("the text is an SQL statement, analysed as SQL")
        state.parts.append(
            PartVerdict(
                " ".join(text.split())[:200],
                [],
                tier,
                [h[1] for h in sql_hits],
                [h[2] for h in sql_hits],
                inherited_env,
            )
        )
        return
    if not text.isascii():
        # Unicode spaces (NBSP, U+3000 …) read as separators: `git\u3000status` is meant as
        # `git status`, and `rm\u3000-rf\u3000/` must not slip past as one odd word.
        text = text.translate(_UNICODE_SPACES)
    if "IFS" in text:
        import re

        # $IFS is whitespace at run time: `rm$IFS-rf$IFS/` is `rm -rf /`. The grammar mis-splits
        # some of these forms, so substitute before parsing (harmless inside quoted data).
        text, count = re.subn(r"\$\{IFS\}|\$IFS(?![A-Za-z0-9_])", " ", text)
        if count:
            state.notes.append(f"replaced {count} $IFS with a space")
    parsed = shell.parse(text)
    if len(parsed.commands) > 1:
        from skill.guardrails.exfiltration import link

        link(parsed.commands, state)
    if label:
        state.notes.append(f"{label}: {len(parsed.commands)} command(s) in {text[:80]!r}")
    elif len(parsed.commands) > 1:
        state.notes.append(f"split into {len(parsed.commands)} commands")
    state.notes.extend(parsed.notes)
    if parsed.error:
        state.parts.append(
            PartVerdict(
                text.strip()[:200],
                [],
                3,
                ["shell.parse-error"],
                ["the command could not be parsed completely"],
                inherited_env,
            )
        )
    if parsed.too_deep:
        state.parts.append(
            PartVerdict(text[:200], [], 3, ["shell.too-deep"], ["nesting too deep to analyse"], inherited_env)
        )
    if parsed.too_many:
        state.parts.append(
            PartVerdict(
                text[:200], [], 3, ["shell.over-budget"], ["too many sub-commands to analyse"], inherited_env
            )
        )
    exported = dict(state.exported)
    exported.update(parsed.declared)
    state.exported = exported
    env_hits = _env_var_hits(parsed.declared, state, depth, inherited_env)
    if env_hits:
        state.parts.append(
            PartVerdict(
                text[:200],
                [],
                max(h[0] for h in env_hits),
                [h[1] for h in env_hits],
                [h[2] for h in env_hits],
                inherited_env,
            )
        )
    for simple in parsed.commands:
        if simple.depth > MAX_NESTING:
            continue
        _classify_simple(simple, state, depth, inherited_env)


_UNICODE_SPACES = {cp: " " for cp in (0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)}

_SQL_FIRST_WORDS = frozenset(
    {"drop", "truncate", "delete", "update", "alter", "select", "insert", "grant", "revoke", "create", "with"}
)


def _raw_sql(text: str):
    """SQL pasted as a "command" (DROP TABLE users;) is judged as SQL rather than as a program."""
    stripped = text.lstrip()
    if not stripped or not stripped[0].isalpha():
        return None
    if stripped.split(None, 1)[0].lower() not in _SQL_FIRST_WORDS:
        return None  # statements start with one of these words; skip loading the SQL family
    from skill.guardrails.commands.sql import statement_hits

    return statement_hits(text)


def _is_fork_bomb(text: str) -> bool:
    if "(){" not in text.replace(" ", ""):
        return False
    import re

    squashed = "".join(text.split())
    return re.search(r"([\w:.]+)\(\)\{\1\|\1&\};?\1", squashed) is not None


def _classify_simple(simple, state: _State, depth: int, inherited_env: str | None) -> None:
    from skill.guardrails.commands import Ctx, family_for, run_family

    assigns = dict(state.exported)
    assigns.update(simple.assigns)
    if not simple.argv:
        if simple.redirects:
            _redirect_only(simple, state, inherited_env)
        return
    argv0, dyn0 = simple.argv, simple.dynamic
    if simple.unquoted:
        argv0, dyn0 = _split_variables(argv0, dyn0, simple.unquoted, assigns, state)
    if dyn0 and dyn0[0]:
        argv0, dyn0 = _resolve_variable_name(argv0, dyn0, assigns, state)
    uw = unwrap([_dashes(a) for a in argv0], dyn0, assigns)
    state.notes.extend(uw.notes)
    hits = list(uw.hits)
    prefixed = {k: v for k, v in uw.assigns.items() if state.exported.get(k) != v}
    prefixed.update(simple.assigns)
    hits.extend(_env_var_hits(prefixed, state, depth, inherited_env))
    env_hints: list[str] = []
    if uw.xargs is not None and simple.pipe_src is not None:
        _xargs_literal(uw.xargs, simple.pipe_src, state, depth, inherited_env)
    for text, label in uw.nested:
        _classify_text(text, state, depth + 1, inherited_env, label)
    if uw.script is not None:
        hits.append(_script_file(uw.script, uw.script_dynamic, state, depth, inherited_env))
    elif uw.path0 is not None and uw.path0 in state.written:
        hits.append(_script_file(uw.path0, False, state, depth, inherited_env))
    elif uw.path0 is not None and uw.path0.endswith((".sh", ".bash")) and not (uw.dynamic and uw.dynamic[0]):
        # `./deploy.sh`: a shell script run by path is read like `sh deploy.sh`
        hits.append(_script_file(uw.path0, False, state, depth, inherited_env))
    argv = uw.argv
    text = join_words(argv) if argv else simple.text
    name = argv[0] if argv else ""
    if name and not name.isascii():
        import unicodedata

        # Full-width or compatibility look-alikes (`ｒｍ`): judge them as the program they imitate.
        folded = unicodedata.normalize("NFKC", name)
        if folded != name and folded.isascii():
            name = folded
            argv = [folded, *argv[1:]]
    if name and name not in READ_ONLY and name.lower() != name:
        name = name.lower()  # case-insensitive file systems (macOS) run GIT as git
    deny = False
    nested: list[tuple[str, str, str | None]] = []
    sql: list[tuple[str, str]] = []
    if uw.done or not argv:
        pass
    elif uw.dynamic and uw.dynamic[0]:
        hits.append((3, "shell.dynamic-command", f"the program name {argv[0]!r} is only known at run time"))
    else:
        ctx = Ctx(
            name=name,
            argv=argv,
            dynamic=uw.dynamic,
            stdin=simple.stdin,
            piped_from=_piped_argv(simple),
            pipe_src=simple.pipe_src,
            redirects=simple.redirects,
            assigns=uw.assigns,
            cwd=state.cwd,
            cd_targets=list(state.cd_targets),
            workspace=state.workspace,
            args_unknown=uw.args_unknown,
            plan_reviewed=state.plan_reviewed,
        )
        family = family_for(name)
        if family in _HELP_FAMILIES:
            _generic(ctx, state)
        if not ctx.hits and name in _EXEC_BUILTINS:
            _exec_builtin(ctx, simple, state)
        if not ctx.hits:
            if family is not None:
                run_family(family, ctx)
            elif name in SHELLS:
                _shell_stdin(ctx, simple, state)
            elif name in ("at", "batch"):
                _at_job(ctx, simple, state)
            elif name in READ_ONLY:
                ctx.hit(1, "generic.read-only", f"{name} only reads")
            else:
                from skill.guardrails.commands.generic import check_unknown

                check_unknown(ctx, name in BUILD_TOOLS)
        if name in ("cd", "pushd") and len(argv) == 2 and not uw.dynamic[1]:
            # `cd` may fail (and `;` runs the next part anyway), so rules weigh both directories.
            base = state.cd_targets[-1] if state.cd_targets else state.cwd
            target = argv[1]
            if not target.startswith(("/", "~")) and base:
                import posixpath

                target = posixpath.join(base, target)
            state.cd_targets.append(target)
        _remember_written_file(simple, argv, uw.dynamic, state)
        if name == "devops" and argv[1:3] == ["iac", "review"]:
            state.plan_reviewed = True
        if name == "terraform" or name == "tofu":
            if len(argv) >= 4 and argv[1] == "workspace" and argv[2] in ("select", "new"):
                state.workspace = argv[3]
        selected = _selected_context(name, argv)
        if selected is not None:
            state.session[selected[0]] = selected[1]
        session_key = _SESSION_KEYS.get(name)
        if session_key and session_key in state.session:
            ctx.env(state.session[session_key])
        for h in ctx.hits:
            hits.append((h.tier, h.rule_id, h.reason))
            deny = deny or h.deny
        from skill.guardrails.exfiltration import part_hits

        hits.extend(part_hits(simple, argv, uw.dynamic, uw.assigns, state))
        from skill.guardrails.commands.protections import part_hits as protection_hits

        hits.extend(protection_hits(simple, argv))
        env_hints = ctx.env_hints
        nested = ctx.nested
        sql = ctx.sql
        state.notes.extend(ctx.notes)
    redirect_hits = _redirect_hits(simple.redirects)
    hits.extend(redirect_hits)
    deny = deny or any(h[1] == "redirect.disk-device" for h in redirect_hits)
    from skill.environments import infer_environment

    env = infer_environment(*env_hints) if env_hints else None
    if inherited_env and (env is None or _ENV_RANK.get(inherited_env, 0) > _ENV_RANK.get(env, 0)):
        env = inherited_env
        state.notes.append(f"environment {env}: inherited from the enclosing command")
    elif env is not None:
        signal = next((h for h in env_hints if infer_environment(h) == env), env_hints[0])
        state.notes.append(f"environment {env}: signal {signal[:80]!r} of {name or text[:40]}")
    for body, label, nested_env in nested:
        _classify_text(body, state, depth + 1, nested_env or env, label)
    for body, dialect in sql:
        from skill.guardrails.commands.sql import analyse_sql

        for tier, rule, reason in analyse_sql(body, dialect):
            hits.append((tier, rule, reason))
    if not hits:
        hits.append((1, "generic.no-op", "nothing to run"))
    tier = max(h[0] for h in hits)
    if deny:
        tier = 4
    rule_ids: list[str] = []
    reasons: list[str] = []
    for h in sorted(hits, key=lambda h: -h[0]):
        if h[1] not in rule_ids:
            rule_ids.append(h[1])
            reasons.append(h[2])
    if env == "production" and tier < 4:
        tier += 1
        rule_ids.append("env.production")
        reasons.append("targets production (one tier stricter)")
    elif env in ("staging", "development") and tier == 4 and not deny and _environment_scoped(hits):
        # The environment orders the answer: the same destructive command is T4 in production and
        # one tier below elsewhere (a DELETE without WHERE on a local database is asked, not blocked).
        tier = 3
        rule_ids.append("env.non-production")
        reasons.append(f"targets {env} (one tier below production)")
    state.parts.append(
        PartVerdict(
            text=text, argv=argv, tier=tier, rule_ids=rule_ids, reasons=reasons, environment=env, deny=deny
        )
    )
    for body, label in uw.readings:
        _other_reading(body, label, tier, state, depth, inherited_env)


# Rule families whose T4 is about the environment they act on (a cluster, a database, a cloud
# account): elsewhere one tier lower. Secrets leaving the machine or a wiped disk are T4 anywhere.
_ENV_SCOPED = (
    "kubectl.",
    "helm.",
    "velero.",
    "terraform.",
    "pulumi.",
    "ansible.",
    "cloud.",
    "sql.",
    "mongo.",
    "redis.",
    "migrate.",
    "docker.",
    "compose.",
    "forge.",
)


def _environment_scoped(hits) -> bool:
    return all(h[1].startswith(_ENV_SCOPED) for h in hits if h[0] == 4)


_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"


def _dashes(word: str) -> str:
    """Unicode look-alike dashes in option position count as '-' (as a paste from docs would)."""
    if word and word[0] in _DASHES:
        i = 0
        while i < len(word) and word[i] in _DASHES:
            i += 1
        return "-" * i + word[i:]
    return word


def _other_reading(
    text: str, label: str, tier: int, state: _State, depth: int, inherited_env: str | None
) -> None:
    """Another way to read a wrapper's words (an option the registry does not know took a value; the
    word taken as its operand is the command): judged too, and kept when it asks or blocks where the
    first reading did not (fail closed without turning every `timeout 10 ls` into T2)."""
    if text in state.readings:
        return
    state.readings.add(text)
    if len(state.readings) > MAX_READINGS:
        if len(state.readings) == MAX_READINGS + 1:
            state.parts.append(
                PartVerdict(
                    text[:200],
                    [],
                    3,
                    ["shell.over-budget"],
                    ["too many ways to read the wrapper options to analyse"],
                    inherited_env,
                )
            )
        return
    parts, notes = len(state.parts), len(state.notes)
    _classify_text(text, state, depth + 1, inherited_env, label)
    if max((p.tier for p in state.parts[parts:]), default=0) <= max(tier, 2):
        del state.parts[parts:]
        del state.notes[notes:]


def _xargs_literal(spec, pipe_src, state: _State, depth: int, inherited_env) -> None:
    """`echo ~ | xargs sh -c 'rm -rf "$0"'`: with literal input, judge the commands xargs builds."""
    from skill.guardrails.literals import literal_output

    words, placeholder = spec
    items_text = literal_output(pipe_src)
    if items_text is None or not words:
        return
    items = items_text.splitlines() if placeholder else items_text.split()
    lines = (
        [[w.replace(placeholder, item) for w in words] for item in items[:64]]
        if placeholder
        else [[*words, *items]]
    )
    for argv in lines:
        _classify_text(
            _shell_c_with_operands(argv) or join_words(argv), state, depth + 1, inherited_env, "xargs input"
        )


def _shell_c_with_operands(argv: list[str]) -> str | None:
    """`sh -c BODY a b`: BODY with $0, $1…, $@ and $* replaced by the quoted operands."""
    if basename(argv[0]) not in SHELLS or "-c" not in argv[1:3]:
        return None
    at = argv.index("-c")
    if at + 1 >= len(argv):
        return None
    body, operands = argv[at + 1], argv[at + 2 :]
    quoted = [join_words([o]) for o in operands]
    for i in range(len(quoted) - 1, -1, -1):
        for form in (f'"${i}"', f"${{{i}}}", f"${i}"):
            body = body.replace(form, quoted[i])
    rest = " ".join(quoted[1:])
    for form in ('"$@"', '"$*"', "$@", "$*"):
        body = body.replace(form, rest)
    return body


def _variable_value(word: str, assigns: dict[str, str]) -> str | None:
    """The literal value of ``$X``/``${X}`` when X was assigned a literal on the line, else None."""
    if word.startswith("${") and word.endswith("}"):
        name = word[2:-1]
    elif word.startswith("$"):
        name = word[1:]
    else:
        return None
    value = assigns.get(name) if name.isidentifier() else None
    if value is None or "$" in value or "`" in value:
        return None
    return value


def _split_variables(argv, dynamic, unquoted, assigns, state):
    """`X="push --force"; git $X`: an unquoted literal variable is split into words, as bash does."""
    out: list[str] = []
    dyn: list[bool] = []
    for i, word in enumerate(argv):
        value = _variable_value(word, assigns) if i in unquoted and dynamic[i] else None
        if value is None:
            out.append(word)
            dyn.append(dynamic[i])
            continue
        state.notes.append(f"split ${word.strip('${}')} into {value!r}")
        words = value.split()
        out.extend(words)
        dyn.extend([False] * len(words))
    return out, dyn


def _resolve_variable_name(argv, dynamic, assigns, state):
    """`X=rm; $X -rf /`: a program name held in a literal variable set on the same line."""
    word = argv[0]
    name = None
    if word.startswith("${") and word.endswith("}") and word[2:-1].isidentifier():
        name = word[2:-1]
    elif word.startswith("$") and word[1:].isidentifier():
        name = word[1:]
    if name is None or name not in assigns or "$" in assigns[name] or "`" in assigns[name]:
        return argv, dynamic
    words = assigns[name].split()
    if not words:
        return argv, dynamic
    state.notes.append(f"resolved ${name} to {assigns[name]!r}")
    return words + list(argv[1:]), [False] * len(words) + list(dynamic[1:])


_SESSION_KEYS = {
    "kubectl": "kube",
    "oc": "kube",
    "helm": "kube",
    "velero": "kube",
    "pulumi": "pulumi",
    "gcloud": "gcloud",
    "gsutil": "gcloud",
    "bq": "gcloud",
    "az": "az",
    "docker": "docker",
    "podman": "docker",
    "docker-compose": "docker",
}


def _selected_context(name: str, argv: list[str]) -> tuple[str, str] | None:
    """Commands that switch the current context for the tools run after them on the same line."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    if (
        name in ("kubectl", "oc")
        and words[:2] in (["config", "use-context"], ["config", "use"])
        and len(words) > 2
    ):
        return "kube", words[2]
    if name in ("kubectx", "kubens") and words:
        return "kube", words[0]
    if name == "pulumi" and words[:2] == ["stack", "select"] and len(words) > 2:
        return "pulumi", words[2]
    if name == "gcloud" and words[:3] == ["config", "set", "project"] and len(words) > 3:
        return "gcloud", words[3]
    if name == "gcloud" and words[:3] == ["config", "configurations", "activate"] and len(words) > 3:
        return "gcloud", words[3]
    if name == "az" and words[:2] == ["account", "set"]:
        for i, a in enumerate(argv):
            if a in ("--subscription", "-s", "--name", "-n") and i + 1 < len(argv):
                return "az", argv[i + 1]
    if name in ("docker", "podman") and words[:2] == ["context", "use"] and len(words) > 2:
        return "docker", words[2]
    return None


_EXEC_BUILTINS = frozenset({"source", ".", "alias", "trap", "script", "hash", "enable"})


# Variables whose value programs run as a shell command (git, pagers, editors, ssh, bash itself).
_COMMAND_VARS = frozenset(
    {
        "GIT_SSH_COMMAND",
        "GIT_SSH",
        "GIT_EXTERNAL_DIFF",
        "GIT_PAGER",
        "GIT_EDITOR",
        "GIT_SEQUENCE_EDITOR",
        "GIT_ASKPASS",
        "GIT_PROXY_COMMAND",
        "SSH_ASKPASS",
        "PAGER",
        "MANPAGER",
        "EDITOR",
        "VISUAL",
        "LESSOPEN",
        "LESSCLOSE",
        "PROMPT_COMMAND",
        "RSYNC_RSH",
        "SUDO_ASKPASS",
    }
)
# Variables that make a program load code from a file or option string we cannot see.
_CODE_VARS = frozenset(
    {
        "LD_PRELOAD",
        "LD_AUDIT",
        "DYLD_INSERT_LIBRARIES",
        "BASH_ENV",
        "ENV",
        "PS4",
        "NODE_OPTIONS",
        "PERL5OPT",
        "RUBYOPT",
        "PYTHONSTARTUP",
        "PYTHONWARNINGS",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_EXEC_PATH",
        "GIT_TEMPLATE_DIR",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
    }
)


def _env_var_hits(
    assigns: dict[str, str], state: _State, depth: int, inherited_env
) -> list[tuple[int, str, str]]:
    if not assigns:
        return []
    from skill.guardrails.commands._base import local_program
    from skill.guardrails.commands.git import is_exec_key as git_exec_key

    hits: list[tuple[int, str, str]] = []
    for name, value in assigns.items():
        if name in _COMMAND_VARS and value:
            _classify_text(value, state, depth + 1, inherited_env, f"${name}")
            hits.append((1, "env.command-variable", f"{name} is run as a command (classified)"))
            program = local_program(value)
            if program:
                hits.append(
                    (3, "env.local-program", f"{name} runs the local program {program} (not visible)")
                )
        elif name.startswith("GIT_CONFIG_VALUE_") and value:
            key = assigns.get("GIT_CONFIG_KEY_" + name[17:], "")
            if git_exec_key(key) and not key.lower().startswith("alias."):
                _classify_text(value.lstrip("!"), state, depth + 1, inherited_env, f"GIT_CONFIG {key}")
        elif name in _CODE_VARS and value:
            hits.append((3, "env.code-injection", f"{name} makes programs load code the gate cannot see"))
        else:
            from skill.guardrails.commands.protections import env_hit

            hit = env_hit(name, value)
            if hit is not None:
                hits.append(hit)
    return hits


def _script_file(path: str, dynamic: bool, state: _State, depth: int, inherited_env) -> tuple[int, str, str]:
    """A script run by a shell or `source`: classify it if this line wrote it, else judge its origin."""
    if path in state.written and state.written[path] is None:
        return (
            3,
            "shell.script-written-unknown",
            f"runs {path}, written earlier on the line with unknown content",
        )
    if path in state.written:
        _classify_text(
            state.written[path], state, depth + 1, inherited_env, f"script {path} written on this line"
        )
        return (1, "shell.script-written", f"runs {path}, written earlier on the line (classified)")
    if dynamic and ("<(" in path or "$(" in path or "`" in path):
        lowered = path.lower()
        if any(tool in lowered for tool in ("curl", "wget", "fetch ", "http")):
            return (3, "network.pipe-to-shell", "runs a script downloaded at run time")
        return (3, "shell.stdin-script", f"runs a script produced at run time ({path[:60]})")
    if dynamic:
        return (
            3,
            "shell.dynamic-script",
            f"runs a script whose path is only known at run time ({path[:60]})",
        )
    found = _script_on_disk(path, state, depth, inherited_env)
    if found:
        return (2, "shell.script-read", f"runs the shell script {path} (its commands are judged too)")
    return (2, "shell.script-file", f"runs the shell script {path}")


# What the script-on-disk check leaves out: a script's own unknowns (its $1, its syntax) are not
# the caller's risk; only concrete rules that fired on its commands are carried over.
_UNRESOLVED_RULES = frozenset(
    {
        "shell.parse-error",
        "shell.dynamic-command",
        "shell.dynamic-script",
        "shell.too-deep",
        "shell.over-budget",
        "shell.eval-dynamic",
        "rm.recursive-dynamic",
        "rm.unknown-targets",
        "dd.dynamic-target",
        "shell.stdin-script",
        "generic.odd-program-name",  # a script's own functions and here-doc text are not programs
        "generic.destructive-name",
    }
)
MAX_SCRIPT_BYTES = 64 * 1024


def _script_on_disk(path: str, state: _State, depth: int, inherited_env) -> bool:
    """`sh deploy.sh` written by an earlier tool call: judge the concrete commands in the file.

    Only regular files up to 64 KiB are read; parts whose risk comes only from the script's own
    run-time values are left out, so an ordinary script stays T2 while `rm -rf ~` inside it counts.
    """
    import os

    full = os.path.expanduser(path)
    if not os.path.isabs(full):
        full = os.path.join(state.cwd or os.getcwd(), full)
    try:
        if not os.path.isfile(full) or os.path.getsize(full) > MAX_SCRIPT_BYTES:
            return False
        with open(full, "rb") as fh:
            body = fh.read(MAX_SCRIPT_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    sub = _State(state.cwd, [], [])
    _classify_text(body, sub, depth + 1, inherited_env, f"script {path}")
    for part in sub.parts:
        concrete = [r for r in part.rule_ids if r not in _UNRESOLVED_RULES]
        if part.tier >= 3 and concrete and not set(part.rule_ids) & _UNRESOLVED_RULES or part.deny:
            state.parts.append(part)
    state.notes.append(f"read {path} ({len(body)} characters) and judged its commands")
    return True


def _exec_builtin(ctx, simple, state: _State) -> None:
    """Builtins whose arguments are code: source/., alias bodies, trap handlers, script -c."""
    name = ctx.name
    args = ctx.argv[1:]
    if name in ("source", "."):
        if not args:
            ctx.hit(1, "shell.lookup", f"{name} without a file")
            return
        tier, rule, reason = _script_file(args[0], ctx.dynamic[1], state, 0, None)
        if args[0] in ("/dev/stdin", "/proc/self/fd/0", "-"):
            redirected = [t for op, t in simple.redirects if op == "<"]
            if redirected:
                tier, rule, reason = _script_file(redirected[0], "(" in redirected[0], state, 0, None)
            elif ctx.piped_from:
                tier, rule, reason = (
                    3,
                    "shell.stdin-script",
                    f"sources a script produced by {ctx.piped_from[0]}",
                )
        ctx.hit(tier, rule, reason)
        return
    if name == "alias":
        for arg in args:
            if "=" in arg and not arg.startswith("-"):
                alias, body = arg.split("=", 1)
                ctx.shell(body, f"alias {alias}")
        ctx.hit(1, "shell.alias", "defines aliases (bodies classified)")
        return
    if name == "hash" and "-p" in args:
        # `hash -p /bin/rm ls` makes every later `ls` on this shell run rm
        ctx.hit(3, "shell.rebind", "hash -p rebinds a command name to another program")
        return
    if name == "enable" and any(a.startswith("-") and ("f" in a or "n" in a) for a in args):
        ctx.hit(3, "shell.rebind", "enable -f/-n loads or disables builtins (changes what names run)")
        return
    if name in ("hash", "enable"):
        ctx.hit(1, "shell.lookup", f"{name} lists or refreshes command lookup")
        return
    if name == "trap":
        if args and args[0] not in ("-l", "-p", "--") and not args[0].startswith("-"):
            ctx.shell(args[0], "trap handler")
        ctx.hit(1, "shell.trap", "sets a signal handler (body classified)")
        return
    # script(1): `script -c CMD [file]` runs CMD under a pty
    for i, arg in enumerate(args):
        bundled = arg.startswith("-") and not arg.startswith("--") and "c" in arg
        if (arg == "--command" or bundled) and i + 1 < len(args):
            ctx.shell(args[i + 1], "script -c")
            ctx.hit(1, "shell.script-c", "script -c (command classified)")
            return
    ctx.hit(2, "shell.interactive", "script records a shell session")


def _literal_text(argv: list[str], dynamic: list[bool], stdin: str | None) -> str | None:
    """What `echo`/`printf`/`cat <<EOF` prints, when it is literal."""
    if not argv:
        return None
    if argv[0] in ("echo", "printf") and not any(dynamic[1:]):
        words = argv[1:]
        while words and words[0] in ("-n", "-e", "-E", "-ne", "-en"):
            words = words[1:]
        return " ".join(words).replace("\\n", "\n")
    if argv[0] == "cat" and len(argv) == 1 and stdin is not None:
        return stdin
    return None


def _remember_written_file(simple, argv: list[str], dynamic: list[bool], state: _State) -> None:
    """`echo 'rm -rf /' > x.sh; sh x.sh`: keep literal text written to files on this line.

    A file written here with content we cannot know is remembered as None, so running it later on
    the same line is unresolvable (T3) rather than an ordinary script (T2).
    """
    targets = [t for op, t in simple.redirects if op in (">", ">|", ">>")]
    appends = [t for op, t in simple.redirects if op == ">>"]
    text = _literal_text(argv, dynamic, simple.stdin) if argv else None
    name = argv[0] if argv else ""
    if name == "tee":
        files = [a for a in argv[1:] if not a.startswith("-")]
        targets.extend(files)
        if "-a" in argv or "--append" in argv:
            appends.extend(files)
        src = simple.pipe_src
        text = _literal_text(src.argv, src.dynamic, src.stdin) if src is not None else None
    elif name in ("cp", "mv", "ln", "install", "curl", "wget", "dd", "base64", "xxd", "openssl"):
        # Their output file holds content this line cannot see.
        words = [a for a in argv[1:] if not a.startswith("-")]
        for flag in ("-o", "-O", "--output", "--output-document", "-out"):
            if flag in argv[:-1]:
                words.append(argv[argv.index(flag) + 1])
        for a in argv[1:]:
            if a.startswith(("of=", "--output=", "--output-document=")):
                words.append(a.split("=", 1)[1])
        if words and name in ("cp", "mv", "ln", "install"):
            words = words[-1:]
        for w in words:
            state.written[w] = None
            if not w.startswith("/"):
                state.written["./" + w] = None
    for target in targets:
        if text is None:
            state.written[target] = None
        else:
            before = state.written.get(target) if target in appends else ""
            state.written[target] = None if before is None else ((before + "\n" + text) if before else text)
        if not target.startswith("/"):
            state.written["./" + target] = state.written[target]


def _piped_argv(simple) -> list[str] | None:
    src = simple.pipe_src
    if src is None or not src.argv:
        return None
    uw = unwrap(src.argv, src.dynamic)
    return uw.argv or None


# Tools whose -h means help (for others -h is often a real option: `df -h`, `sudo -h host`).
_DASH_H_HELP = frozenset(
    {
        "kubectl",
        "oc",
        "helm",
        "terraform",
        "tofu",
        "pulumi",
        "gh",
        "glab",
        "gcloud",
        "az",
        "vault",
        "git",
        "systemctl",
        "ansible",
        "ansible-playbook",
        "kustomize",
        "velero",
    }
)


# Families whose programs act on --help wherever it appears. Not ssh/docker/kubectl exec/inline
# interpreters/unknown programs: they pass later words on to another program (`ssh h 'rm -rf x;
# echo' --help` still runs rm), so --help there proves nothing.
_HELP_FAMILIES = frozenset(
    {
        "git",
        "filesystem",
        "iac",
        "kubernetes",
        "containers",
        "cloud",
        "forges",
        "secrets",
        "services",
        "network",
        "sql",
    }
)
_PASS_THROUGH_SUBCOMMANDS = frozenset({"exec", "run", "debug", "attach", "create"})


def _generic(ctx, state: _State) -> None:
    """Help screens are read-only."""
    passes_on = ("kubectl", "oc", "docker", "podman", "nerdctl")
    if ctx.name in passes_on and _PASS_THROUGH_SUBCOMMANDS.intersection(ctx.argv[1:6]):
        return
    for arg in ctx.argv[1:]:
        if arg == "--":
            break
        if arg == "--help":
            ctx.hit(1, "generic.help", "shows help only")
            return
    if ctx.name in _DASH_H_HELP and ctx.argv[-1] in ("-h", "-help") and "--" not in ctx.argv:
        ctx.hit(1, "generic.help", "shows help only")


def _redirect_hits(redirects: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    hits = []
    if not redirects:
        return hits
    from skill.guardrails.commands.filesystem import is_device, is_startup_file

    for op, target in redirects:
        if target.startswith(("/dev/tcp/", "/dev/udp/")):
            hits.append((3, "redirect.network", f"connects a file descriptor to the network ({target})"))
            continue
        if ">" not in op or op.startswith("<") and op != "<>":
            continue
        if (
            target.startswith("&")
            or target in ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")
            or target.isdigit()
        ):
            continue
        if target.startswith(("/dev/tcp/", "/dev/udp/")):
            hits.append((3, "redirect.network", f"connects a file descriptor to the network ({target})"))
        elif is_device(target):
            hits.append((4, "redirect.disk-device", f"writes raw data onto the disk device {target}"))
        elif target.startswith(
            ("/etc/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib", "/sys/", "/proc/", "/var/lib/")
        ):
            hits.append((3, "redirect.system-file", f"overwrites the system file {target}"))
        elif is_startup_file(target):
            hits.append((3, "redirect.shell-startup", f"writes to {target}"))
        else:
            hits.append((2, "redirect.write-file", f"writes to {target}"))
    return hits


def _redirect_only(simple, state: _State, inherited_env: str | None) -> None:
    hits = _redirect_hits(simple.redirects)
    if hits:
        tier = max(h[0] for h in hits)
        deny = any(h[1] == "redirect.disk-device" for h in hits)
        state.parts.append(
            PartVerdict(
                simple.text, [], tier, [h[1] for h in hits], [h[2] for h in hits], inherited_env, deny=deny
            )
        )


def _at_job(ctx, simple, state) -> None:
    """at/batch run a shell script later: from -f FILE or stdin, like `sh`."""
    args = ctx.argv[1:]
    if any(a in ("-l", "-r", "-d", "-c", "-V") for a in args) or ctx.name == "atq":
        ctx.hit(2, "at.manage", f"{ctx.name} lists, shows or removes jobs")
        return
    if "-f" in args[:-1]:
        path = args[args.index("-f") + 1]
        ctx.hit(*_script_file(path, ctx.dynamic[args.index("-f") + 2], state, 0, None))
        return
    ctx.hit(2, "at.schedule", "schedules a shell job for later")
    _shell_stdin(ctx, simple, state)


def _shell_stdin(ctx, simple, state=None) -> None:
    """A shell reading its script from stdin: judge where the script comes from."""
    if ctx.stdin is not None:
        ctx.hit(1, "shell.stdin-literal", "runs a literal here-doc script (classified below)")
        ctx.shell(ctx.stdin, f"{ctx.name} <<here-doc")
        return
    src = ctx.piped_from
    redirected = [t for op, t in simple.redirects if op == "<"]
    if not src and redirected and redirected[0].startswith("<("):
        from skill.guardrails.commands.interpreters import process_substitution_output

        literal = process_substitution_output(redirected[0])
        if literal is not None:
            ctx.hit(
                1, "shell.stdin-literal", "runs literal text from a process substitution (classified below)"
            )
            ctx.shell(literal, f"{ctx.name} < <(…)")
            return
    if not src and redirected:
        tier, rule, reason = _script_file(
            redirected[0], "(" in redirected[0], state or _State(None, [], []), 0, None
        )
        ctx.hit(tier, rule, reason)
        return
    if not src:
        ctx.hit(2, "shell.interactive", f"starts an interactive {ctx.name}")
        return
    from skill.guardrails.literals import literal_output

    decoded = literal_output(simple.pipe_src)
    src_name = src[0]
    if src_name in ("curl", "wget", "fetch", "http", "https", "aria2c", "xh"):
        ctx.hit(3, "network.pipe-to-shell", f"runs a script downloaded by {src_name} without review")
        return
    if decoded is not None:
        ctx.hit(1, "shell.stdin-literal", "runs literal text piped into the shell (classified below)")
        ctx.shell(decoded, f"{src_name} | {ctx.name}")
        return
    if src_name in ("base64", "base32", "xxd", "openssl", "gunzip", "zcat", "rev", "tr"):
        ctx.hit(3, "shell.decoded-payload", f"runs an encoded payload decoded by {src_name}")
        return
    ctx.hit(3, "shell.stdin-script", f"runs a script produced by {src_name} that cannot be checked")
