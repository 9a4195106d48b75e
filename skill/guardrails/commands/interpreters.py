"""Inline interpreter code (python -c, node -e, perl -e, ruby -e, here-docs fed to them).

The code is not executed or fully parsed; calls that run shell text (os.system, subprocess,
child_process, system, backticks) have their string argument classified as a shell command line,
and direct file-system deletions (shutil.rmtree, fs.rmSync, FileUtils.rm_rf, unlink) are judged
like the equivalent rm. Other code is T2 (it runs, but does nothing we can see as risky).
"""

from __future__ import annotations

import re

from skill.guardrails.commands._base import Ctx

_CODE_FLAGS = {
    "python": ("-c",),
    "node": ("-e", "--eval", "-p", "--print"),
    "deno": ("eval",),
    "bun": ("-e", "--eval"),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "php": ("-r",),
    "lua": ("-e",),
    "pwsh": ("-c", "-Command", "-command"),
    "osascript": ("-e",),
    "r": ("-e", "--eval"),
}

_STR = r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`)"""
_SHELL_CALLS = re.compile(
    r"(?:os\.system|os\.popen|os\.exec\w*|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)"
    r"|commands\.getoutput|\.execSync|\.exec|\bexecSync|\.execFileSync|\.execFile|\.spawnSync|\.spawn|\bspawnSync"
    r"|\bsystem|Open3\.\w+|IO\.popen|\bshell_exec|\bpassthru|\bproc_open|\bpopen|Kernel\.system|\bexec)"
    r"\s*\(?\s*(\[[^\]]*\]|" + _STR + ")",
)
_BACKTICKS = re.compile(r"`([^`]+)`|%x\(([^)]*)\)|%x\{([^}]*)\}|\bqx\{([^}]*)\}")
_RMTREE = re.compile(
    r"(?:shutil\.rmtree|\.rmSync|\.rmdirSync|\bfs\.rm|\bfs\.rmdir|\.promises\.rm|FileUtils\.(?:rm_rf|rm_r|remove_dir|remove_entry_secure|rmtree)"
    r"|\brmtree|\bremove_tree|Deno\.removeSync|Deno\.remove)"
    r"\s*\(\s*" + _STR
)
_UNLINK = re.compile(
    r"(?:os\.(?:remove|unlink|rmdir|removedirs)|fs\.(?:unlinkSync|unlink)|FileUtils\.(?:rm|rm_f|remove)|File\.(?:unlink|delete)|Path\([^)]*\)\.unlink|unlink)"
    r"\s*\(?\s*(?:glob\s*\(\s*)?" + _STR
)
_API_DELETE = re.compile(r"\.(?:delete|drop|destroy|purge|truncate|flush|wipe|clear)(?:[A-Z_]\w*)?\s*\(")
_RECURSIVE_OPT = re.compile(r"recursive\s*:\s*true|recursive\s*=\s*(?:True|TRUE|T)\b")


# Letters that end a short-option bundle by taking a value; for the code letters (``c`` of
# python, ``e`` of perl) the rest of the bundle or the next word is the program text.
_VALUE_LETTERS = {
    "python": "WXm",
    "perl": "IMmxiCd",
    "ruby": "IrCEFx",
    "node": "r",
}
_CODE_LETTERS = {"python": "c", "perl": "eE", "ruby": "e", "node": "ep", "bun": "e", "php": "r", "lua": "e"}
_DOWNLOADERS = ("curl", "wget", "fetch", "http", "https", "xh")


def _bundle_code(base: str, arg: str, nxt: str | None) -> tuple[bool, str | None]:
    """(is a code bundle, code) for a short-option bundle such as ``-we``, ``-Bc``, ``-lne``."""
    letters = _CODE_LETTERS.get(base, "")
    if not letters or len(arg) < 3 or arg[0] != "-" or arg[1] == "-":
        return False, None
    value_letters = _VALUE_LETTERS.get(base, "")
    for i, ch in enumerate(arg[1:], 1):
        if ch in letters:
            rest = arg[i + 1 :]
            # `node -pe CODE`: the rest of the bundle is more code letters, the code is the next word
            return True, rest if rest and not set(rest) <= set(letters) else nxt
        if ch in value_letters or not ch.isalnum():
            return False, None
    return False, None


def check(ctx: Ctx) -> None:
    base = ctx.name
    if base.startswith("python"):
        base = "python"
    elif base == "nodejs":
        base = "node"
    elif base == "powershell":
        base = "pwsh"
    elif base in ("Rscript", "R", "rscript", "r"):
        base = "r"
    flags = _CODE_FLAGS.get(base, ("-c", "-e"))
    code: list[str] = []
    args = ctx.argv[1:]
    i = 0
    script = None
    while i < len(args):
        a = args[i]
        if a in flags and i + 1 < len(args):
            code.append(args[i + 1])
            break
        found, bundled = _bundle_code(base, a, args[i + 1] if i + 1 < len(args) else None)
        if found:
            if bundled is not None:
                code.append(bundled)
            break
        if a.startswith(("--eval=", "--print=", "-e=")) and base in ("node", "bun", "r"):
            code.append(a.split("=", 1)[1])
            break
        if a == "-m" and base == "python":
            mod = args[i + 1] if i + 1 < len(args) else ""
            ctx.hit(
                1
                if mod in ("json.tool", "http.server", "pydoc", "timeit", "this", "site", "platform")
                else 2,
                "interp.module",
                f"python -m {mod}",
            )
            return
        if (
            a in ("-W", "-X", "--require", "-r", "-I", "-M")
            and i + 1 < len(args)
            and base in ("python", "node", "perl", "ruby")
        ):
            i += 2
            continue
        if not a.startswith("-") or a == "-":
            script = a
            break
        if a in ("-V", "--version", "-v") and len(args) == 1:
            ctx.hit(1, "interp.version", "prints the version")
            return
        i += 1
    if script is not None and script.startswith("<(") and i < len(ctx.dynamic) - 1 and ctx.dynamic[i + 1]:
        # `python <(echo 'code')`: the program is the output of a process substitution.
        literal = process_substitution_output(script)
        if literal is None:
            ctx.hit(3, "interp.stdin-code", f"runs {ctx.name} code produced at run time by {script[:60]}")
            return
        code.append(literal)
        script = None
    if not code and script in (None, "-"):
        script = None
        if ctx.stdin is not None:
            code.append(ctx.stdin)
        else:
            stdin_redirect = next((t for op, t in ctx.redirects if op == "<"), None)
            if stdin_redirect is not None and stdin_redirect.startswith("<("):
                literal = process_substitution_output(stdin_redirect)
                if literal is None:
                    ctx.hit(3, "interp.stdin-code", f"runs {ctx.name} code produced at run time")
                    return
                code.append(literal)
            elif stdin_redirect is not None:
                ctx.hit(2, "interp.script", f"runs the {ctx.name} program {stdin_redirect}")
                return
            elif ctx.piped_literal is not None:
                code.append(ctx.piped_literal)
    if not code and script is not None and script.rsplit("/", 1)[-1] == "manage.py" and "migrate" in args:
        from skill.guardrails.commands.migrations import check as migrations

        # `python manage.py migrate`: Django's migrations, judged like the other migration tools
        inner = Ctx(
            name="manage.py",
            argv=["manage.py", *args[args.index(script) + 1 :]],
            dynamic=[],
            assigns=ctx.assigns,
        )
        migrations(inner)
        ctx.hits.extend(inner.hits)
        ctx.env_hints.extend(inner.env_hints)
        return
    if not code:
        if script is not None:
            ctx.hit(2, "interp.script", f"runs the {ctx.name} program {script}")
        elif ctx.piped_from and ctx.piped_from[0] in _DOWNLOADERS:
            ctx.hit(
                3,
                "network.pipe-to-interpreter",
                f"runs code downloaded by {ctx.piped_from[0]} without review",
            )
        elif ctx.piped_from:
            ctx.hit(3, "interp.stdin-code", f"runs code produced by {ctx.piped_from[0]}")
        else:
            ctx.hit(2, "interp.repl", f"starts {ctx.name}")
        return
    for text in code:
        analyse_code(ctx, text)


def process_substitution_output(word: str) -> str | None:
    """What ``<(echo …)`` prints when its command is a literal echo/printf/cat here-doc, else None."""
    if not (word.startswith("<(") and word.endswith(")")):
        return None
    from skill.guardrails import shell
    from skill.guardrails.literals import literal_output

    parsed = shell.parse(word[2:-1])
    if len(parsed.commands) != 1 or parsed.error:
        return None
    return literal_output(parsed.commands[0])


def _strings(match: re.Match, start: int = 1) -> str | None:
    for g in match.groups()[start - 1 :]:
        if g is not None:
            return g
    return None


def _list_literal(text: str) -> str:
    items = re.findall(r"""["']([^"']*)["']""", text)
    return " ".join(_q(i) for i in items)


def _q(word: str) -> str:
    if word and all(c.isalnum() or c in "-_./=:,@%+~*" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def analyse_code(ctx: Ctx, code: str) -> None:
    found = False
    bare_exec_is_shell = ctx.name.startswith(("perl", "ruby", "php"))
    for m in _SHELL_CALLS.finditer(code):
        if m.group(0).startswith("exec") and not bare_exec_is_shell:
            continue  # python's exec() runs python code, not a shell
        found = True
        arg = m.group(1)
        if arg.startswith("["):
            ctx.shell(_list_literal(arg), f"{ctx.name} subprocess")
        else:
            text = _strings(m, 2)
            if text is not None:
                ctx.shell(
                    text.encode("utf-8", "surrogatepass").decode("unicode_escape", "replace")
                    if "\\" in text
                    else text,
                    f"{ctx.name} system()",
                )
    if ctx.name in ("ruby", "perl") or ctx.name.startswith("ruby"):
        for m in _BACKTICKS.finditer(code):
            found = True
            ctx.shell(next(g for g in m.groups() if g is not None), f"{ctx.name} backticks")
    for m in _RMTREE.finditer(code):
        found = True
        path = _strings(m)
        recursive = not re.search(
            r"(rmSync|fs\.rm|promises\.rm)\s*\($", m.group(0).split(path or "\x00")[0].rstrip("'\"` ")
        ) or bool(_RECURSIVE_OPT.search(code))
        ctx.shell(
            ("rm -rf " if recursive else "rm -f ") + _q(path or "$unknown"), f"{ctx.name} file deletion"
        )
    for m in _UNLINK.finditer(code):
        found = True
        path = _strings(m)
        # R's unlink(x, recursive = TRUE) deletes directories
        rm = "rm -rf " if m.group(0).startswith("unlink") and _RECURSIVE_OPT.search(code) else "rm -f "
        ctx.shell(rm + _q(path or "$unknown"), f"{ctx.name} file deletion")
    m = _API_DELETE.search(code)
    if m:
        found = True
        ctx.hit(3, "interp.api-delete", f"calls {m.group(0).strip('.( ')}() from inline code")
    if re.search(r"\b(eval|exec|__import__|Function|compile)\s*\(", code):
        if re.search(
            r"b64decode|base64|fromhex|unhexlify|decompress|marshal|rot13|fromCharCode|atob\s*\(|pack\s*\(",
            code,
        ):
            # Decoding a payload and evaluating it hides what runs: the classic obfuscation.
            ctx.hit(3, "interp.obfuscated-code", "inline code decodes a payload and evaluates it")
        elif not found:
            ctx.hit(2, "interp.dynamic-code", "inline code evaluates dynamic code")
    if ctx.name == "osascript":
        # AppleScript's `do shell script "…"` hands its string to /bin/sh.
        for m in re.finditer(r'do\s+shell\s+script\s+"((?:[^"\\]|\\.)*)"', code, re.I):
            ctx.shell(m.group(1).replace('\\"', '"'), "osascript do shell script")
    ctx.hit(2, "interp.inline", f"runs inline {ctx.name} code")
