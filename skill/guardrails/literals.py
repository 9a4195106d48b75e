"""Static text on a command line: what a pipe source prints (echo, printf, base64 -d of a literal)
and backslash escapes expanded as printf and echo -e expand them.

Shared by classify.py (a shell reading a literal script from its stdin, xargs input) and the rule
families (an interpreter fed a literal program); it builds on wrappers.py and shell.py only.
"""

from __future__ import annotations

from skill.guardrails.wrappers import unwrap


def literal_output(src) -> str | None:
    """What a pipe source prints, when it is static: echo/printf literals, base64 -d of a literal."""
    if src is None:
        return None
    uw = unwrap(src.argv, src.dynamic)
    argv = uw.argv
    if not argv or any(uw.dynamic):
        return None
    name = argv[0]
    if name == "echo":
        words = argv[1:]
        escapes = False
        while words and len(words[0]) > 1 and words[0][0] == "-" and set(words[0][1:]) <= set("neE"):
            escapes = "e" in words[0] or (escapes and "E" not in words[0])
            words = words[1:]
        text = " ".join(words)
        return decode_escapes(text, echo=True) if escapes and "\\" in text else text
    if name == "printf" and len(argv) >= 2:
        fmt = argv[1]
        if "%" in fmt:
            fmt = printf_format(fmt, argv[2:])
            if fmt is None:
                return None
        return decode_escapes(fmt) if "\\" in fmt else fmt
    if name == "cat" and len(argv) == 1 and src.stdin is not None:
        return src.stdin
    if name in ("base64", "base32") and any(a in ("-d", "--decode", "-D") for a in argv[1:]):
        payload = None
        if src.stdin is not None:
            payload = src.stdin
        elif src.pipe_src is not None:
            payload = literal_output(src.pipe_src)
        if payload is None:
            return None
        import base64
        import binascii

        try:
            raw = (base64.b64decode if name == "base64" else base64.b32decode)("".join(payload.split()))
            return raw.decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return None


def printf_format(fmt: str, args: list[str]) -> str | None:
    """printf FORMAT with only %s/%b/%% conversions filled in (once), else None."""
    out: list[str] = []
    i = 0
    it = iter(args)
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            conv = fmt[i + 1]
            if conv == "%":
                out.append("%")
            elif conv in "sb":
                value = next(it, "")
                out.append(decode_escapes(value) if conv == "b" else value)
            else:
                return None
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def decode_escapes(text: str, echo: bool = False) -> str:
    """Backslash escapes as printf (and echo -e) expand them: ``\\x72``, ``\\162``, ``\\u0072``.

    The same escapes as bash's ``$'…'``, except that echo -e writes octal as ``\\0NNN``.
    """
    from skill.guardrails.shell import ansi_c

    if echo:
        import re

        text = re.sub(r"\\0([0-7]{1,3})", r"\\\1", text)
    return ansi_c(text)
