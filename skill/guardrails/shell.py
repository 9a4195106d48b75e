"""Parse a shell command line into simple commands with tree-sitter-bash.

The parser is a real grammar (tree-sitter-bash), not regexes over the line: every simple command
anywhere in the tree (lists, pipelines, subshells, loops, ``$(…)``, backticks, ``<(…)``) becomes a
:class:`Simple` with its words resolved (quotes removed, escapes undone, ``$'…'`` decoded).
Words that depend on run-time values (``$VAR``, ``$(…)``) keep their source text and are marked
dynamic so the rules can tell "unknown" from "literal".

Import cost matters (this runs in a hook on every command), so the grammar's compiled extension is
loaded directly instead of importing ``tree_sitter_bash`` whose ``__init__`` pulls in
``importlib.resources`` for highlight queries we never use.
"""

from __future__ import annotations

import os

MAX_DEPTH = 48  # nesting of $(…)/subshells/bash -c beyond this is treated as unresolvable
MAX_COMMANDS = 1_000  # simple commands analysed per line; more is over budget

_PARSER = None


def _load_binding(package: str):
    """Load ``package``'s compiled ``_binding`` extension without running the package's __init__.

    tree_sitter_bash/__init__.py imports importlib.resources (~8 ms) for highlight queries we never
    use, and tree_sitter/__init__.py imports typing (~2 ms) for Protocol stubs; both extensions stand
    alone. Only importlib.machinery (already loaded at start-up) is used: importlib.util pulls in
    contextlib. Returns None for an unusual layout (the caller imports the package instead).
    """
    import importlib.machinery as machinery

    spec = machinery.PathFinder.find_spec(package)
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        for name in os.listdir(location):
            if name.startswith("_binding") and name.endswith((".so", ".pyd")):
                path = os.path.join(location, name)
                full = package + "._binding"
                loader = machinery.ExtensionFileLoader(full, path)
                module = loader.create_module(machinery.ModuleSpec(full, loader, origin=path))
                loader.exec_module(module)
                return module
    return None


def _parser():
    global _PARSER
    if _PARSER is None:
        core = _load_binding("tree_sitter")
        if core is None:
            import tree_sitter as core  # type: ignore[no-redef]
        grammar = _load_binding("tree_sitter_bash")
        if grammar is None:
            import tree_sitter_bash as grammar  # type: ignore[no-redef]
        _PARSER = core.Parser(core.Language(grammar.language()))
    return _PARSER


class Simple:
    """One simple command as written (before wrapper unwrapping)."""

    __slots__ = (
        "argv",
        "dynamic",
        "assigns",
        "stdin",
        "stdin_kind",
        "pipe_src",
        "redirects",
        "text",
        "depth",
        "in_substitution",
        "unquoted",
    )

    def __init__(
        self,
        argv: list[str],
        dynamic: list[bool],
        assigns: dict[str, str] | None = None,
        pipe_src: Simple | None = None,
        redirects: list[tuple[str, str]] | None = None,
        text: str = "",
        depth: int = 0,
        in_substitution: bool = False,
    ) -> None:
        self.argv = argv
        self.dynamic = dynamic  # per word: depends on a variable or command substitution
        self.assigns = assigns if assigns is not None else {}
        self.stdin: str | None = None  # literal here-doc / here-string body fed to this command
        self.stdin_kind: str | None = None  # "heredoc" | "herestring"
        self.pipe_src = pipe_src  # command whose stdout is piped into this one
        self.redirects = redirects if redirects is not None else []  # (operator, target)
        self.text = text
        self.depth = depth  # nesting level of $(…)/subshell where it was found
        self.in_substitution = in_substitution
        self.unquoted: list[int] = []  # argv indexes of bare `$X`/`${X}` words (bash splits their value)


class Parsed:
    __slots__ = ("commands", "notes", "error", "too_deep", "too_many", "declared")

    def __init__(self, commands, notes, error=False, too_deep=False, too_many=False, declared=None) -> None:
        self.commands: list[Simple] = commands
        self.notes: list[str] = notes
        self.error: bool = error  # tree-sitter reported a syntax error somewhere
        self.too_deep: bool = too_deep
        self.too_many: bool = too_many
        self.declared: dict[str, str] = declared if declared is not None else {}  # export/assignments


_STATEMENT_CONTAINERS = {
    "program",
    "list",
    "compound_statement",
    "subshell",
    "do_group",
    "if_statement",
    "elif_clause",
    "else_clause",
    "while_statement",
    "for_statement",
    "c_style_for_statement",
    "case_statement",
    "case_item",
    "function_definition",
    "negated_command",
}

_ANSI = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "v": "\v",
}


def _unescape(text: str, escapable: str | None = None) -> str:
    """Undo backslash escapes: before any character (unquoted words) or only before the characters
    in ``escapable`` (inside double quotes, where other backslashes stay). Backslash-newline is a
    line continuation and vanishes."""
    if "\\" not in text:
        return text
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and (escapable is None or text[i + 1] in escapable):
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def ansi_c(body: str) -> str:
    """Decode the backslash escapes of bash's ``$'…'`` (also what printf expands)."""
    out = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ANSI:
            out.append(_ANSI[nxt])
            i += 2
        elif nxt == "x":
            j = i + 2
            while j < n and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(body[i + 2 : j], 16)) if j > i + 2 else "\\x")
            i = j
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            j = i + 2
            while j < n and j < i + 2 + width and body[j] in "0123456789abcdefABCDEF":
                j += 1
            try:
                out.append(chr(int(body[i + 2 : j], 16)) if j > i + 2 else nxt)
            except (ValueError, OverflowError):
                out.append("?")
            i = j
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1 : j], 8) & 0xFF))
            i = j
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


class _Walker:
    def __init__(self) -> None:
        self.out: list[Simple] = []
        self.notes: list[str] = []
        self.error = False
        self.too_deep = False
        self.too_many = False
        self.declared: dict[str, str] = {}
        self._pending_pipe: Simple | None = None
        self.src = b""
        self.redirect_args: list = []
        self._last_end: int | None = None  # end of the previous word of the current command

    # -- words -------------------------------------------------------------------------------
    def word(self, node, depth: int) -> tuple[str, bool]:
        """Resolved text of a word node and whether it depends on run-time values."""
        t = node.type
        if t == "word":
            return _unescape(_txt(node)), False
        if t == "raw_string":
            return _txt(node)[1:-1], False
        if t == "number":
            return _txt(node), False
        if t == "ansi_c_string":
            return ansi_c(_txt(node)[2:-1]), False
        if t in ("string", "translated_string"):
            parts = []
            dyn = False
            for child in node.children:
                ct = child.type
                if ct == "string_content":
                    parts.append(_unescape(_txt(child), '"\\$`\n'))
                elif ct in ('"', '$"'):
                    continue
                else:
                    text, d = self.word(child, depth)
                    parts.append(text)
                    dyn = dyn or d
            return "".join(parts), dyn
        if t == "concatenation":
            parts = []
            dyn = False
            for child in node.children:
                text, d = self.word(child, depth)
                parts.append(text)
                dyn = dyn or d
            return "".join(parts), dyn
        if t in ("simple_expansion", "expansion"):
            name = ""
            for child in node.children:
                if child.type in ("variable_name", "special_variable_name"):
                    name = _txt(child)
                    break
            if name == "IFS" and node.child_count <= 4:
                return "\x00", True  # word-splitting trick: callers split on NUL
            for child in node.children:  # ${X:-$(cmd)} and friends
                self._substitutions(child, depth)
            return _txt(node), True
        if t in ("command_substitution", "process_substitution"):
            before = len(self.out)
            self.statements(node, depth + 1, substitution=True)
            if t == "command_substitution" and len(self.out) == before + 1:
                static = _static_output(self.out[before], node)
                if static is not None:
                    self.notes.append(f"resolved {_txt(node)[:60]!r} to {static[:60]!r}")
                    return static, False
            return _txt(node), True
        if t == "arithmetic_expansion":
            self._substitutions(node, depth)
            return _txt(node), True
        if t == "brace_expression":
            return _txt(node), False
        # Anything else (globs, ERROR ...) keeps its text; look inside for substitutions.
        self._substitutions(node, depth)
        return _txt(node), t not in ("extglob_pattern", "regex")

    def _substitutions(self, node, depth: int) -> None:
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.type in ("command_substitution", "process_substitution"):
                self.statements(cur, depth + 1, substitution=True)
            else:
                stack.extend(cur.children)

    # -- statements --------------------------------------------------------------------------
    def statements(self, node, depth: int, substitution: bool = False) -> None:
        if depth > MAX_DEPTH:
            self.too_deep = True
            return
        for child in node.children:
            self.statement(child, depth, substitution)

    def statement(self, node, depth: int, substitution: bool = False, stdin=None) -> None:
        t = node.type
        if t == "command":
            self.command(node, depth, substitution, stdin)
        elif t == "pipeline":
            prev: Simple | None = self._pending_pipe
            self._pending_pipe = None
            for child in node.children:
                if not child.is_named:
                    continue
                before = len(self.out)
                self._pending_pipe = prev
                self.statement(child, depth, substitution)
                self._pending_pipe = None
                produced = [s for s in self.out[before:] if s.depth == depth and not s.in_substitution]
                prev = produced[-1] if produced else None
        elif t == "redirected_statement":
            self.redirected(node, depth, substitution)
        elif t == "declaration_command":
            for child in node.children:
                if child.type == "variable_assignment":
                    self.assignment(child, depth, self.declared)
                else:
                    self._substitutions(child, depth)
        elif t == "variable_assignment":
            self.assignment(node, depth, self.declared)
        elif t == "variable_assignments":
            for child in node.children:
                if child.type == "variable_assignment":
                    self.assignment(child, depth, self.declared)
        elif t in ("subshell", "compound_statement"):
            self.statements(node, depth + 1, substitution)
        elif t in _STATEMENT_CONTAINERS:
            for child in node.children:
                if child.type in ("command_substitution", "process_substitution"):
                    self.statements(child, depth + 1, substitution=True)
                elif child.is_named and child.type not in ("variable_name", "word", "comment"):
                    self.statement(child, depth, substitution)
                elif child.type == "word":
                    self._substitutions(child, depth)
        elif t == "ERROR":
            self.error = True
            self.notes.append("syntax error in part of the command")
            for child in node.children:
                if child.is_named:
                    self.statement(child, depth, substitution)
        elif t in ("comment", "heredoc_body", "heredoc_end", "heredoc_start"):
            return
        elif t in ("command_substitution", "process_substitution"):
            self.statements(node, depth + 1, substitution=True)
        else:
            # test_command, unset_command, arithmetic, etc.: look for nested commands only.
            if t == "unset_command":
                return
            stack = list(node.children)
            while stack:
                cur = stack.pop()
                ct = cur.type
                if ct in ("command_substitution", "process_substitution"):
                    self.statements(cur, depth + 1, substitution=True)
                elif ct == "command" or ct == "pipeline" or ct == "list":
                    self.statement(cur, depth, substitution)
                else:
                    stack.extend(cur.children)

    def assignment(self, node, depth: int, into: dict[str, str]) -> tuple[str, str]:
        name = ""
        value = ""
        for child in node.children:
            if child.type == "variable_name" and not name:
                name = _txt(child)
            elif child.type != "=" and child.is_named:
                value, _ = self.word(child, depth)
        into[name] = value
        return name, value

    def redirected(self, node, depth: int, substitution: bool) -> None:
        body = node.child_by_field_name("body")
        stdin = None
        redirects: list[tuple[str, str]] = []
        trailing = []
        extra_args = []
        for child in node.children:
            if child is body or child.type not in (
                "heredoc_redirect",
                "herestring_redirect",
                "file_redirect",
            ):
                continue
            if child.type == "heredoc_redirect":
                text = ""
                quoted = False
                for sub in child.children:
                    if sub.type == "heredoc_body":
                        text = _heredoc_text(sub)
                        for inner in sub.children:
                            if inner.type != "heredoc_content":
                                self._substitutions(inner, depth)
                    elif sub.type == "heredoc_start":
                        quoted = _txt(sub)[:1] in "'\"\\"
                    elif sub.is_named and sub.type not in ("heredoc_end",):
                        trailing.append(sub)
                stdin = ("heredoc", text, quoted)
            elif child.type == "herestring_redirect":
                for sub in child.children:
                    if sub.is_named:
                        value, _ = self.word(sub, depth)
                        stdin = ("herestring", value, False)
            else:
                redirects.append(self._file_redirect(child, depth))
                extra_args.extend(self.redirect_args)
        before = len(self.out)
        if body is not None:
            self.statement(body, depth, substitution, stdin=stdin)
        elif redirects:
            # `> ~/.bashrc` alone truncates the file: a part of its own so the redirect rules see it.
            self.out.append(
                Simple(
                    argv=[],
                    dynamic=[],
                    assigns={},
                    pipe_src=None,
                    redirects=[],
                    text=_txt(node),
                    depth=depth,
                    in_substitution=substitution,
                )
            )
        target = None
        for s in self.out[before:]:
            if s.depth == depth and not s.in_substitution:
                s.redirects.extend(redirects)
                target = s
        if extra_args and target is not None and target is self.out[-1]:
            for extra in extra_args:
                text, d = self.word(extra, depth)
                target.argv.append(text)
                target.dynamic.append(d)
        elif extra_args:
            # words after a redirect with no command before it, or after a compound body: judge
            # them as a command of their own rather than drop them
            words = [self.word(extra, depth) for extra in extra_args]
            self.out.append(
                Simple(
                    argv=[w for w, _ in words],
                    dynamic=[d for _, d in words],
                    text=_txt(node),
                    depth=depth,
                    in_substitution=substitution,
                )
            )
        for sub in trailing:
            # `cat <<EOF | sh`: the rest of the pipeline sits inside the heredoc node.
            self._pending_pipe = target if sub.type == "pipeline" else None
            if sub.type == "pipeline":
                for inner in sub.children:
                    if inner.is_named:
                        self.statement(inner, depth, substitution)
                        self._pending_pipe = None
            else:
                self.statement(sub, depth, substitution)
            self._pending_pipe = None

    def _file_redirect(self, node, depth: int) -> tuple[str, str]:
        """(operator, target). Words the grammar hangs after the target (`git push >/dev/null
        --force main`) are the command's own arguments in bash: left in self.redirect_args."""
        op = ""
        dest = ""
        seen_dest = False
        self.redirect_args = []
        for child in node.children:
            if not child.is_named:
                op = _txt(child)
            elif child.type != "file_descriptor" and not seen_dest:
                dest, _ = self.word(child, depth)
                seen_dest = True
            elif child.type != "file_descriptor" and child.type != "comment":
                self.redirect_args.append(child)
        return op, dest

    def command(self, node, depth: int, substitution: bool, stdin=None) -> None:
        if len(self.out) >= MAX_COMMANDS:
            self.too_many = True
            return
        argv: list[str] = []
        dyn: list[bool] = []
        assigns: dict[str, str] = {}
        redirects: list[tuple[str, str]] = []
        unquoted: list[int] = []
        pipe_src = self._pending_pipe
        self._last_end = None
        self._pending_pipe = None
        for child in node.children:
            t = child.type
            if t == "variable_assignment":
                self.assignment(child, depth, assigns)
            elif t == "command_name":
                for sub in child.children:
                    self._add_word(sub, depth, argv, dyn, unquoted)
            elif t == "herestring_redirect":
                for sub in child.children:
                    if sub.is_named:
                        value, _ = self.word(sub, depth)
                        stdin = ("herestring", value, False)
            elif t == "file_redirect":
                redirects.append(self._file_redirect(child, depth))
                for extra in self.redirect_args:
                    self._add_word(extra, depth, argv, dyn, unquoted)
            elif t == "heredoc_redirect":
                continue
            elif child.is_named and t != "comment":
                self._add_word(child, depth, argv, dyn, unquoted)
            elif t == "$":  # a bare `$` the grammar leaves unnamed
                argv.append("$")
                dyn.append(True)
        simple = Simple(
            argv=argv,
            dynamic=dyn,
            assigns=assigns,
            pipe_src=pipe_src,
            redirects=redirects,
            text=_txt(node),
            depth=depth,
            in_substitution=substitution,
        )
        if stdin is not None:
            simple.stdin_kind, simple.stdin = stdin[0], stdin[1]
        simple.unquoted = unquoted
        self.out.append(simple)

    def _add_word(self, node, depth: int, argv: list[str], dyn: list[bool], unquoted=None) -> None:
        last = self._last_end  # read first: resolving the word may walk a nested $(…) command
        text, d = self.word(node, depth)
        glued = (
            argv
            and last is not None
            and node.start_byte >= last
            and self.src[last : node.start_byte] in (b"", b"\\\n", b"\\\r\n")
        )
        self._last_end = node.end_byte
        if glued:
            # One shell word the grammar returned as two nodes: split at a backslash-newline (bash
            # removes it: `r\\<newline>m` is `rm`) or with nothing between them at all
            # (`\\d\\e\\s$'\\x74'\\r\\o\\y` comes back as `dest` + `roy`).
            argv[-1] += text
            dyn[-1] = dyn[-1] or d
            self.notes.append("joined a word the grammar split in two")
            return
        if "\x00" in text:
            # ${IFS} splits: `rm${IFS}-rf${IFS}/` is three words at run time.
            self.notes.append("split a word on $IFS")
            for piece in text.split("\x00"):
                if piece:
                    argv.append(piece)
                    dyn.append(False)
            return
        if unquoted is not None and node.type in ("simple_expansion", "expansion") and argv:
            unquoted.append(len(argv))
        argv.append(text)
        dyn.append(d)


def _static_output(simple: Simple, node) -> str | None:
    """What `$(echo word)` / `$(printf word)` prints, when every word is literal."""
    named = [c for c in node.children if c.is_named]
    if len(named) != 1 or named[0].type != "command" or simple.redirects or simple.pipe_src is not None:
        return None
    argv = simple.argv
    if not argv or any(simple.dynamic) or argv[0] not in ("echo", "printf"):
        return None
    if argv[0] == "echo":
        words = argv[1:]
        while words and words[0] in ("-n", "-e", "-E", "-ne", "-en"):
            words = words[1:]
        return " ".join(words)
    if len(argv) == 2 and "%" not in argv[1] and "\\" not in argv[1]:
        return argv[1]
    return None


def _txt(node) -> str:
    return node.text.decode("utf-8", "replace")


def _heredoc_text(node) -> str:
    return _txt(node)


_UNSAFE_CHARS = None


def _safe_for_grammar(command: str) -> str:
    """Replace characters the grammar's scanner cannot handle with U+FFFD.

    tree-sitter-bash 0.25.1 intermittently segfaults on characters outside the Basic Multilingual
    Plane after `{` (found by the hypothesis tests: `"{\U000e0000"`); a crash in a hook means
    no decision at all, so astral characters and lone surrogates never reach it. They only ever
    appear in data (emoji in messages), and classify.py flags lone surrogates separately.
    """
    global _UNSAFE_CHARS
    if command.isascii():
        return command
    if _UNSAFE_CHARS is None:
        import re

        _UNSAFE_CHARS = re.compile("[\U00010000-\U0010ffff\ud800-\udfff]")
    return _UNSAFE_CHARS.sub("\ufffd", command)


# A line made only of these characters has no quoting, expansion, globbing, tilde, brace, comment,
# redirection or operator: bash splits it on blanks and nothing else. `%` (job specs), `=`
# (assignments), `~`, `!` and every metacharacter are deliberately absent.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._/:,@+-")
_RESERVED = frozenset(
    "if then else elif fi case esac for select while until do done in function time coproc".split()
)


def _plain_words(command: str) -> list[str] | None:
    """The words of a line that needs no grammar (`kubectl get pods`), else None.

    Saves loading tree-sitter (and the `re` it imports) on the hook's most common inputs; any
    doubt (a reserved word, an assignment, any other character) goes to the real parser.
    """
    if len(command) > 400 or not _PLAIN.issuperset(command):
        return None
    words = command.split()
    if not words or words[0] in _RESERVED:
        return None
    return words


def parse(command: str) -> Parsed:
    """Parse ``command`` into simple commands. Raises RecursionError on absurd nesting."""
    words = _plain_words(command)
    if words is not None:
        return Parsed([Simple(argv=words, dynamic=[False] * len(words), text=command.strip())], [])
    return _parse_tree(command)


def _parse_tree(command: str) -> Parsed:
    data = _safe_for_grammar(command).encode("utf-8")
    tree = _parser().parse(data)
    walker = _Walker()
    walker.src = data
    root = tree.root_node
    walker.statements(root, 0)
    error = walker.error or root.has_error
    return Parsed(
        walker.out,
        walker.notes,
        error=error,
        too_deep=walker.too_deep,
        too_many=walker.too_many,
        declared=walker.declared,
    )
