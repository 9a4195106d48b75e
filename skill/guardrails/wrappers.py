"""Wrapper programs (sudo, env, timeout, xargs, bash -c …) and the command each one runs.

Every wrapper is one declared :class:`Wrapper` in ``WRAPPERS``, like the rule families in
``commands``: the names it matches, the options that take a value, the operands between its options
and the command (timeout's duration), and, where the command is not simply the next word, a
function that finds it (a ``bash -c`` body, an xargs template, a runner's subcommand). :func:`unwrap`
applies them in one loop until the program is no wrapper. Adding a wrapper is adding one entry.

Fail closed on what the registry does not know: an option a wrapper declares neither as a flag nor
as taking a value is read as a flag (the next word is the command), and the reading where it took
that word as its value is recorded too (``Unwrapped.readings``); so is the reading where the word
taken as an operand (chrt's priority, taskset's mask) is the command. classify.py keeps another
reading's verdict when it asks or blocks where the first did not.

This module imports nothing from the rest of the gate: classify.py, the rule families and the
exfiltration pass all build on it, so imports go one way.
"""

from __future__ import annotations

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish", "rbash", "tcsh", "csh"})


def basename(word: str) -> str:
    """The program a path names: `/usr/bin/sudo` runs sudo, `rm.exe` rm."""
    if "/" in word:
        word = word.rstrip("/").rsplit("/", 1)[-1]
    if word.endswith(".exe"):
        word = word[:-4]
    return word


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+~^{}[]*?#")


def join_words(argv: list[str]) -> str:
    """Normalised part text: words joined by spaces, quoted only where needed to stay unambiguous."""
    out = []
    for word in argv:
        if word and all(ch in _PLAIN for ch in word):
            out.append(word)
        elif "$" in word and '"' not in word and "`" not in word and "\\" not in word:
            out.append('"' + word + '"')  # keeps `$HOME` reading as the variable it was
        else:
            out.append("'" + word.replace("'", "'\\''") + "'")
    return " ".join(out)


def skip_options(args: list[str], with_value: frozenset[str]) -> int:
    """Index of the first non-option word of a wrapper's arguments."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return i + 1
        if not a.startswith("-") or a == "-":
            return i
        i += 2 if a in with_value else 1
    return i


class Unwrapped:
    """A simple command with its wrappers removed, plus what the wrappers themselves implied."""

    def __init__(self, argv, dynamic, assigns, notes, hits, nested) -> None:
        self.argv: list[str] = argv
        self.dynamic: list[bool] = dynamic
        self.assigns: dict[str, str] = assigns
        self.notes: list[str] = notes
        self.hits: list[tuple[int, str, str]] = hits
        self.nested: list[tuple[str, str]] = nested  # (shell text, label)
        self.args_unknown = False
        self.placeholder: str | None = None
        self.script: str | None = None  # a script file run by a shell (`bash deploy.sh`)
        self.script_dynamic = False
        self.path0: str | None = None  # the program as written, when a path was reduced to its basename
        self.done = False  # fully handled by the unwrapper (e.g. `command -v x`)
        self.xargs: tuple[list[str], str | None] | None = None  # (command words, -I placeholder)
        # (shell text, label): other ways to read the words (an undeclared option took a value, the
        # word taken as an operand is the command); classify judges them and keeps the stricter
        self.readings: list[tuple[str, str]] = []


class Wrapper:
    """One wrapper program, declared.

    ``find(wrapper, res, args, dynamic)`` moves ``res.argv`` to the inner command and returns True
    (unwrap on), or records what the wrapper runs in ``res`` and returns False (stop). The default
    skips the options (``values`` take the next word), then ``operands`` words, and runs the rest.
    """

    __slots__ = ("names", "values", "flags", "operands", "assigns", "subcommands", "find")

    def __init__(
        self,
        names: str,
        values: str = "",
        *,
        flags: str = "",
        operands: int = 0,
        assigns: bool = False,
        subcommands: tuple[str, ...] = (),
        find=None,
    ) -> None:
        self.names = tuple(names.split())
        self.values = frozenset(values.split())  # options that take a separate value
        self.flags = frozenset(flags.split())  # options known to take none
        self.operands = operands  # words between the options and the command (`timeout 10 cmd`)
        self.assigns = assigns  # `sudo VAR=value cmd`: assignments before the command set its env
        self.subcommands = subcommands  # a runner's subcommands that run a program (`uv run`)
        self.find = find or _prefix


def unwrap(argv: list[str], dynamic: list[bool], assigns: dict[str, str] | None = None) -> Unwrapped:
    """Strip wrappers (sudo, env, timeout, xargs, bash -c …) recursively."""
    res = Unwrapped(list(argv), list(dynamic), dict(assigns or {}), [], [], [])
    for _ in range(64):
        if not res.argv or (res.dynamic and res.dynamic[0]):
            return res
        name = basename(res.argv[0])
        if name != res.argv[0]:
            res.notes.append(f"resolved {res.argv[0]!r} to {name!r}")
            res.path0 = res.argv[0]
            res.argv[0] = name
        wrapper = WRAPPERS.get(name)
        if wrapper is None or not wrapper.find(wrapper, res, res.argv[1:], res.dynamic[1:]):
            return res
    res.hits.append((3, "shell.too-deep", "too many nested wrappers"))
    return res


def _advance(res: Unwrapped, start: int, label: str | None = None) -> bool:
    res.notes.append(f"unwrapped {label or res.argv[0]}")
    res.argv = res.argv[start:]
    res.dynamic = res.dynamic[start:]
    return True


def _runs_text(res: Unwrapped, text: str, label: str) -> bool:
    """The wrapper runs ``text`` as a shell command line: classified as one, nothing left to unwrap."""
    res.nested.append((text, label))
    res.done = True
    return False


# -- how wrappers find their command -------------------------------------------------------------
def _declared(w: Wrapper, option: str) -> bool:
    """``option`` is complete as one word: a declared flag or value option, a bundle of short flags
    (`-EH`), a value attached to its option (`-oL`, `--user=x`) or a number (`nice -19`). A bundle
    ending in a value option (`sudo -iu root`) takes the next word, which skip_options does not see."""
    if option in w.flags or option in w.values or "=" in option or option[1:].isdigit():
        return True
    if option.startswith("--"):
        return False
    for i, letter in enumerate(option[1:], 2):
        if "-" + letter in w.values:
            return i < len(option)  # the rest of the word is its value; at the end, the next word is
        if "-" + letter not in w.flags:
            return False
    return True


def _undeclared(w: Wrapper, args: list[str], idx: int) -> bool:
    """``args[idx]`` follows an option ``w`` does not declare, so it may be that option's value."""
    if not 0 < idx < len(args):
        return False
    option = args[idx - 1]
    return option.startswith("-") and option not in ("-", "--") and not _declared(w, option)


def _option_readings(w: Wrapper, res: Unwrapped, args: list[str], end: int, start: int = 0) -> None:
    """Fail closed on options the registry does not know: each one in ``args[:end]`` (the words read
    as options, or all of them for a wrapper that takes options anywhere) was read as a flag, but it
    may take the next word as its value, and then everything after it reads differently (the word
    read as the command is a value; a word read as an option is a value, so the word read as that
    option's value is the command). Record the reading of the line without both words; it is
    unwrapped again, so later options and wrappers still count."""
    i = start
    while i < end and i < len(args):
        option = args[i]
        if option == "--":
            return
        if _undeclared(w, args, i + 1) and i + 2 < len(args):
            text = join_words([res.argv[0], *args[:i], *args[i + 2 :]])
            if all(text != seen for seen, _ in res.readings):
                label = f"{res.argv[0]} {option} {args[i + 1]} (if {option} takes {args[i + 1]!r})"
                res.readings.append((text, label))
        i += 2 if option in w.values else 1


def _prefix(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    idx = skip_options(args, w.values)
    _option_readings(w, res, args, idx)
    if w.operands and idx < len(args):
        # `chrt kubectl delete …` has no priority: the word taken as the operand may be the command
        res.readings.append((join_words(args[idx:]), f"{res.argv[0]} {args[idx]} (if it is the command)"))
    if w.assigns:
        while idx < len(args) and "=" in args[idx] and args[idx].split("=", 1)[0].isidentifier():
            key, value = args[idx].split("=", 1)
            res.assigns[key] = value
            idx += 1
    return _advance(res, idx + w.operands + 1)


def _sudo(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    """sudo, doas, pkexec, run0: elevated; with no command pkexec and run0 (and sudo -i/-s) open a
    root shell."""
    res.hits.append((2, "sudo.elevated", "runs with elevated privileges"))
    if skip_options(args, w.values) >= len(args) and (
        res.argv[0] in ("pkexec", "run0")
        or any(
            a in ("-i", "-s", "--login", "--shell")
            or (a.startswith("-") and not a.startswith("--") and ("i" in a or "s" in a))
            for a in args
        )
    ):
        res.hits.append((3, "sudo.root-shell", "opens a root shell"))
    return _prefix(w, res, args, dyn)


def _chroot(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    if skip_options(args, w.values) + w.operands >= len(args):
        res.hits.append((2, "shell.interactive", "chroot starts a shell in the new root"))
        res.done = True
        return False
    return _prefix(w, res, args, dyn)


def _capsh(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    """`capsh [--opt=value …] -- ARGS`: ARGS go to the shell (--shell=, else bash); `== ARGS`
    runs capsh again with them."""
    shell, shell_dyn = "bash", False
    for i, a in enumerate(args):
        if a.startswith("--shell="):
            shell, shell_dyn = a.split("=", 1)[1], dyn[i]
        elif a in ("--", "-+", "==", "=+"):
            program, program_dyn = (shell, shell_dyn) if a in ("--", "-+") else ("capsh", False)
            _advance(res, i + 2)
            res.argv = [program, *res.argv]
            res.dynamic = [program_dyn, *res.dynamic]
            return True
    return False  # no shell or command: capsh only sets up and reports


def _exec(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    if skip_options(args, w.values) >= len(args):
        return False  # `exec 3>file`: only redirections, judged as exec itself
    return _prefix(w, res, args, dyn)


def _command(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    if args and args[0].startswith("-") and any(c in args[0] for c in "vV"):
        res.done = True
        res.hits.append((1, "shell.lookup", "looks a command up without running it"))
        return False
    return _prefix(w, res, args, dyn)


def _busybox(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    if args and args[0].startswith("-"):
        return False
    return _advance(res, 1)


def _env(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    i = 0
    while i < len(args):
        a = args[i]
        if a in w.values:
            i += 2
            continue
        if a in ("-S", "--split-string") and i + 1 < len(args):
            return _runs_text(res, " ".join(args[i + 1 :]), "env -S")
        if a.startswith("--split-string="):
            return _runs_text(res, a.split("=", 1)[1] + " " + " ".join(args[i + 1 :]), "env -S")
        if a.startswith("-S") and len(a) > 2:
            return _runs_text(res, a[2:] + " " + " ".join(args[i + 1 :]), "env -S")
        split = a.find("S") if a.startswith("-") and not a.startswith("--") else -1
        if split > 1 and all("-" + letter in w.flags for letter in a[1:split]):
            # `env -iS 'cmd'`: flags bundled before -S, whose value follows (attached or next word)
            return _runs_text(res, " ".join([a[split + 1 :], *args[i + 1 :]]).strip(), "env -S")
        if a.startswith("-") and a != "-":
            i += 1
            continue
        if "=" in a and a.split("=", 1)[0].replace("_", "a").isalnum():
            key, value = a.split("=", 1)
            res.assigns[key] = value
            i += 1
            continue
        break
    _option_readings(w, res, args, i)
    if i >= len(args):
        res.argv, res.dynamic = ["env"], [False]
        res.notes.append("env without a command (prints the environment)")
        return False
    return _advance(res, i + 1)


def _flock(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    idx = skip_options(args, w.values)
    rest = args[idx + 1 :]
    cidx = None
    for i, a in enumerate(args[:idx]):
        if a in ("-c", "--command") and i + 1 < len(args):
            cidx = i + 1
    if rest and rest[0] in ("-c", "--command") and len(rest) > 1:
        _option_readings(w, res, args, idx)
        return _runs_text(res, rest[1], "flock -c")
    if cidx is not None:
        _option_readings(w, res, args, idx)
        return _runs_text(res, args[cidx], "flock -c")
    return _prefix(w, res, args, dyn)  # `flock FILE cmd …`: the lock file is its operand


def _watch(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    idx = skip_options(args, w.values)
    _option_readings(w, res, args, idx)
    if any(a in ("-x", "--exec") for a in args[:idx]):
        return _advance(res, idx + 1)
    return _runs_text(res, " ".join(args[idx:]), "watch")  # watch hands its words to `sh -c`


def _xargs(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    idx = skip_options(args, w.values)
    _option_readings(w, res, args, idx)
    placeholder = None
    for i, a in enumerate(args[:idx]):
        if a == "-I" and i + 1 < idx:
            placeholder = args[i + 1]
        elif a.startswith("-I") and len(a) > 2:
            placeholder = a[2:]
        elif a.startswith(("-i", "--replace")):
            placeholder = "{}"
    res.notes.append("unwrapped xargs (arguments come from stdin)")
    res.xargs = (args[idx:], placeholder)
    if idx >= len(args):
        res.argv, res.dynamic = ["echo"], [False]
        return False
    res.args_unknown = True
    res.placeholder = placeholder
    return _advance(res, idx + 1)


_PARALLEL_SEPARATORS = (":::", "::::", ":::+", "::::+")


def _parallel(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    idx = skip_options(args, w.values)
    _option_readings(w, res, args, idx)
    cmd = []
    for a in args[idx:]:
        if a in _PARALLEL_SEPARATORS:
            break
        cmd.append(a)
    res.notes.append("unwrapped parallel")
    inputs: list[str] = []
    group = None
    for a in args[idx + len(cmd) :]:
        if a in _PARALLEL_SEPARATORS:
            group = a.rstrip("+")
        elif group == ":::":
            inputs.append(a)
        else:
            inputs = []  # inputs from files or stdin: unknown, judged below
            break
    if inputs:
        # Literal inputs: with no command each one is a command line; otherwise it fills
        # {} or is appended to the command, like parallel does.
        # parallel joins the command's words with spaces (a shell line) and quotes inputs.
        for item in inputs[:64]:
            quoted = join_words([item])
            if not cmd:
                line = item
            elif any("{}" in c for c in cmd):
                line = " ".join(c.replace("{}", quoted) for c in cmd)
            else:
                line = " ".join([*cmd, quoted])
            res.nested.append((line, "parallel input"))
        res.done = True
        return False
    res.args_unknown = True
    res.placeholder = "{}"
    if len(cmd) == 1 and " " in cmd[0]:
        return _runs_text(res, cmd[0], "parallel")
    if not cmd:
        # No command: every input line is a command line, like a shell reading its stdin.
        res.notes.append("parallel runs its input lines as commands")
        res.argv, res.dynamic = ["sh"], [False]
        res.args_unknown = False
        return False
    res.argv = cmd
    res.dynamic = [("{" in a) for a in cmd]
    return True


def _subcommand(w: Wrapper, args: list[str], i: int) -> int | None:
    """How many words of a runner's subcommand (`run`, `tool run`) start at ``args[i]``."""
    for sub in w.subcommands:
        words = sub.split()
        if args[i : i + len(words)] == words:
            return len(words)
    return None


def _runner(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    """Package-manager runners execute another program: `npx prisma migrate reset` is judged as
    `prisma migrate reset`."""
    i = 0
    if w.subcommands:
        # global options first, then the subcommand (`uv run`, `uv tool run`, `npm exec`)
        while i < len(args) and args[i].startswith("-"):
            i += 2 if args[i] in w.values else 1
        _option_readings(w, res, args, i)  # `uv --cache-dir DIR run cmd`
        matched = _subcommand(w, args, i)
        if matched is None:
            return False
        i += matched
    start = i
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in w.values else 1
    _option_readings(w, res, args, i, start)
    if i < len(args) and args[i] == "--":
        i += 1
    i += w.operands  # direnv exec DIR cmd
    if i >= len(args):
        return False
    return _advance(res, i + 1, f"{res.argv[0]} (runner)")


def _eval(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    if any(dyn):
        res.hits.append((3, "shell.eval-dynamic", "eval of a run-time value cannot be checked"))
    return _runs_text(res, " ".join(args), "eval")


def _getopt(w: Wrapper, args: list[str]) -> tuple[dict[str, tuple[int, str]], list[int]]:
    """Options and operands the way GNU getopt reads them when it permutes (su, runuser): options
    anywhere before `--`, bundled (`-lc CMD`), with the value attached (`-cCMD`, `--command=CMD`) or
    as the next word. Returns {option: (index of the word holding its value, the value)} (flags:
    (-1, "")) and the indexes of the operands."""
    options: dict[str, tuple[int, str]] = {}
    operands: list[int] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands.extend(range(i + 1, len(args)))
            break
        if not a.startswith("-") or a == "-":
            operands.append(i)
        elif a.startswith("--"):
            option, eq, value = a.partition("=")
            if option in w.values and not eq and i + 1 < len(args):
                i += 1
                value = args[i]
            options[option] = (i, value) if option in w.values else (-1, "")
        else:
            for k, letter in enumerate(a[1:], 2):
                if "-" + letter not in w.values:
                    options["-" + letter] = (-1, "")
                elif k < len(a):
                    options["-" + letter] = (i, a[k:])
                    break
                elif i + 1 < len(args):
                    i += 1
                    options["-" + letter] = (i, args[i])
        i += 1
    return options, operands


def _su(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    """su, and runuser without -u: `su [options] [-] [USER [ARGS…]]`. The user's shell (-s, else sh)
    runs -c CMD and ARGS (`su - app deploy.sh`); getopt permutes, so options may follow USER."""
    options, operands = _getopt(w, args)
    if "-u" in options or "--user" in options:
        return _prefix(w, res, args, dyn)  # `runuser -u USER [--] CMD …`: the command follows
    _option_readings(w, res, args, args.index("--") if "--" in args else len(args))
    if operands and args[operands[0]] == "-":
        operands = operands[1:]  # a mere `-` is --login
    words = [(args[i], dyn[i]) for i in operands[1:]]  # after USER: the shell's arguments
    command = [options[o] for o in ("-c", "--command", "--session-command") if o in options]
    if command:
        at, text = max(command)
        words = [("-c", False), (text, dyn[at]), *words]
    if res.argv[0] == "su":
        res.hits.append((3, "su.switch-user", "switches user (usually to root)"))
    if not words:
        if res.argv[0] != "su":
            res.hits.append((2, "shell.interactive", f"{res.argv[0]} starts a shell as another user"))
        res.done = True
        return False
    at, shell = max((options[o] for o in ("-s", "--shell") if o in options), default=(-1, "sh"))
    res.notes.append(f"unwrapped {res.argv[0]} (the user's shell runs the rest)")
    res.argv = [shell, *(word for word, _ in words)]
    res.dynamic = [at >= 0 and dyn[at], *(d for _, d in words)]
    return True


def _screen(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    # screen [-opts] CMD ARGS… runs CMD; `screen -X stuff TEXT` types TEXT into a session's shell.
    idx = 0
    while idx < len(args) and args[idx].startswith("-") and args[idx] != "-X":
        # a bundle ending in a value option (`-dmS name`) takes the next word too
        idx += 2 if args[idx][-1] in "ScehptT" and args[idx] != "-ls" else 1
    _option_readings(w, res, args, idx)
    if "-X" in args[:idx] or (idx < len(args) and args[idx] == "-X"):
        words = args[args.index("-X") + 1 :]
        if words[:1] == ["stuff"] and len(words) > 1:
            res.nested.append((" ".join(words[1:]).replace("\\n", "\n").replace("^M", "\n"), "screen stuff"))
        res.hits.append((2, "screen.command", "sends a command to a screen session"))
        res.done = True
        return False
    if idx >= len(args):
        res.hits.append((2, "screen.session", "starts or attaches a screen session"))
        res.done = True
        return False
    return _advance(res, idx + 1)


# tmux subcommands whose trailing words are a shell command (send-keys: keystrokes into a shell).
_TMUX_RUNS = frozenset(
    """new-session new new-window neww split-window splitw respawn-pane respawnp respawn-window
    respawnw run-shell run send-keys send display-popup popup if-shell if pipe-pane pipep""".split()
)
_TMUX_VALUE = frozenset({"-t", "-s", "-n", "-c", "-F", "-e", "-x", "-y", "-l", "-p", "-T"})
_TMUX_KEYS = frozenset({"Enter", "C-m", "KPEnter", "C-j"})


def _tmux(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    sub_idx = skip_options(args, w.values)
    _option_readings(w, res, args, sub_idx)
    sub = args[sub_idx] if sub_idx < len(args) else ""
    if sub in _TMUX_RUNS:
        words = args[sub_idx + 1 :]
        body_idx = skip_options(words, _TMUX_VALUE)
        body = [word for word in words[body_idx:] if not (sub.startswith("send") and word in _TMUX_KEYS)]
        if body:
            res.nested.append((" ".join(body), f"tmux {sub}"))
    res.hits.append((2, "tmux.session", f"tmux {sub or 'session'}"))
    res.done = True
    return False


def _shell(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
    """bash/sh/zsh: -c STRING is classified as a command line; a script file is opaque."""
    if any(a.startswith(_SHELL_COMMAND_OPTIONS) for a in args):
        # `fish --command=CMD`: the same as the option and its value as two words
        split_args: list[str] = []
        split_dyn: list[bool] = []
        for a, d in zip(args, dyn, strict=True):
            option, eq, value = a.partition("=")
            words = [option, value] if eq and option in _SHELL_COMMAND_OPTIONS else [a]
            split_args.extend(words)
            split_dyn.extend([d] * len(words))
        args, dyn = split_args, split_dyn
    i = 0
    command_string = None
    reads_stdin = False
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a in w.values:
            i += 2
            continue
        if a in ("--init-command", "-C") and res.argv[0] == "fish" and i + 1 < len(args):
            res.nested.append((args[i + 1], "fish --init-command"))  # runs before the script
            i += 2
            continue
        if a in _SHELL_COMMAND_OPTIONS:
            # fish's command options; other shells refuse them, so reading them as fish does is safe
            if i + 1 < len(args):
                command_string = i + 1
            i += 2
            break
        if a.startswith(("-", "+")) and len(a) > 1:
            if not a.startswith("--") and "c" in a[1:]:
                # The command string is the first operand after the option words.
                j = i + 1
                while j < len(args) and args[j].startswith("-") and args[j] != "-":
                    j += 1
                if j < len(args):
                    command_string = j
                i = j
                break
            if not a.startswith("--") and "s" in a[1:]:
                reads_stdin = True  # -s: the script comes from stdin, operands are its arguments
            i += 1
            continue
        break
    _option_readings(w, res, args, i)
    if command_string is not None:
        text = args[command_string]
        if dyn[command_string]:
            res.hits.append((3, "shell.dynamic-script", "shell -c with a run-time command string"))
        if res.placeholder and res.placeholder in text:
            res.hits.append((3, "shell.templated-script", "shell -c body is filled in at run time"))
        return _runs_text(res, text, f"{res.argv[0]} -c")
    if i < len(args) and args[i] not in ("-", "-s") and not reads_stdin:
        res.script = args[i]
        res.script_dynamic = dyn[i]
        res.done = True
        return False
    res.argv = [res.argv[0]]
    res.dynamic = [False]
    return False  # reads its script from stdin: handled by the caller with the pipe source


_SHELL_COMMAND_OPTIONS = ("--command", "--init-command")


def _runs_body(find_body):
    """A tool that takes the command to run as an option value or a trailing string."""

    def find(w: Wrapper, res: Unwrapped, args: list[str], dyn: list[bool]) -> bool:
        if w.flags or w.values:
            _option_readings(w, res, args, skip_options(args, w.values))
        body = find_body(args)
        if body is None:
            return False  # no command given: judged as the tool itself
        name = res.argv[0]
        res.hits.append((2, f"{name}.runs-command", f"{name} runs a command (classified)"))
        return _runs_text(res, body, name)

    return find


def _option_value(args: list[str], options: tuple[str, ...]) -> str | None:
    """The value of the last of ``options`` given as a separate word."""
    body = None
    for i, a in enumerate(args):
        if a in options and i + 1 < len(args):
            body = args[i + 1]
    return body


def _sg_body(args: list[str]) -> str | None:
    if len(args) < 2:
        return None
    return args[2] if args[1] == "-c" and len(args) > 2 else " ".join(args[1:])


def _vagrant_body(args: list[str]) -> str | None:
    return _option_value(args, ("-c", "--command")) if args[:1] == ["ssh"] else None


def _nix_shell_body(args: list[str]) -> str | None:
    return _option_value(args, ("--run", "--command"))


def _gdb_body(args: list[str]) -> str | None:
    cmds = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-ex", "--ex", "-eval-command")]
    body = "\n".join(
        c.split(None, 1)[1] if c.startswith("shell ") else c[1:]
        for c in cmds
        if c.startswith(("shell ", "!"))
    )
    return body or None


def _entr_body(args: list[str]) -> str | None:
    idx = skip_options(args, frozenset())
    rest = args[idx:]
    if not rest:
        return None
    return rest[0] if "-s" in args[:idx] else join_words(rest)


# -- the registry -------------------------------------------------------------------------------
_SU_VALUES = "-c --command --session-command -s --shell -g --group -G --supp-group -w --whitelist-environment"
_SU_FLAGS = "-l --login -m -p --preserve-environment -f --fast -P --pty"
WRAPPERS: dict[str, Wrapper] = {}


def _declare(*wrappers: Wrapper) -> None:
    for wrapper in wrappers:
        for name in wrapper.names:
            if name in WRAPPERS:
                raise ValueError(f"wrapper {name!r} declared twice")
            WRAPPERS[name] = wrapper


_declare(
    # privilege and scheduling prefixes: options, then the command
    Wrapper(
        "sudo",
        "-u -g -h -C -D -p -r -t -U -T -a -c --user --group --host --chdir --prompt --role --type --other-user "
        "--command-timeout --close-from -R --chroot --auth-type --login-class",
        flags="-A --askpass -b --background -B --bell -E --preserve-env -e --edit -H --set-home -i --login "
        "-K --remove-timestamp -k --reset-timestamp -l --list -N --no-update -n --non-interactive "
        "-P --preserve-groups -S --stdin -s --shell -V --version -v --validate",
        assigns=True,
        find=_sudo,
    ),
    Wrapper("doas", "-u -C", flags="-L -n -s", assigns=True, find=_sudo),
    Wrapper("pkexec", "--user", flags="--disable-internal-agent --keep-cwd", find=_sudo),
    Wrapper(
        "run0",
        "-u --user -g --group -D --chdir --unit --property --description --slice --nice --setenv "
        "--background --machine --shell-prompt-prefix",
        flags="--no-ask-password --pty --pipe --slice-inherit",
        find=_sudo,
    ),
    # run a command as another user or in another root (they need root already; no extra tier)
    Wrapper("gosu su-exec setuidgid s6-setuidgid", operands=1),  # the user
    Wrapper("chpst", "-u -U -b -e -/ -n -l -L -m -d -o -p -f -c", flags="-v -P -0 -1 -2"),
    Wrapper(
        "setpriv",
        "--ambient-caps --inh-caps --bounding-set --ruid --euid --rgid --egid --reuid --regid --groups "
        "--securebits --pdeathsig --selinux-label --apparmor-profile",
        flags="-d --dump --nnp --no-new-privs --clear-groups --keep-groups --init-groups --reset-env",
    ),
    Wrapper("chroot", "--groups --userspec", flags="--skip-chdir", operands=1, find=_chroot),  # the root
    Wrapper("capsh", find=_capsh),
    Wrapper("nice", "-n --adjustment"),
    Wrapper("ionice", "-c -n -p -P -u --class --classdata", flags="-t --ignore"),
    Wrapper("nohup noglob builtin"),
    Wrapper("setsid", flags="-c --ctty -f --fork -w --wait"),
    Wrapper("chronic", flags="-e -v -b"),
    Wrapper("unbuffer", flags="-p"),
    Wrapper("torsocks", "-u -p -a -P --user --pass --address --port", flags="-i --isolate -d"),
    Wrapper(
        "chrt",
        "-T -P -D --sched-runtime --sched-period --sched-deadline",
        flags="-a --all-tasks -b --batch -d --deadline -f --fifo -i --idle -o --other -r --rr "
        "-R --reset-on-fork -v --verbose",
        operands=1,  # the priority
    ),
    Wrapper("taskset", flags="-a --all-tasks -c --cpu-list", operands=1),  # the CPU mask or list
    Wrapper("time", "-f -o --format --output", flags="-p --portability -v --verbose -a --append -q --quiet"),
    Wrapper("exec", "-a", flags="-c -l", find=_exec),
    Wrapper("stdbuf", "-i -o -e --input --output --error"),
    Wrapper("caffeinate", "-t -w", flags="-d -i -m -s -u"),
    Wrapper("proxychains proxychains4", "-f", flags="-q"),
    Wrapper(
        "runuser",
        _SU_VALUES + " -u --user",
        flags=_SU_FLAGS,
        find=_su,  # with -u it is a prefix (`runuser -u app -- cmd`); without, su's shell runs the rest
    ),
    Wrapper(
        "nsenter",
        "-t --target -S --setuid -G --setgid -W --wdns",
        # the namespace options, --root and --wd take their value only attached (`--wd=/srv`)
        flags="-a --all -m -u -i -n -p -U -C -T --mount --uts --ipc --net --pid --user --cgroup --time "
        "-r --root -w --wd -F --no-fork --preserve-credentials",
    ),
    Wrapper("dotenv", "-e -v -c"),
    Wrapper("command", flags="-p", find=_command),
    Wrapper(
        "env",
        "-u --unset -C --chdir -P",
        flags="-i --ignore-environment -0 --null -v --debug --block-signal --default-signal --ignore-signal "
        "--list-signal-handling",
        find=_env,
    ),
    Wrapper(
        "timeout",
        "-s -k --signal --kill-after",
        flags="-v --verbose --preserve-status --foreground",
        operands=1,
    ),  # the duration
    Wrapper(
        "flock",
        "-w -E -c --timeout --wait --conflict-exit-code --command",
        flags="-s --shared -x -e --exclusive -u --unlock -n --nb --nonblock -o --close -F --no-fork --verbose",
        operands=1,  # the lock file
        find=_flock,
    ),
    Wrapper(
        "watch",
        "-n --interval -q --equexit",
        # -d/--differences take their value only attached (`--differences=permanent`)
        flags="-b --beep -c --color -d --differences -e --errexit -g --chgexit -p --precise -t --no-title "
        "-w --no-wrap -x --exec",
        find=_watch,
    ),
    Wrapper("busybox", find=_busybox),
    # commands built from stdin or argument lists
    Wrapper(
        "xargs",
        "-I -L -n -P -s -d -E -a --max-args --max-procs --delimiter --arg-file --max-chars --process-slot-var",
        # -i/-l/-e and --replace/--max-lines/--eof take their value only attached (`-i{}`, `--eof=END`)
        flags="-0 --null -i --replace -l -e --eof -o --open-tty -p --interactive -r "
        "--no-run-if-empty -t --verbose -x --exit --show-limits",
        find=_xargs,
    ),
    Wrapper(
        "parallel",
        "-j --jobs -S --sshlogin --joblog -a --arg-file --delay --timeout --retries -n --max-args "
        "--colsep -d --delimiter --results --tmpdir --workdir --env",
        find=_parallel,
    ),
    # package-manager runners: the program after a subcommand (`uv run`) or right away (`npx`)
    Wrapper("npx", "-p --package -c --call", find=_runner),
    Wrapper("bunx", "-p --package", find=_runner),
    Wrapper("pnpx", find=_runner),
    Wrapper("uvx", "--from --with -p --python", find=_runner),
    Wrapper(
        "uv",
        "--with -p --python --directory --project --env-file --package --group --extra",
        subcommands=("run", "tool run"),
        find=_runner,
    ),
    Wrapper("pipx", "--spec --python", subcommands=("run",), find=_runner),
    Wrapper("poetry", "-C --directory -P --project", subcommands=("run",), find=_runner),
    Wrapper("pdm", "-p --project", subcommands=("run",), find=_runner),
    Wrapper("hatch", "-e --env", subcommands=("run",), find=_runner),
    Wrapper("pnpm", "-C --dir --filter -F", subcommands=("exec", "dlx"), find=_runner),
    Wrapper("yarn", "-p --package", subcommands=("dlx", "exec"), find=_runner),
    Wrapper("npm", "-p --package -w --workspace -c --call", subcommands=("exec", "x"), find=_runner),
    Wrapper("bundle", subcommands=("exec",), find=_runner),
    Wrapper("conda", "-n --name -p --prefix", subcommands=("run",), find=_runner),
    Wrapper("mise", subcommands=("exec", "x"), find=_runner),
    Wrapper("direnv", subcommands=("exec",), operands=1, find=_runner),  # the directory
    Wrapper("nix", subcommands=("run", "shell"), find=_runner),
    # a command line handed over as text
    Wrapper("eval", find=_eval),
    Wrapper("su", _SU_VALUES, flags=_SU_FLAGS, find=_su),
    Wrapper(
        "screen",
        "-c -e -h -p -s -S -t -T -Logfile",
        flags="-a -A -d -D -r -R -f -fn -fa -i -l -ln -ls -list -L -m -O -q -Q -U -v -wipe -x",
        find=_screen,
    ),
    Wrapper("tmux", "-L -S -f -c -T", find=_tmux),
    Wrapper("sg", find=_runs_body(_sg_body)),
    Wrapper("vagrant", find=_runs_body(_vagrant_body)),
    Wrapper("nix-shell", find=_runs_body(_nix_shell_body)),
    Wrapper("gdb", find=_runs_body(_gdb_body)),
    Wrapper("entr", flags="-a -c -d -n -p -r -s -z", find=_runs_body(_entr_body)),
    Wrapper(
        " ".join(sorted(SHELLS)) + " busybox-sh",
        "-o +o -O +O --rcfile --init-file",
        flags="-a -b -c -e -f -h -i -k -l -m -n -p -r -s -t -u -v -x -B -C -E -H -P -T --norc --noprofile "
        "--login --posix --restricted --verbose --noediting --debugger --dump-strings --dump-po-strings "
        "--pretty-print --rpm-requires --interactive --no-execute --no-config --private",
        find=_shell,
    ),
)
