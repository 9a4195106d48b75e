"""sed and awk: text filters (T1) unless they edit files in place or run commands."""

from __future__ import annotations

import re

from skill.guardrails.commands._base import Ctx

# awk's system("…"), "cmd" | getline, print | "cmd": the string is a shell command line.
_STR = r'"((?:[^"\\]|\\.)*)"'
_AWK_COMMANDS = re.compile(r"system\s*\(\s*" + _STR + "|" + _STR + r"\s*\|\s*getline|\|\s*" + _STR)


_SED_E_COMMAND = re.compile(r"^([0-9$,]+|/[^/]*/)?\s*e(\s|$)")
_SED_SUBSTITUTE = re.compile(r"^s(.)(?:\\.|(?!\1).)*\1(?:\\.|(?!\1).)*\1(\w*)$")


def _sed_executes(script: str) -> bool:
    """GNU sed runs shell commands with the `e` command or the `e` flag of `s///e`."""
    for segment in re.split(r"[;\n]", script):
        segment = segment.strip()
        if _SED_E_COMMAND.match(segment):
            return True
        m = _SED_SUBSTITUTE.match(segment)
        if m and "e" in m.group(2):
            return True
    return False


def check(ctx: Ctx) -> None:
    if ctx.name in ("sed", "gsed"):
        if ctx.short("i", "--in-place") or any(a.startswith("--in-place") for a in ctx.argv[1:]):
            ctx.hit(2, "text.sed-in-place", "sed -i edits files in place")
        elif any(_sed_executes(a) for a in ctx.argv[1:] if not a.startswith("-")):
            ctx.hit(3, "text.sed-exec", "sed's e command runs shell commands")
        else:
            ctx.hit(1, "text.filter", "sed filters text")
        return
    if ctx.name == "perl-rename":
        ctx.hit(2, "text.rename", "renames files")
        return
    program = ""
    args = ctx.argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--file"):
            ctx.hit(
                2, "text.awk-script", f"runs the awk program file {args[i + 1] if i + 1 < len(args) else ''}"
            )
            return
        if a in ("-v", "-F", "--assign", "--field-separator"):
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        program = a
        break
    found = False
    for m in _AWK_COMMANDS.finditer(program):
        text = next(g for g in m.groups() if g is not None)
        ctx.shell(text.replace('\\"', '"'), f"{ctx.name} system()")
        found = True
    if found:
        ctx.hit(2, "text.awk-exec", f"{ctx.name} runs shell commands (classified)")
    elif re.search(r"\bsystem\s*\(|\|\s*getline|\|&", program):
        ctx.hit(3, "text.awk-dynamic-exec", f"{ctx.name} runs shell commands built at run time")
    elif re.search(r"print[^;}]*>\s*\S", program):
        ctx.hit(2, "text.awk-write", f"{ctx.name} writes files")
    else:
        ctx.hit(1, "text.filter", f"{ctx.name} filters text")
