"""Secrets on a command line: where secret material is read, and where it flows.

classify.py judges each simple command; this pass follows data between them. Every simple command
has an *output taint* (what secret material its stdout carries): its own reading (`cat .env`,
`gh auth token`, `env`, `tar c ~/.ssh`, `echo $API_TOKEN`), or what arrived on its stdin (a pipe,
`< file`, a here-string) passed on by a filter (`base64`, `gzip`, an unknown program). Words carry
taint too: `$(…)` whose commands read secrets, variables with secret-looking names, variables set
from secret material earlier on the line. Files written from secret material on the line
(`cp ~/.aws/credentials x`, `tar czf k.tgz ~/.ssh`, `cat .env > x`) become secret material for
the rest of the line.

- A network sink (curl/wget/httpie data and uploads, nc/socat/telnet, scp/rsync/sftp to a remote,
  ssh stdin, DNS names, gh gist/release/api, cloud copies to buckets, mail, `> /dev/tcp/…`,
  git push to a remote added on the line) whose payload is tainted: T4 (`secrets.exfiltration`,
  `secrets.environment-sent` for the whole environment).
- Inline interpreter code that reads secret material and opens a connection: T4.
- Secret material that ends in the transcript (the end of its pipeline prints): T3
  (`secrets.read`); the whole environment: T2 (`secrets.environment`).
- Secrets piped into a consumer that takes them as a credential (`docker login --password-stdin`,
  `gh auth login --with-token`, `kubectl apply -f -`, a clipboard) or into a hash/count are not
  read into the transcript.
"""

from __future__ import annotations

from skill.guardrails import secret_material as sm

Taint = tuple  # (kind, label): kind is sm.MATERIAL or sm.ENVIRONMENT


class Flow:
    """What the pass knows about one top-level command line; kept on classify's state."""

    __slots__ = ("consumers", "out", "derived", "remotes", "staged", "words", "tainted")

    def __init__(self) -> None:
        self.consumers: dict[int, object] = {}  # id(pipe source) -> the command it pipes into
        self.out: dict[int, Taint | None] = {}  # id(simple) -> output taint
        self.derived: dict[str, str] = {}  # file written from secret material -> label
        self.remotes: set[str] = set()  # git remotes added on this line
        self.staged: str | None = None  # secret material staged for a commit on this line
        self.words: dict[str, Taint | None] = {}  # taint of a `$(…)` word, by text
        self.tainted: dict[str, Taint] = {}  # variables filled from secret material (`read`)


def flow(state) -> Flow:
    f = getattr(state, "secret_flow", None)
    if f is None:
        f = state.secret_flow = Flow()
    return f


def link(commands: list, state) -> None:
    """Remember which command each pipe feeds (the parser only links backwards)."""
    f = None
    for s in commands:
        if s.pipe_src is not None:
            if f is None:
                f = flow(state)
            f.consumers[id(s.pipe_src)] = s


# -- program roles -----------------------------------------------------------------------------
# Print the files they are given (or stdin) to stdout.
PRINTERS = frozenset(
    """cat tac head tail less more most bat batcat nl grep egrep fgrep rg ag ack zgrep zcat zless bzcat
    xzcat zstdcat awk gawk mawk nawk sed gsed cut sort uniq paste column jq yq gojq strings xxd od
    hexdump base64 base32 basenc fold rev expand unexpand fmt pr iconv diff colordiff comm join look
    openssl dd tee vis cat-file uuencode""".split()
)
# First operand is a pattern or program, not a file (unless -e/-f gave it).
_PATTERN_FIRST = frozenset("grep egrep fgrep rg ag ack zgrep awk gawk mawk nawk sed gsed jq yq gojq".split())
# Their output does not carry their input (counts, hashes, exit status).
_REDUCERS = frozenset(
    """wc md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum cksum sum shasum test [ true false
    ls stat file du df realpath readlink basename dirname sleep""".split()
)
_NO_CONTENT_FLAGS = frozenset(
    {
        "-q",
        "--quiet",
        "--silent",
        "-c",
        "--count",
        "-l",
        "-L",
        "--files-with-matches",
        "--files-without-match",
    }
)
_CLIPBOARD = frozenset({"pbcopy", "xclip", "xsel", "wl-copy", "clip.exe"})
INTERPRETERS = frozenset(
    {"python", "python2", "python3", "node", "nodejs", "ruby", "perl", "deno", "bun", "php"}
)


def _is_interpreter(name: str) -> bool:
    return name in INTERPRETERS or name.startswith("python3.")


def _consumes_credential(argv: list[str]) -> bool:
    """Takes its stdin as a credential or applies it without printing it."""
    name = argv[0]
    if name in _CLIPBOARD or name in ("ssh-add", "chpasswd", "kubeseal"):
        return True
    args = argv[1:]
    if any(a in ("--password-stdin", "--with-token", "--stdin", "--token-stdin") for a in args):
        return True
    words = [a for a in args if not a.startswith("-")]
    if (
        name in ("kubectl", "oc")
        and words[:1]
        and words[0] in ("apply", "create", "replace")
        and _flag_value(args, "-f", "--filename") == "-"
    ):
        return True
    if name in ("gpg", "gpg2") and (
        "--import" in args or "-e" in args or "--encrypt" in args or "-c" in args
    ):
        return True
    if name in ("age", "sops") and ("-e" in args or "--encrypt" in args):
        return True
    if name == "gh" and words[:2] == ["secret", "set"]:
        return True
    if name in ("docker", "podman") and words[:2] == ["secret", "create"]:
        return True
    if name == "vault" and (words[:1] == ["login"] or "-" in words or any(w.endswith("=-") for w in words)):
        return True
    return False


def _flag_value(args: list[str], *flags: str) -> str | None:
    for i, a in enumerate(args):
        if a in flags and i + 1 < len(args):
            return args[i + 1]
        for f in flags:
            if f.startswith("--") and a.startswith(f + "="):
                return a[len(f) + 1 :]
            if len(f) == 2 and a.startswith(f) and len(a) > 2 and not a.startswith("--"):
                return a[2:]
    return None


# -- taint of words ---------------------------------------------------------------------------
def _names(word: str) -> list[str]:
    """Variable names referenced in a word ($X, ${X}, ${X:-…})."""
    out = []
    i = word.find("$")
    while i != -1 and i + 1 < len(word):
        j = i + 1
        if word[j] == "{":
            j += 1
        k = j
        while k < len(word) and (word[k].isalnum() or word[k] == "_"):
            k += 1
        if k > j and not word[j].isdigit():
            out.append(word[j:k])
        i = word.find("$", k)
    return out


def word_taint(
    word: str, state, *, variables: bool = True, assigns: dict | None = None, depth: int = 0
) -> Taint | None:
    """Secret material a word expands to: substitutions that read it, secret variables."""
    if "$" not in word and "`" not in word:
        return None
    tainted = flow(state).tainted
    for name in _names(word):
        if variables and sm.secret_variable(name):
            return (sm.MATERIAL, f"${name}")
        if name in tainted:
            return tainted[name]
        value = (assigns or {}).get(name)
        if value is None:
            value = state.exported.get(name)
        if value and depth < 4 and value != word:
            inner = word_taint(value, state, assigns=assigns, depth=depth + 1)
            if inner is not None:
                return (inner[0], f"${name} (set from {inner[1]})")
    if "$(<" in word or "$( <" in word:
        # `$(< .env)`: bash's file-reading substitution (no command runs, so the parser has none)
        start = word.index("<", word.index("$(")) + 1
        end = word.find(")", start)
        t = _path_label(word[start : end if end != -1 else None].strip(), state)
        if t is not None:
            return t
    if "$(" in word or "`" in word or "<(" in word:
        f = flow(state)
        if word in f.words:
            return f.words[word]
        f.words[word] = None  # a cycle reads as clean rather than recursing
        from skill.guardrails import shell

        try:
            parsed = shell.parse(word)
        except RecursionError:
            return None
        inner_consumers = {id(s.pipe_src) for s in parsed.commands if s.pipe_src is not None}
        found = None
        for s in parsed.commands:
            if not s.in_substitution or id(s) in inner_consumers:
                continue  # only what a substitution's pipeline finally prints is in the word
            t = output_taint(s, state)
            if t is not None:
                found = t
                break
        f.words[word] = found
        return found
    return None


# -- what a command reads and prints ------------------------------------------------------------
def _unwrapped(simple):
    from skill.guardrails.wrappers import unwrap

    uw = unwrap(simple.argv, simple.dynamic)
    return uw.argv, uw.dynamic, uw.assigns


def output_taint(simple, state) -> Taint | None:
    """Secret material on the stdout of ``simple`` (memoised per command)."""
    f = flow(state)
    key = id(simple)
    if key in f.out:
        return f.out[key]
    f.out[key] = None
    if not simple.argv:
        t = _redirect_in(simple, state)  # `$(< .env)`
        f.out[key] = t
        return t
    argv, dynamic, assigns = _unwrapped(simple)
    t = _compute_output(simple, argv, dynamic, assigns, state)
    f.out[key] = t
    return t


def _compute_output(simple, argv, dynamic, assigns, state, own=False) -> Taint | None:
    if not argv:
        return None
    if own is False:  # not computed by the caller yet
        own = own_taint(simple, argv, dynamic, assigns, state)
    if own is not None:
        return own
    name = argv[0]
    if name in _REDUCERS or _consumes_credential(argv) or name in ("curl", "wget"):
        return None
    if name in PRINTERS and _no_content(name, argv):
        return None
    return stdin_taint(simple, state, piped=True)


def _no_content(name: str, argv: list[str]) -> bool:
    if name not in ("grep", "egrep", "fgrep", "rg", "zgrep", "ag", "ack"):
        return False
    for a in argv[1:]:
        if a in _NO_CONTENT_FLAGS:
            return True
        if a.startswith("-") and not a.startswith("--") and any(c in a[1:] for c in "qclL") and len(a) <= 5:
            return True
    return False


def _redirect_in(simple, state) -> Taint | None:
    for op, target in simple.redirects:
        if op == "<":
            label = _path_label(target, state)
            if label is not None:
                return label
    return None


def stdin_taint(simple, state, *, piped: bool = True) -> Taint | None:
    """Secret material arriving on stdin: `< file`, a here-string, or a pipe."""
    t = _redirect_in(simple, state)
    if t is not None:
        return t
    if simple.stdin is not None and ("$" in simple.stdin or "`" in simple.stdin):
        t = word_taint(simple.stdin, state)
        if t is not None:
            return t
    if piped and simple.pipe_src is not None:
        return output_taint(simple.pipe_src, state)
    return None


def _path_label(word: str, state, *, folders: bool = False) -> Taint | None:
    f = getattr(state, "secret_flow", None)
    if f is not None and word in f.derived:
        return (sm.MATERIAL, f.derived[word])
    if word.startswith("$"):
        word = _resolve_literal(word, state)
    label = sm.secret_path(word, getattr(state, "cwd", None), folders=folders)
    if label is None and ("$(" in word or "`" in word):
        # `cat $(ls ~/.ssh/id_*)`: a path computed from a listing of secret material
        for token in word.replace("(", " ").replace(")", " ").replace("`", " ").replace('"', " ").split():
            label = sm.secret_path(token, getattr(state, "cwd", None))
            if label is not None and label != "environment":
                return (sm.MATERIAL, f"{word} (a path found among {label})")
        label = None
    if label is None:
        if "$" in word:
            for name in _names(word):
                if name in sm.PATH_VARS and word.startswith(("$" + name, "${" + name)):
                    return (sm.MATERIAL, f"${name} (a credentials file)")
        return None
    if label == "environment":
        return (sm.ENVIRONMENT, f"{word} (a process environment)")
    return (sm.MATERIAL, label)


def _resolve_literal(word: str, state) -> str:
    """`K=~/.ssh/id_rsa; curl -F f=@$K`: a path held in a variable set earlier on the line."""
    names = _names(word)
    if not names:
        return word
    name = names[0]
    value = state.exported.get(name)
    if value is None or "$" in value or "`" in value:
        return word
    for form in ("${" + name + "}", "$" + name):
        if word.startswith(form):
            return value + word[len(form) :]
    return word


def _file_operands(name: str, argv: list[str]) -> list[str]:
    """Operands of a printer that name files (skipping a grep/awk/sed/jq pattern)."""
    args = argv[1:]
    out: list[str] = []
    pattern_given = False
    skip_next = False
    for i, a in enumerate(args):
        if skip_next:
            skip_next = False
            if name in ("openssl",) and args[i - 1] in ("-in",):
                out.append(a)
            continue
        if a.startswith("if=") and name == "dd":
            out.append(a[3:])
            continue
        if a.startswith("-") and len(a) > 1:
            if a in ("-e", "-f", "--regexp", "--file", "--expression") and name in _PATTERN_FIRST:
                pattern_given = True
                skip_next = True
            elif name == "openssl" and a in ("-in", "-out", "-passin", "-passout", "-inkey", "-config"):
                skip_next = True
            elif name in ("head", "tail") and a in ("-n", "-c"):
                skip_next = True
            elif name in ("base64", "base32") and a in ("-i", "--input"):
                skip_next = False
            continue
        out.append(a)
    if name in _PATTERN_FIRST and not pattern_given and out:
        out = out[1:]
    if name == "openssl":
        return [a for a in out if not a.isalpha() or "/" in a or "." in a] if out else out
    return out


def own_taint(simple, argv: list[str], dynamic: list[bool], assigns: dict, state) -> Taint | None:
    """Secret material this command itself reads and prints."""
    name = argv[0]
    if name in _DUMPS:
        dump = sm.environment_dump(argv)
        if dump is not None:
            return (sm.ENVIRONMENT, dump)
    if name in _PRINTING_PROGRAMS or name.startswith("docker-credential-"):
        label = sm.printing_command(argv)
        if label is not None:
            return (sm.MATERIAL, label)
    if name == "printenv":
        for a in argv[1:]:
            if sm.secret_variable(a):
                return (sm.MATERIAL, f"${a}")
        return None
    if name in ("echo", "printf"):
        for a, d in zip(argv[1:], dynamic[1:], strict=False):
            if d:
                t = word_taint(a, state, assigns=assigns)
                if t is not None:
                    return t
        return None
    if name in PRINTERS:
        if _no_content(name, argv):
            return None
        for a in _file_operands(name, argv):
            t = _path_label(a, state)
            if t is not None:
                return t
        t = _redirect_in(simple, state)
        if t is not None:
            return t
        return None
    if name in ("tar", "bsdtar", "gtar", "zip", "7z", "cpio") or name in _COMPRESSORS:
        return _archive_to_stdout(name, argv, state)
    if _is_interpreter(name):
        code = " ".join(argv[1:]) + ("\n" + simple.stdin if simple.stdin else "")
        t = _code_reads(code, state)
        if t is None and ("-c" in argv or "-e" in argv or "-r" in argv or "eval" in argv or simple.stdin):
            for a in argv[2:]:  # arguments handed to the inline code (`sys.argv[1]`)
                t = _path_label(a, state) if not a.startswith("-") and len(a) < 300 else None
                if t is not None:
                    break
        return t
    return None


_COMPRESSORS = frozenset({"gzip", "bzip2", "xz", "zstd", "lz4", "pigz", "brotli"})


def _archive_sources(name: str, argv: list[str]) -> tuple[list[str], str | None]:
    """(source operands, output file or '-' for stdout or None) of tar/zip/gzip-like commands."""
    args = argv[1:]
    if name in _COMPRESSORS:
        to_stdout = any(
            a in ("-c", "--stdout", "--to-stdout")
            or (a.startswith("-") and not a.startswith("--") and "c" in a)
            for a in args
        )
        files = [a for a in args if not a.startswith("-")]
        return files, "-" if to_stdout or not files else None
    if name == "zip":
        files = [a for a in args if not a.startswith("-") or a == "-"]
        if not files:
            return [], None
        return files[1:], files[0]
    if name == "7z":
        words = [a for a in args if not a.startswith("-")]
        if words[:1] == ["a"] and len(words) > 2:
            return words[2:], words[1]
        return [], None
    if name == "cpio":
        return [], None
    # tar: creation only; `-f FILE`, `f` in an old-style bundle, `--file=`
    create = False
    output = None
    sources: list[str] = []
    i = 0
    first = True
    while i < len(args):
        a = args[i]
        if first and not a.startswith("-") and a.isalpha():
            first = False
            create = create or "c" in a or "r" in a
            if "f" in a:
                i += 1
                output = args[i] if i < len(args) else None
            i += 1
            continue
        first = False
        if a in ("--create",):
            create = True
        elif a.startswith("--file="):
            output = a.split("=", 1)[1]
        elif a in ("--file", "-C", "--directory", "-T", "--files-from", "-X", "--exclude-from", "--exclude"):
            if a in ("--file",):
                output = args[i + 1] if i + 1 < len(args) else None
            i += 1
        elif a.startswith("-") and not a.startswith("--"):
            create = create or "c" in a
            if a.endswith("f"):
                output = args[i + 1] if i + 1 < len(args) else None
                i += 1
        elif not a.startswith("-"):
            sources.append(a)
        i += 1
    if not create:
        return [], None
    return sources, output if output is not None else "-"


def _archive_to_stdout(name: str, argv: list[str], state) -> Taint | None:
    sources, output = _archive_sources(name, argv)
    if output != "-":
        return None
    for s in sources:
        t = _path_label(s, state, folders=True)
        if t is not None:
            return (t[0], f"an archive of {t[1]}")
    return None


# -- inline code ------------------------------------------------------------------------------
_NET_MARKERS = (
    "urlopen",
    "urllib",
    "requests.",
    "http.client",
    "httpx",
    "aiohttp",
    "socket",
    "smtplib",
    "ftplib",
    "fetch(",
    "http.request",
    "https.request",
    "http.get",
    "https.get",
    "net.connect",
    "net.Socket",
    "XMLHttpRequest",
    "WebSocket",
    "axios",
    "Deno.connect",
    "Net::HTTP",
    "open-uri",
    "URI.open",
    "TCPSocket",
    "LWP",
    "HTTP::Tiny",
    "IO::Socket",
    "curl_init",
    "curl_exec",
    "fsockopen",
    "stream_socket_client",
    "file_get_contents('http",
    'file_get_contents("http',
    "gethostbyname",
    "dns.resolve",
    "dns.lookup",
    "Bun.connect",
    "require('http",
    'require("http',
    "require('net')",
    'require("net")',
    "require('dgram')",
    'require("dgram")',
    "require('dns')",
    'require("dns")',
    "node:http",
    "node:net",
    "paramiko",
    "pysftp",
    "boto3",
    "s3.upload",
    "put_object",
)
_ENV_WHOLE = (
    "os.environ)",
    "os.environ,",
    "os.environ.items",
    "os.environ.copy",
    "dict(os.environ",
    "str(os.environ",
    "json.dumps(os.environ",
    "process.env)",
    "process.env,",
    "JSON.stringify(process.env",
    "ENV.to_h",
    "ENV.to_a",
    "%ENV",
    "getenv()",
    "$_ENV",
    "Deno.env.toObject",
    "Bun.env)",
    "os.environ}",
)


def _quoted_strings(code: str) -> list[str]:
    out = []
    i = 0
    n = len(code)
    while i < n:
        c = code[i]
        if c in "'\"`":
            j = code.find(c, i + 1)
            if j == -1:
                break
            out.append(code[i + 1 : j])
            i = j + 1
        else:
            i += 1
    return out


def _code_reads(code: str, state) -> Taint | None:
    """Secret material inline code reads: a secret path in a string, the environment, a secret variable."""
    for s in _quoted_strings(code):
        if 0 < len(s) < 300 and ("/" in s or "." in s or s.startswith("id_")) and " " not in s.strip():
            t = _path_label(s.strip(), state)
            if t is not None and t[0] == sm.MATERIAL:
                return t
            if s.strip() in (".ssh", ".aws", ".gnupg", ".kube", ".docker", ".azure"):
                return (sm.MATERIAL, f"{s.strip()} (credentials folder)")
        elif s and sm.secret_variable(s) and s.isupper():
            return (sm.MATERIAL, f"${s}")
    for marker in _ENV_WHOLE:
        if marker in code:
            return (sm.ENVIRONMENT, "the whole environment (inline code)")
    return None


def _code_sends(code: str) -> bool:
    return any(m in code for m in _NET_MARKERS)


# -- sinks ------------------------------------------------------------------------------------
class _Payload:
    __slots__ = ("stdin", "files", "words", "dns")

    def __init__(self) -> None:
        self.stdin = False  # the sink sends what arrives on stdin
        self.files: list[str] = []  # files it sends
        self.words: list[str] = []  # argument text it sends (data, URL, remote command)
        self.dns: list[str] = []  # names it resolves (a secret variable there is sent too)

    def file(self, src: str) -> None:
        """A file the sink sends; `-` is its stdin."""
        if src == "-":
            self.stdin = True
        else:
            self.files.append(src)


_CURL_VALUE_SHORT = frozenset("XHdouAebcFTwmxKrPUEQYyzCt")
_CURL_DATA = frozenset({"-d", "--data", "--data-ascii", "--data-binary", "--data-urlencode", "--json"})
_CURL_LONG_VALUE = None


def _curl(argv: list[str], payload: _Payload) -> None:
    from skill.guardrails.commands.network import _CURL_VALUE

    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        flag = value = None
        if a.startswith("--"):
            if "=" in a:
                flag, value = a.split("=", 1)
            elif a in _CURL_VALUE or a in ("--data-ascii", "--form-string", "--url-query", "--upload-file"):
                flag = a
                value = args[i + 1] if i + 1 < len(args) else ""
                i += 1
        elif a.startswith("-") and len(a) > 1:
            for k, ch in enumerate(a[1:], 1):
                if ch in _CURL_VALUE_SHORT:
                    flag = "-" + ch
                    value = a[k + 1 :] or (args[i + 1] if i + 1 < len(args) else "")
                    if not a[k + 1 :]:
                        i += 1
                    break
        else:
            payload.words.append(a)  # a URL: $(…) in it sends data
            payload.dns.append(a)
        i += 1
        if flag is None:
            continue
        if flag in _CURL_DATA or flag == "--url-query":
            if value.startswith("@") or (
                "@" in value
                and flag in ("--data-urlencode", "--url-query")
                and "=" not in value.split("@")[0]
            ):
                payload.file(value.split("@", 1)[1])
            else:
                payload.words.append(value)
        elif flag in ("--data-raw", "--form-string"):
            payload.words.append(value)
        elif flag in ("-F", "--form"):
            field = value.split("=", 1)[1] if "=" in value else value
            if field[:1] in ("@", "<"):
                payload.file(field[1:].split(";", 1)[0])
            else:
                payload.words.append(value)
        elif flag in ("-T", "--upload-file"):
            payload.file("-" if value == "." else value)
        elif flag in ("-H", "--header") and value.startswith("@"):
            payload.files.append(value[1:])
        elif flag == "--url":
            payload.words.append(value)


def _wget(argv: list[str], payload: _Payload) -> None:
    args = argv[1:]
    for i, a in enumerate(args):
        nxt = args[i + 1] if i + 1 < len(args) else ""
        for flag in ("--post-file", "--body-file"):
            if a == flag:
                payload.files.append(nxt)
            elif a.startswith(flag + "="):
                payload.files.append(a.split("=", 1)[1])
        for flag in ("--post-data", "--body-data"):
            if a == flag:
                payload.words.append(nxt)
            elif a.startswith(flag + "="):
                payload.words.append(a.split("=", 1)[1])
        if not a.startswith("-") and (i == 0 or not args[i - 1].startswith("-") or "=" in args[i - 1]):
            payload.words.append(a)
    if any(f in ("/dev/stdin", "-") for f in payload.files):
        payload.stdin = True


def _httpie(argv: list[str], payload: _Payload) -> None:
    payload.stdin = not any(a in ("--ignore-stdin", "-I") for a in argv[1:])
    for a in argv[1:]:
        if a.startswith("-"):
            continue
        if a.startswith("@"):
            payload.files.append(a[1:])
        elif "=@" in a or ":=@" in a:
            payload.files.append(a.split("@", 1)[1])
        elif "@" in a and "://" not in a and a.split("@", 1)[0].replace("-", "_").isidentifier():
            payload.files.append(a.split("@", 1)[1])  # a multipart file field: `file@~/.ssh/id_rsa`
        elif "==" in a or "=" in a:
            payload.words.append(a)
        elif ":" not in a or "://" in a or a[:1] == ":":
            payload.words.append(a)


_SCP_VALUE = frozenset(
    {
        "-i",
        "-P",
        "-p",
        "-F",
        "-o",
        "-c",
        "-l",
        "-S",
        "-J",
        "-e",
        "--rsh",
        "--rsync-path",
        "--exclude",
        "--include",
        "--filter",
        "-f",
        "--port",
        "--password-file",
        "-T",
        "--temp-dir",
        "--log-file",
        "--partial-dir",
        "--backup-dir",
        "--suffix",
        "--chmod",
        "--chown",
        "--config",
        "-B",
        "-b",
    }
)


def _is_remote(word: str) -> bool:
    if word.startswith(
        ("rsync://", "scp://", "sftp://", "s3://", "gs://", "az://", "https://", "http://", "ftp://")
    ):
        return True
    if ":" not in word or word.startswith(("/", "./", "../", "~")):
        return False
    host = word.split(":", 1)[0]
    return bool(host) and "/" not in host and not (len(host) == 1 and host.isalpha())


def _copy_to_remote(argv: list[str], payload: _Payload, *, remote_check=_is_remote) -> None:
    from skill.guardrails.commands._base import positionals

    pos = positionals(argv[1:], _SCP_VALUE)
    if len(pos) >= 2 and remote_check(pos[-1]):
        payload.files.extend(p for p in pos[:-1] if not remote_check(p))


def _sftp(argv: list[str], simple, payload: _Payload) -> None:
    text = simple.stdin or ""
    for line in text.splitlines():
        words = line.split()
        if words[:1] and words[0] in ("put", "mput", "reput") and len(words) > 1:
            payload.files.append(words[1])
    payload.stdin = simple.stdin is None


def _cloud_copy(argv: list[str], payload: _Payload) -> None:
    name = argv[0]
    words = [a for a in argv[1:] if not a.startswith("-") or a == "-"]
    bucket = ("s3://", "gs://", "az://", "https://", "http://", "r2://", "oss://", "cos://", "b2://")
    if name == "aws":
        if words[:1] == ["s3"] and len(words) >= 4 and words[1] in ("cp", "mv", "sync"):
            src, dst = words[2], words[3]
            if dst.startswith("s3://") and not src.startswith("s3://"):
                if src == "-":
                    payload.stdin = True
                else:
                    payload.files.append(src)
        elif words[:2] == ["s3api", "put-object"]:
            body = _flag_value(argv[1:], "--body")
            if body:
                payload.files.append(body)
        return
    if name in ("gsutil", "gcloud", "s3cmd", "mc", "azcopy", "rclone", "b2", "s5cmd"):
        if name == "gcloud":
            words = words[1:] if words[:1] == ["storage"] else []
        if name == "rclone" and words[:1] == ["rcat"]:
            payload.stdin = True
            return
        if name == "mc" and words[:1] == ["pipe"]:
            payload.stdin = True
            return
        if words[:1] and words[0] in (
            "cp",
            "mv",
            "rsync",
            "sync",
            "put",
            "copy",
            "copyto",
            "move",
            "moveto",
            "mirror",
            "upload",
        ):
            items = words[1:]
            if len(items) >= 2:
                dst = items[-1]
                remote = dst.startswith(bucket) or (name in ("rclone", "mc") and _is_remote(dst))
                if remote:
                    for src in items[:-1]:
                        if src == "-":
                            payload.stdin = True
                        elif not src.startswith(bucket):
                            payload.files.append(src)
        return
    if name == "az" and words[:3] in (["storage", "blob", "upload"], ["storage", "file", "upload"]):
        f = _flag_value(argv[1:], "-f", "--file")
        if f:
            payload.files.append(f)
    elif name == "az" and words[:3] in (["storage", "blob", "upload-batch"], ["storage", "blob", "sync"]):
        f = _flag_value(argv[1:], "-s", "--source")
        if f:
            payload.files.append(f)


def _forge(argv: list[str], payload: _Payload) -> None:
    words = [a for a in argv[1:] if not a.startswith("-")]
    args = argv[1:]
    if argv[0] == "gh" and words[:2] in (["gist", "create"], ["gist", "edit"]):
        files = words[2:] if words[1] == "create" else words[3:]
        files = [
            f
            for f in files
            if f not in (_flag_value(args, "-d", "--desc", "--description", "-f", "--filename") or "",)
        ]
        if not files or "-" in files:
            payload.stdin = True
        payload.files.extend(f for f in files if f != "-")
        for flag in ("-a", "--add"):
            v = _flag_value(args, flag)
            if v:
                payload.files.append(v)
    elif argv[0] == "glab" and words[:2] == ["snippet", "create"]:
        payload.files.extend(words[2:])
    elif words[:2] == ["release", "upload"]:
        payload.files.extend(w.split("#", 1)[0] for w in words[3:])
    elif words[:1] == ["api"]:
        v = _flag_value(args, "--input")
        if v == "-":
            payload.stdin = True
        elif v:
            payload.files.append(v)
        for i, a in enumerate(args):
            if a in ("-F", "--field", "-f", "--raw-field") and i + 1 < len(args):
                val = args[i + 1].split("=", 1)[-1]
                if val.startswith("@") and a in ("-F", "--field"):
                    payload.files.append(val[1:]) if val != "@-" else setattr(payload, "stdin", True)
                else:
                    payload.words.append(args[i + 1])
    elif (
        len(words) >= 2
        and words[0] in ("issue", "pr", "release", "discussion")
        and words[1] in ("create", "comment", "edit", "review")
    ):
        v = _flag_value(args, "-F", "--body-file", "--notes-file")
        if v == "-":
            payload.stdin = True
        elif v:
            payload.files.append(v)
        for flag in ("-b", "--body", "--notes", "-t", "--title"):
            v = _flag_value(args, flag)
            if v:
                payload.words.append(v)


# Programs that resolve the names they are given (a name built from a secret leaks it over DNS).
_RESOLVERS = frozenset(
    "dig nslookup host drill delv kdig ping ping6 traceroute whois resolvectl getent".split()
)
_SOCKETS = frozenset(
    {
        "nc",
        "ncat",
        "netcat",
        "socat",
        "telnet",
        "openssl",
        "gnutls-cli",
        "mail",
        "mailx",
        "sendmail",
        "mutt",
        "msmtp",
        "swaks",
        "ssh",
    }
)
_CLOUD = frozenset({"aws", "gsutil", "gcloud", "s3cmd", "mc", "azcopy", "rclone", "az", "b2", "s5cmd"})
_SINKS = (
    _RESOLVERS
    | _SOCKETS
    | _CLOUD
    | frozenset(
        {"curl", "wget", "http", "https", "xh", "xhs", "scp", "rsync", "sftp", "gh", "glab", "getent"}
    )
)


def sink_payload(simple, argv: list[str]) -> _Payload | None:
    """What a network sink sends, or None when the command sends nothing off the machine."""
    name = argv[0]
    if name not in _SINKS and name != "tee":
        return None
    payload = _Payload()
    if name == "curl":
        _curl(argv, payload)
    elif name == "wget":
        _wget(argv, payload)
    elif name in ("http", "https", "xh", "xhs"):
        _httpie(argv, payload)
    elif name in ("scp", "rsync"):
        _copy_to_remote(argv, payload)
        if not payload.files:
            return None
    elif name == "sftp":
        _sftp(argv, simple, payload)
    elif name in _SOCKETS:
        if name == "openssl" and "s_client" not in argv:
            return None
        if name == "ssh":
            if "-n" in argv[1:]:
                payload.stdin = False
            else:
                payload.stdin = True
            from skill.guardrails.commands._base import positionals

            pos = positionals(
                argv[1:],
                frozenset(
                    {
                        "-i",
                        "-p",
                        "-l",
                        "-o",
                        "-F",
                        "-J",
                        "-L",
                        "-R",
                        "-D",
                        "-W",
                        "-b",
                        "-c",
                        "-E",
                        "-e",
                        "-I",
                        "-m",
                        "-O",
                        "-Q",
                        "-S",
                        "-w",
                        "-B",
                    }
                ),
            )
            payload.words.extend(pos[1:])
        else:
            payload.stdin = True
            if name == "socat":
                for a in argv[1:]:
                    head, _, rest = a.partition(":")
                    if head.upper() in ("FILE", "OPEN", "GOPEN", "READ") and rest:
                        payload.files.append(rest.split(",", 1)[0])
            if name in ("mail", "mailx", "mutt", "swaks"):
                for flag in ("-a", "-A", "--attach"):
                    v = _flag_value(argv[1:], flag)
                    if v:
                        payload.files.append(v.lstrip("@"))
    elif name in _CLOUD:
        _cloud_copy(argv, payload)
        if not (payload.files or payload.stdin):
            return None
    elif name in ("gh", "glab"):
        _forge(argv, payload)
        if not (payload.files or payload.stdin or payload.words):
            return None
    elif name == "tee" and any(a.startswith(("/dev/tcp/", "/dev/udp/")) for a in argv[1:]):
        payload.stdin = True
    elif name in _RESOLVERS and (name != "getent" or argv[1:2] == ["hosts"]):
        payload.dns.extend(a for a in argv[1:] if not a.startswith("-"))
    else:
        return None
    if name in ("nc", "ncat", "netcat", "telnet", "socat"):
        payload.dns.extend(a for a in argv[1:] if not a.startswith("-"))
    return payload


# -- the pass -------------------------------------------------------------------------------
_READERS = frozenset({"read", "mapfile", "readarray"})
_PRINTING_PROGRAMS = frozenset(
    """gh glab aws gcloud az kubectl oc vault op doppler sops pass gopass security secret-tool bw lpass gpg
    gpg2 age ansible-vault heroku terraform tofu terragrunt git""".split()
)
# Programs whose output files can be made from secret material (remembered for the line).
_DERIVERS = (
    frozenset({"cp", "mv", "install", "ln", "rsync", "tar", "bsdtar", "gtar", "zip", "7z"}) | _COMPRESSORS
)
_DUMPS = frozenset({"env", "printenv", "set", "export", "declare", "typeset", "ps"})
_WRITERS = frozenset({"cp", "mv", "install", "ln", "rsync", "tar", "bsdtar", "gtar", "zip", "7z", "git"})


def _relevant(name: str) -> bool:
    return (
        name in PRINTERS
        or name in _PRINTING_PROGRAMS
        or name in _DUMPS
        or name in _SINKS
        or name in _WRITERS
        or name in _COMPRESSORS
        or name in ("echo", "printf")
        or name in _READERS
        or _is_interpreter(name)
        or name.startswith("docker-credential-")
    )


def part_hits(
    simple, argv: list[str], dynamic: list[bool], assigns: dict, state
) -> list[tuple[int, str, str]]:
    """Secret-material hits for one simple command (its argv already unwrapped)."""
    name = argv[0]
    if simple.pipe_src is None and not simple.redirects and simple.stdin is None and not _relevant(name):
        # the common case: nothing here reads, prints, stores or sends secrets (and a command
        # piping into a later part carries nothing either)
        f = getattr(state, "secret_flow", None)
        if f is not None:
            f.out[id(simple)] = None
        return []
    hits: list[tuple[int, str, str]] = []
    own = own_taint(simple, argv, dynamic, assigns, state)
    key = id(simple)
    if own is not None:
        flow(state).out[key] = own
    payload = sink_payload(simple, argv)
    if payload is not None:
        if simple.argv and simple.argv[0].rsplit("/", 1)[-1] in ("xargs", "parallel"):
            payload.stdin = True  # xargs turns what arrives on stdin into the sink's arguments
        sent = _payload_taint(simple, payload, state, assigns)
        if sent is not None:
            hits.append(_sent_hit(name, sent))
    elif _is_interpreter(name):
        code = " ".join(argv[1:]) + ("\n" + simple.stdin if simple.stdin else "")
        if _code_sends(code):
            read = own or stdin_taint(simple, state)
            if read is not None:
                hits.append(
                    (
                        4,
                        "secrets.interpreter-exfiltration"
                        if read[0] == sm.MATERIAL
                        else "secrets.environment-sent",
                        f"inline {name} code reads {read[1]} and opens a network connection",
                    )
                )
    if name in ("read", "mapfile", "readarray"):
        t = stdin_taint(simple, state)
        if t is not None:
            for a in argv[1:]:
                if a.isidentifier():
                    flow(state).tainted[a] = (t[0], f"${a} (read from {t[1]})")
    if name == "git":
        hit = _git(argv, state)
        if hit is not None:
            hits.append(hit)
    out = (
        own
        if own is not None
        else (
            _compute_output(simple, argv, dynamic, assigns, state, own=None)
            if simple.pipe_src is not None or simple.redirects
            else None
        )
    )
    f = getattr(state, "secret_flow", None)
    if f is None and out is None and name not in _DERIVERS:
        return hits  # nothing read, nothing written: no need to remember anything for this line
    f = flow(state)
    f.out[key] = out
    _remember_derived(simple, argv, out, state, f)
    if out is not None and not hits:
        origin = own if own is not None else _redirect_in(simple, state)
        if origin is not None and not simple.in_substitution:
            hit = _transcript_hit(simple, origin, f)
            if hit is not None:
                hits.append(hit)
    return hits


def _sent_hit(name: str, sent: Taint) -> tuple[int, str, str]:
    if sent[0] == sm.ENVIRONMENT:
        return (
            4,
            "secrets.environment-sent",
            f"{name} sends the whole environment off the machine ({sent[1]})",
        )
    return (4, "secrets.exfiltration", f"{name} sends secrets off the machine: {sent[1]}")


def _payload_taint(simple, payload: _Payload, state, assigns) -> Taint | None:
    if payload.stdin:
        t = stdin_taint(simple, state)
        if t is not None:
            return t
    for path in payload.files:
        if path in ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0") and not payload.stdin:
            t = stdin_taint(simple, state)
            if t is not None:
                return t
        t = _path_label(path, state, folders=True)
        if t is not None:
            return t
    for word in payload.words:
        # data arguments: a secret variable is a secret; in a URL only computed text counts
        # (`Authorization`-style use of $TOKEN in a webhook URL is how those APIs work)
        t = word_taint(word, state, variables=word not in payload.dns, assigns=assigns)
        if t is not None:
            return t
    for word in payload.dns:
        t = word_taint(word, state, assigns=assigns)
        if t is not None and ("$(" in word or "`" in word or word not in payload.words):
            return t
    return None


def _transcript_hit(simple, origin: Taint, f: Flow) -> tuple[int, str, str] | None:
    """Where the output of a reader ends: the transcript (ask), a credential consumer, a file."""
    cur = simple
    while True:
        nxt = f.consumers.get(id(cur))
        if nxt is None:
            break
        if not nxt.argv:
            return None
        from skill.guardrails.wrappers import unwrap

        argv = unwrap(nxt.argv, nxt.dynamic).argv
        if not argv:
            return None
        n = argv[0]
        if n in _REDUCERS or _consumes_credential(argv) or (n in PRINTERS and _no_content(n, argv)):
            return None
        if sink_payload(nxt, argv) is not None:
            return None  # the sink's own part judges what it sends
        cur = nxt
    if cur.in_substitution:
        return None
    for op, target in cur.redirects:
        if op in (">", ">>", ">|", "&>", "&>>"):
            if target.startswith(("/dev/tcp/", "/dev/udp/")):
                return _sent_hit("a /dev/tcp redirect", origin)
            if target not in ("/dev/stdout", "/dev/stderr", "/dev/tty") and not target.startswith("&"):
                return None  # written to a file (remembered as secret material for this line)
    if origin[0] == sm.ENVIRONMENT:
        if cur is not simple and cur.argv and _filters_secret_names(cur.argv):
            return (3, "secrets.read", f"prints the secret-named variables of {origin[1]}")
        return (2, "secrets.environment", f"prints {origin[1]}")
    return (3, "secrets.read", f"reads secrets into the transcript: {origin[1]}")


def _filters_secret_names(argv: list[str]) -> bool:
    """`env | grep -i token`: the filter keeps the secret variables."""
    for a in argv[1:]:
        if a.startswith("-"):
            continue
        for piece in a.replace("|", " ").replace("\\", " ").split():
            if sm.secret_variable(piece.strip("^$.*'\"()")) or piece.upper().strip("^$.*'\"()") in (
                "KEY",
                "PASS",
                "AUTH",
            ):
                return True
    return False


def _remember_derived(simple, argv: list[str], out: Taint | None, state, f: Flow) -> None:
    """Files written from secret material on this line are secret material for the rest of it."""
    name = argv[0]
    if out is not None and out[0] == sm.MATERIAL:
        for op, target in simple.redirects:
            if op in (">", ">>", ">|", "&>") and not target.startswith(("/dev/", "&")):
                f.derived[target] = f"{target} (written from {out[1]})"
        if name == "tee":
            for a in argv[1:]:
                if not a.startswith("-"):
                    f.derived[a] = f"{a} (written from {out[1]})"
    if (
        name in ("cp", "mv", "install", "ln", "rsync")
        or name in ("tar", "bsdtar", "gtar", "zip", "7z")
        or name in _COMPRESSORS
    ):
        if name in ("cp", "mv", "install", "ln", "rsync"):
            words = [a for a in argv[1:] if not a.startswith("-")]
            sources, output = words[:-1], (words[-1] if len(words) >= 2 else None)
            if output is not None and _is_remote(output):
                return
        else:
            sources, output = _archive_sources(name, argv)
            if name in _COMPRESSORS and output is None:
                output = next(
                    (
                        s
                        + {
                            "gzip": ".gz",
                            "pigz": ".gz",
                            "bzip2": ".bz2",
                            "xz": ".xz",
                            "zstd": ".zst",
                            "lz4": ".lz4",
                            "brotli": ".br",
                        }[name]
                        for s in sources
                    ),
                    None,
                )
        if not output or output == "-":
            return
        for s in sources:
            t = _path_label(s, state, folders=True)
            if t is not None:
                f.derived[output] = f"{output} (made from {t[1]})"
                if name in ("cp", "mv", "install", "rsync") and not output.endswith("/"):
                    f.derived[output.rstrip("/") + "/" + s.rstrip("/").rsplit("/", 1)[-1]] = f.derived[output]
                return


def _git(argv: list[str], state) -> tuple[int, str, str] | None:
    """git push of secret material staged on the line to a remote added on the same line."""
    f = getattr(state, "secret_flow", None)
    if "remote" not in argv and "add" not in argv and (f is None or not f.staged):
        return None
    f = flow(state)
    words = [a for a in argv[1:] if not a.startswith("-")]
    if words[:2] in (["remote", "add"], ["remote", "set-url"]) and len(words) >= 3:
        f.remotes.add(words[2])
        return None
    if words[:1] == ["add"]:
        for w in words[1:]:
            t = _path_label(w, state)
            if t is not None and t[0] == sm.MATERIAL:
                f.staged = t[1]
        return None
    if words[:1] == ["push"] and len(words) > 1 and f.staged:
        target = words[1]
        if target in f.remotes or "://" in target or target.startswith("git@") or _is_remote(target):
            return (
                4,
                "secrets.exfiltration",
                f"git push sends {f.staged} to {target}, a remote set up on this line",
            )
    return None
