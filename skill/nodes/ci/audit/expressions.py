"""GitHub Actions expressions: a parser over GitHub's grammar and the contexts that carry outsiders' text.

GitHub substitutes ``${{ }}`` into ``run:`` (and code inputs such as github-script's ``script:``)
before the shell or node sees it, so free text an outsider controls becomes code. Regexes over the
expression text cannot tell ``github.event_name`` from ``github.event.name`` or see that
``(a || b).number`` is a number, so expressions are parsed and each one is reduced to the context
paths its value can come from (``refs``): comparisons, ``!`` and the boolean functions yield no
text; ``a && b`` yields ``b`` (``a`` only when falsy, i.e. empty); ``a || b`` yields either;
``format``/``join``/``toJSON``/``fromJSON`` pass their arguments' text through; member access
applies to every candidate (``(a || b).number`` is ``a.number`` or ``b.number``).

A path is attacker-controlled when it is a free-text event field (titles, bodies, branch names,
commit messages, author names, labels ...), ``github.head_ref``, a free-text input, or a value
traced from one: an ``env:`` entry, a step output, a job output or a matrix built from one
(``Sources`` holds what the caller has traced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)

# Last path segments whose values GitHub restricts to safe characters.
SAFE_FIELDS = {
    "sha", "id", "node_id", "number", "action", "merged", "draft", "state", "locked", "login",
    "additions", "deletions", "changed_files", "commits_count", "private", "fork", "size", "type",
    "site_admin", "url", "html_url", "api_url", "diff_url", "patch_url", "issue_url", "clone_url",
    "before", "after", "forced", "created", "deleted", "run_id", "run_number", "run_attempt",
    "head_sha", "base_sha", "merge_commit_sha", "default_branch", "full_name", "owner",
    "workflow_id", "check_suite_id", "installation", "ref_type", "visibility", "comments",
    "review_comments", "mergeable", "rebaseable", "author_association", "conclusion", "status",
    "event", "path", "repository_id", "stargazers_count", "forks_count", "open_issues_count",
}  # fmt: skip
SAFE_SUFFIXES = ("_at", "_id", "_count", "_sha")
# Fields that look safe by name but hold free text when they describe the PR head (a fork).
UNSAFE_UNDER_HEAD = {"default_branch", "full_name", "name", "path"}
# Whole-path exceptions: base branch and the base repository are controlled by maintainers.
SAFE_PATHS = {
    "github.event.ref",
    "github.event.pull_request.base.ref",
    "github.event.pull_request.base.label",
    "github.event.repository.name",
    "github.event.sender.login",
    "github.event.base_ref",
}
# Functions whose result is a boolean or a hash: no text of their arguments survives.
OPAQUE_FUNCTIONS = {
    "contains", "startswith", "endswith", "success", "always", "failure", "cancelled", "hashfiles",
    "case",
}  # fmt: skip


class ExpressionError(ValueError):
    """Not a valid GitHub expression (GitHub rejects the workflow too)."""


# ---------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Lit:
    value: object


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Member:
    obj: object
    name: str  # "*" for .* and [*] and computed indexes
    bracket: bool = False  # written ['name'] rather than .name


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Op:
    op: str  # ! == != < <= > >= && ||
    args: tuple


_TOKEN = re.compile(
    r"\s*(?:(?P<num>0x[0-9a-fA-F]+|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[!<>()\[\].,*]))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"unexpected character {text[pos:].strip()[:1]!r} in expression")
        pos = m.end()
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
    return out


class _Parser:
    """Precedence climbing: || < && < == != < < <= > >= < ! < member/index/call."""

    LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"expected {value or 'a value'}, found {tok[1] if tok else 'the end'}")
        self.i += 1
        return tok

    def parse(self) -> object:
        node = self.binary(0)
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def binary(self, level: int) -> object:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in self.LEVELS[level]:
            self.take()
            left = Op(tok[1], (left, self.binary(level + 1)))
        return left

    def unary(self) -> object:
        tok = self.peek()
        if tok and tok == ("op", "!"):
            self.take()
            return Op("!", (self.unary(),))
        return self.postfix(self.primary())

    def primary(self) -> object:
        kind, value = self.take()
        if kind == "num":
            return Lit(int(value, 16) if value.lower().startswith("0x") else float(value))
        if kind == "str":
            return Lit(value[1:-1].replace("''", "'"))
        if kind == "name":
            low = value.lower()
            if low in ("true", "false"):
                return Lit(low == "true")
            if low == "null":
                return Lit(None)
            if (nxt := self.peek()) and nxt == ("op", "("):
                self.take()
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.binary(0))
                    while self.peek() == ("op", ","):
                        self.take()
                        args.append(self.binary(0))
                self.take(")")
                return Call(low, tuple(args))
            return Name(low)
        if value == "(":
            inner = self.binary(0)
            self.take(")")
            return inner
        raise ExpressionError(f"unexpected {value!r}")

    def postfix(self, node: object) -> object:
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in (".", "["):
            self.take()
            if tok[1] == ".":
                kind, value = self.take()
                if kind != "name" and value != "*":
                    raise ExpressionError(f"expected a property name after '.', found {value!r}")
                node = Member(node, value.lower())
            else:
                index = self.binary(0) if self.peek() != ("op", "*") else (self.take(), Lit("*"))[1]
                self.take("]")
                key = index.value if isinstance(index, Lit) and isinstance(index.value, str) else "*"
                node = Member(node, key.lower(), bracket=True)
        return node


def parse(text: str) -> object:
    """The syntax tree of one expression body (the text between ``${{`` and ``}}``)."""
    return _Parser(tokenize(text)).parse()


def refs(node: object) -> list[str]:
    """Context paths (lower case, ``*`` for any index) whose text can become the value of ``node``."""
    if isinstance(node, Name):
        return [node.name]
    if isinstance(node, Member):
        return [f"{base}.{node.name}" for base in refs(node.obj)]
    if isinstance(node, Op):
        if node.op == "||":
            return refs(node.args[0]) + refs(node.args[1])
        if node.op == "&&":  # the left operand is returned only when falsy: empty, no text
            return refs(node.args[1])
        return []
    if isinstance(node, Call):
        if node.name in OPAQUE_FUNCTIONS:
            return []
        args = node.args[1:] if node.name == "format" and node.args else node.args
        return [r for a in args for r in refs(a)]
    return []


def constant(node: object) -> bool:
    """True when the expression reads no context: it always has the same value."""
    if isinstance(node, Lit):
        return True
    if isinstance(node, Name | Member):
        return False
    if isinstance(node, Call):
        return node.name not in ("success", "always", "failure", "cancelled", "hashfiles") and all(
            constant(a) for a in node.args
        )
    if isinstance(node, Op):
        return all(constant(a) for a in node.args)
    return False


# ---------------------------------------------------------------- attacker-controlled contexts
@dataclass
class Sources:
    """What the caller has traced: which names carry attacker-controlled text, and from where."""

    string_inputs: set[str] | frozenset[str] = field(default_factory=set)
    env: dict[str, str] = field(default_factory=dict)  # env name -> origin path
    steps: dict[str, str] = field(default_factory=dict)  # "steps.<id>.outputs.<name>" -> origin
    needs: dict[str, str] = field(default_factory=dict)  # "needs.<job>.outputs.<name>" -> origin
    matrix: str | None = None  # origin when the job's matrix is built from tainted text


@dataclass
class Taint:
    expression: str  # the full ${{ ... }} text
    context: str  # the dangerous reference inside it
    kind: str  # "event" | "head_ref" | "input" | "env" | "step" | "needs" | "matrix"
    origin: str = ""  # for traced values: the attacker-controlled context it came from

    @property
    def traced(self) -> bool:
        return self.kind in ("env", "step", "needs", "matrix")


def event_field_is_safe(path: str) -> bool:
    if path in SAFE_PATHS:
        return True
    parts = [p for p in path.split(".") if p != "*"]
    if len(parts) <= 2:  # github.event itself: the whole payload
        return False
    last = parts[-1]
    under_head = any(p in ("head", "head_repository", "head_commit", "head_branch") for p in parts[2:-1])
    if under_head and last in UNSAFE_UNDER_HEAD:
        return False
    return last in SAFE_FIELDS or last.endswith(SAFE_SUFFIXES)


def _prefixed(path: str, table: dict[str, str]) -> str | None:
    """The traced key that ``path`` reads (itself, a field of it after fromJSON, or ``*``)."""
    for key, origin in table.items():
        if path == key or path.startswith(key + "."):
            return origin
        stem = key.rsplit(".", 1)[0]
        if key.endswith(".*") and (path == stem or path.startswith(stem + ".")):
            return origin
    return None


def classify(path: str, sources: Sources) -> Taint | None:
    """Why ``path`` is attacker-controlled, or None."""
    head, _, rest = path.partition(".")
    if head == "inputs" or path.startswith("github.event.inputs"):
        parts = path.split(".")
        name = parts[1 if head == "inputs" else 3] if len(parts) > (1 if head == "inputs" else 3) else "*"
        whole = name == "*" and bool(sources.string_inputs)  # toJSON(inputs) holds every input
        return Taint("", path, "input") if whole or name in sources.string_inputs else None
    if path == "github.head_ref":
        return Taint("", path, "head_ref")
    if path == "github.event" or path.startswith("github.event."):
        return None if event_field_is_safe(path) else Taint("", path, "event")
    if head == "env" and rest:
        origin = sources.env.get(rest.split(".")[0])
        return Taint("", path, "env", origin) if origin else None
    if head == "steps":
        origin = _prefixed(path, sources.steps)
        return Taint("", path, "step", origin) if origin else None
    if head == "needs":
        origin = _prefixed(path, sources.needs)
        return Taint("", path, "needs", origin) if origin else None
    if head == "matrix" and sources.matrix:
        return Taint("", path, "matrix", sources.matrix)
    return None


def expression_taints(body: str, sources: Sources) -> list[Taint]:
    """Attacker-controlled paths of one expression body; an unparsable body yields none."""
    try:
        tree = parse(body)
    except ExpressionError:
        return []
    out = []
    for path in dict.fromkeys(refs(tree)):
        t = classify(path, sources)
        if t:
            out.append(t)
    return out


def taints(
    text: str,
    string_inputs: set[str] | frozenset[str] | None = None,
    tainted_env: dict[str, str] | set[str] | None = None,
    sources: Sources | None = None,
) -> list[Taint]:
    """One finding per dangerous ``${{ }}`` in ``text`` (the first dangerous path in it)."""
    if sources is None:
        env = tainted_env if isinstance(tainted_env, dict) else {k: k for k in tainted_env or ()}
        sources = Sources(string_inputs=string_inputs or set(), env=env)
    out: list[Taint] = []
    for m in EXPR.finditer(text or ""):
        found = expression_taints(m.group(1), sources)
        if found:
            t = found[0]
            t.expression = m.group(0)
            out.append(t)
    return out


def origin_of(text: str, sources: Sources) -> str | None:
    """The attacker-controlled context a value (e.g. an ``env:`` entry) carries, or None."""
    for t in taints(text, sources=sources):
        return t.origin or t.context
    return None
