"""Dockerfile checks: a small parser (continuations, heredocs, stages) and one finding per check and file."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from skill.findings import Finding
from skill.nodes.readiness.checks import CHECKS
from skill.nodes.readiness.loader import TextFile
from skill.nodes.readiness.repo import strong_secrets


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str  # continuation lines joined, comments inside removed

    @property
    def is_json(self) -> bool:
        text = self.args.strip()
        if not text.startswith("["):
            return False
        try:
            return isinstance(json.loads(text), list)
        except ValueError:
            return False


@dataclass
class Stage:
    index: int
    line: int
    image: str
    alias: str | None
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    file: str
    pre_args: dict[str, str]
    stages: list[Stage]
    escape: str = "\\"

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def parse_dockerfile(text: str, file: str = "Dockerfile") -> Dockerfile:
    lines = text.splitlines()
    escape = "\\"
    for raw in lines[:5]:  # parser directives sit at the very top
        m = re.match(r"^\s*#\s*escape\s*=\s*(\S)", raw)
        if m:
            escape = m.group(1)
    instructions: list[Instruction] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i
        parts = [stripped]
        while parts[-1].endswith(escape) and i + 1 < len(lines):
            parts[-1] = parts[-1][:-1]
            i += 1
            nxt = lines[i].strip()
            if nxt.startswith("#"):
                parts.append("")
                continue
            parts.append(nxt)
        joined = " ".join(p for p in parts if p)
        keyword, _, args = joined.partition(" ")
        heredoc = re.search(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", args)
        if heredoc and keyword.upper() in ("RUN", "COPY"):
            marker = heredoc.group(1)
            body = []
            while i + 1 < len(lines):
                i += 1
                if lines[i].strip() == marker:
                    break
                body.append(lines[i])
            args = args + "\n" + "\n".join(body)
        instructions.append(Instruction(start + 1, keyword.upper(), args.strip()))
        i += 1
    pre_args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            words = [w for w in ins.args.split() if not w.startswith("--")]
            image = words[0] if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(len(stages), ins.line, image, alias))
        elif not stages:
            if ins.keyword == "ARG":
                name, _, default = ins.args.partition("=")
                pre_args[name.strip()] = default.strip().strip("\"'")
        if stages:
            stages[-1].instructions.append(ins)
    return Dockerfile(file, pre_args, stages, escape)


def _expand(image: str, args: dict[str, str]) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        return args.get(name, m.group(0))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, image)


# ------------------------------------------------------------------------------ checks ----
_ROOT_USERS = {"root", "0", "root:root", "0:0", "root:0", "0:root"}
_SECRET_NAME = re.compile(
    r"(?i)(passw(or)?d|passphrase|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential|auth[_-]?key)"
)
_SECRET_FILE = re.compile(
    r"(?i)(^|/)(id_rsa|id_dsa|id_ecdsa|id_ed25519|\.env|credentials(\.json)?|\.npmrc|\.pypirc|\.netrc|"
    r"[^/\s]*\.(pem|key|p12|pfx|jks|keystore)|\.aws/?|\.ssh/?|service[-_]?account[^/\s]*\.json)$"
)
_PIPE = re.compile(r"(?<![|])\|(?![|])")
_APT_INSTALL = re.compile(r"\bapt(?:-get)?\s+(?:[^;&|]*\s)?install\b([^;&|]*)")
_APT_UPDATE = re.compile(r"\bapt(?:-get)?\s+(?:-\S+\s+)*update\b")
_APK_ADD = re.compile(r"\bapk\s+(?:[^;&|]*\s)?add\b([^;&|]*)")


def _finding(check_id: str, status: str, message: str, file: str, line: int | None) -> Finding:
    return CHECKS[check_id].finding(status, message, file=file, line=line or 1, object=file)


def check_non_root_user(df: Dockerfile) -> Finding:
    final = df.final
    users = [i for i in final.instructions if i.keyword == "USER"]
    if users:
        last = users[-1]
        user = last.args.split()[0] if last.args.split() else ""
        if user.lower() in _ROOT_USERS or user.lower().startswith(("root:", "0:")):
            return _finding(
                "docker.non-root-user", "fail", f"last USER of the final stage is {user}", df.file, last.line
            )
        return _finding(
            "docker.non-root-user", "pass", f"final stage runs as USER {user}", df.file, last.line
        )
    image = _expand(final.image, df.pre_args)
    if "nonroot" in image or _chainguard_non_root(image):
        return _finding(
            "docker.non-root-user", "pass", f"base image {image} runs as non-root", df.file, final.line
        )
    return _finding(
        "docker.non-root-user", "fail", "no USER in the final stage: runs as root", df.file, final.line
    )


# Chainguard images that start as root: wolfi-base and the shell-bearing ``-dev`` variants
_CHAINGUARD_ROOT = ("wolfi-base", "chainguard-base", "busybox")


def _chainguard_non_root(image: str) -> bool:
    if not image.startswith("cgr.dev/chainguard/"):
        return False
    name, _, tag = image.removeprefix("cgr.dev/chainguard/").split("@")[0].partition(":")
    return name not in _CHAINGUARD_ROOT and not tag.endswith("-dev")


def has_pipe(script: str) -> bool:
    """A shell pipe (``a | b``), read as the shell reads it: ``sed 's|a|b|'`` quotes its bars."""
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars="|&;<>()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return any(tok in ("|", "|&") for tok in lexer)
    except ValueError:  # unbalanced quotes: the shell would refuse it too; fall back to the text
        return bool(_PIPE.search(script))


def check_multi_stage(df: Dockerfile) -> Finding:
    if len(df.stages) > 1:
        copies = [i for i in df.final.instructions if i.keyword == "COPY" and re.search(r"--from=", i.args)]
        line = copies[0].line if copies else df.final.line
        return _finding("docker.multi-stage", "pass", f"{len(df.stages)} stages", df.file, line)
    return _finding("docker.multi-stage", "fail", "single-stage build", df.file, df.final.line)


def check_healthcheck(df: Dockerfile) -> Finding:
    hcs = [i for i in df.final.instructions if i.keyword == "HEALTHCHECK"]
    if not hcs:
        return _finding(
            "docker.healthcheck", "fail", "no HEALTHCHECK in the final stage", df.file, df.final.line
        )
    last = hcs[-1]
    if last.args.strip().upper() == "NONE":
        return _finding(
            "docker.healthcheck", "fail", "HEALTHCHECK NONE disables the check", df.file, last.line
        )
    return _finding("docker.healthcheck", "pass", "HEALTHCHECK set", df.file, last.line)


def check_base_image_pinned(df: Dockerfile) -> Finding:
    names = set()
    bad, warn = [], []
    first_line = None
    for stage in df.stages:
        image = _expand(stage.image, df.pre_args)
        if image.lower() in names or image.lower() == "scratch":
            pass
        elif "$" in image:
            warn.append((stage.line, f"{stage.image}: depends on a build argument without a default"))
        else:
            first_line = first_line or stage.line
            last = image.rsplit("/", 1)[-1]
            if "@sha256:" in image:
                pass
            elif ":" not in last:
                bad.append((stage.line, f"{image} has no tag"))
            elif last.rsplit(":", 1)[1] == "latest":
                bad.append((stage.line, f"{image} uses latest"))
        if stage.alias:
            names.add(stage.alias.lower())
    if bad:
        return _finding("docker.base-image-pinned", "fail", "; ".join(m for _, m in bad), df.file, bad[0][0])
    if warn:
        return _finding(
            "docker.base-image-pinned", "warn", "; ".join(m for _, m in warn), df.file, warn[0][0]
        )
    return _finding(
        "docker.base-image-pinned",
        "pass",
        "every base image has a version tag or digest",
        df.file,
        first_line or df.stages[0].line,
    )


def check_add_vs_copy(df: Dockerfile) -> Finding:
    for stage in df.stages:
        for ins in stage.instructions:
            if ins.keyword != "ADD":
                continue
            words = [w for w in _args_list(ins) if not w.startswith("--")]
            sources = words[:-1]
            local = [
                s
                for s in sources
                if not re.match(r"^(https?|git)://|^git@", s)
                and not re.search(r"\.(tar(\.\w+)?|tgz|tbz2?|txz)$", s)
            ]
            if local:
                return _finding(
                    "docker.add-vs-copy",
                    "fail",
                    f"ADD of local files {' '.join(local)}: use COPY",
                    df.file,
                    ins.line,
                )
    return _finding("docker.add-vs-copy", "pass", "no ADD of local files", df.file, df.final.line)


def _args_list(ins: Instruction) -> list[str]:
    if ins.is_json:
        return [str(x) for x in json.loads(ins.args)]
    try:
        return shlex.split(ins.args, comments=False)
    except ValueError:
        return ins.args.split()


def check_exec_form(df: Dockerfile) -> Finding:
    relevant = [i for i in df.final.instructions if i.keyword in ("CMD", "ENTRYPOINT")]
    if not relevant:
        return _finding(
            "docker.exec-form", "n/a", "no CMD or ENTRYPOINT in the final stage", df.file, df.final.line
        )
    shell = [i for i in relevant if not i.is_json]
    if shell:
        ins = shell[-1]
        return _finding(
            "docker.exec-form", "fail", f"{ins.keyword} in shell form: {ins.args[:60]}", df.file, ins.line
        )
    return _finding("docker.exec-form", "pass", "CMD/ENTRYPOINT in exec form", df.file, relevant[-1].line)


def _shell_has_pipefail(shell: Instruction | None) -> bool:
    if shell is None:
        return False
    args = " ".join(_args_list(shell))
    return "pipefail" in args or any(s in args for s in ("pwsh", "powershell", "cmd"))


def check_pipefail(df: Dockerfile) -> Finding:
    evidence = None
    for stage in df.stages:
        shell = None
        for ins in stage.instructions:
            if ins.keyword == "SHELL":
                shell = ins
                if _shell_has_pipefail(ins) and stage is df.final:
                    evidence = evidence or ins.line
            if ins.keyword != "RUN" or ins.is_json or not has_pipe(ins.args):
                continue
            if _shell_has_pipefail(shell):
                continue
            if re.search(r"set\s+-[a-z]*o\s+pipefail|set\s+-o\s+pipefail", ins.args):
                evidence = evidence or ins.line
                continue
            return _finding("docker.pipefail", "fail", "RUN with a pipe and no pipefail", df.file, ins.line)
    return _finding(
        "docker.pipefail", "pass", "no piped RUN without pipefail", df.file, evidence or df.final.line
    )


def _packages(args: str) -> list[str]:
    out = []
    for word in args.split():
        if word.startswith("-") or word in ("\\",) or "$" in word:
            continue
        out.append(word)
    return out


def check_apt_pinned(df: Dockerfile) -> Finding:
    found, unpinned = None, []
    for stage in df.stages:
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            for rx in (_APT_INSTALL, _APK_ADD):
                for m in rx.finditer(ins.args):
                    found = found or ins.line
                    for pkg in _packages(m.group(1)):
                        if "=" not in pkg and not pkg.endswith((".deb", ".apk")):
                            unpinned.append((ins.line, pkg))
    if found is None:
        return _finding("docker.apt-pinned", "n/a", "no apt-get install / apk add", df.file, df.final.line)
    if unpinned:
        names = ", ".join(p for _, p in unpinned[:6])
        return _finding("docker.apt-pinned", "fail", f"unpinned packages: {names}", df.file, unpinned[0][0])
    return _finding("docker.apt-pinned", "pass", "installed packages pinned", df.file, found)


def check_apt_cleanup(df: Dockerfile) -> Finding:
    found = None
    for ins in df.final.instructions:
        if ins.keyword != "RUN":
            continue
        if _APT_INSTALL.search(ins.args) or _APT_UPDATE.search(ins.args):
            # a lone `apt-get update` layer keeps the lists as surely as an install does
            found = found or ins.line
            if "/var/lib/apt/lists" not in ins.args and "--mount=type=cache" not in ins.args:
                return _finding(
                    "docker.apt-cleanup", "fail", "apt lists not removed in the same RUN", df.file, ins.line
                )
        if _APK_ADD.search(ins.args):
            found = found or ins.line
            if "--no-cache" not in ins.args and "/var/cache/apk" not in ins.args:
                return _finding("docker.apt-cleanup", "fail", "apk add without --no-cache", df.file, ins.line)
    if found is None:
        return _finding(
            "docker.apt-cleanup", "n/a", "no package installs in the final stage", df.file, df.final.line
        )
    return _finding("docker.apt-cleanup", "pass", "package caches cleaned", df.file, found)


def check_secrets(df: Dockerfile) -> Finding:
    for stage in df.stages:
        for ins in stage.instructions:
            if ins.keyword in ("ENV", "ARG"):
                for name, value in _assignments(ins):
                    if _SECRET_NAME.search(name) and not re.search(r"(?i)_(file|path|name|id|url)$", name):
                        if ins.keyword == "ENV" and not value:
                            continue
                        if re.fullmatch(r"\d+|true|false|yes|no", value.strip("\"'"), re.IGNORECASE):
                            continue  # PASSWORD_MIN_LENGTH=8, TOKEN_REFRESH=true: settings, not secrets
                        if value.startswith("$"):
                            if ins.keyword == "ENV":
                                continue  # ENV X=$ARG: the ARG line is the finding
                        what = "with a value" if value else "(visible in the image history)"
                        return _finding(
                            "docker.secrets", "fail", f"{ins.keyword} {name} {what}", df.file, ins.line
                        )
                if strong_secrets(ins.args):
                    return _finding(
                        "docker.secrets", "fail", f"{ins.keyword} holds a secret value", df.file, ins.line
                    )
            if ins.keyword in ("COPY", "ADD"):
                for src in [w for w in _args_list(ins) if not w.startswith("--")][:-1]:
                    if _SECRET_FILE.search(src.rstrip("/")) or _SECRET_FILE.search(src):
                        return _finding(
                            "docker.secrets",
                            "fail",
                            f"{ins.keyword} of a key/secret file {src}",
                            df.file,
                            ins.line,
                        )
            if ins.keyword == "RUN" and strong_secrets(ins.args):
                return _finding("docker.secrets", "fail", "RUN line holds a secret value", df.file, ins.line)
    return _finding("docker.secrets", "pass", "no secrets in ENV/ARG/COPY", df.file, df.final.line)


def _assignments(ins: Instruction) -> list[tuple[str, str]]:
    words = _args_list(ins)
    if ins.keyword == "ENV" and len(words) >= 2 and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # legacy `ENV KEY value`
    out = []
    for w in words:
        name, _, value = w.partition("=")
        out.append((name, value))
    return out


_PIP_INSTALL = re.compile(r"\bpip[0-9.]*\s+(?:[^;&|]*\s)?install\b")
_APT_GET_INSTALL = re.compile(r"\bapt-get\s+(?:[^;&|]*\s)?install\b([^;&|]*)")


def check_no_install_recommends(df: Dockerfile) -> Finding:
    """apt-get install --no-install-recommends (hadolint DL3015): recommended packages bloat the image."""
    found = None
    # an apt.conf line written anywhere in the file (APT::Install-Recommends "false") covers every install
    configured = any(
        "APT::Install-Recommends" in ins.args for stage in df.stages for ins in stage.instructions
    )
    for stage in df.stages:
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            for m in _APT_GET_INSTALL.finditer(ins.args):
                found = found or ins.line
                if "--no-install-recommends" not in m.group(0) and not configured:
                    return _finding(
                        "docker.no-install-recommends",
                        "fail",
                        "apt-get install without --no-install-recommends",
                        df.file,
                        ins.line,
                    )
    if found is None:
        return _finding("docker.no-install-recommends", "n/a", "no apt-get install", df.file, df.final.line)
    return _finding(
        "docker.no-install-recommends", "pass", "apt-get install --no-install-recommends", df.file, found
    )


def check_pip_no_cache(df: Dockerfile) -> Finding:
    """pip install --no-cache-dir (hadolint DL3042) in the final stage: the wheel cache is dead weight."""
    found = None
    no_cache_env = any(
        name in ("PIP_NO_CACHE_DIR", "UV_NO_CACHE")
        for ins in df.final.instructions
        if ins.keyword in ("ENV", "ARG")
        for name, _ in _assignments(ins)
    )
    for ins in df.final.instructions:
        if ins.keyword != "RUN" or not _PIP_INSTALL.search(ins.args):
            continue
        found = found or ins.line
        # --no-cache covers uv pip (and is a prefix of pip's --no-cache-dir)
        if no_cache_env or "--no-cache" in ins.args or "--mount=type=cache" in ins.args:
            continue
        return _finding(
            "docker.pip-no-cache", "fail", "pip install without --no-cache-dir", df.file, ins.line
        )
    if found is None:
        return _finding(
            "docker.pip-no-cache", "n/a", "no pip install in the final stage", df.file, df.final.line
        )
    return _finding("docker.pip-no-cache", "pass", "pip keeps no cache in the image", df.file, found)


def check_consecutive_run(df: Dockerfile) -> Finding:
    """Consecutive RUN instructions in one stage (hadolint DL3059): each is a layer; join them."""
    for stage in df.stages:
        previous = None
        for ins in stage.instructions:
            if ins.keyword == "RUN" and previous is not None and previous.keyword == "RUN":
                if "--mount" not in previous.args and "--mount" not in ins.args:
                    return _finding(
                        "docker.consecutive-run",
                        "fail",
                        f"RUN at lines {previous.line} and {ins.line} follow each other: one layer each",
                        df.file,
                        ins.line,
                    )
            previous = ins
    return _finding(
        "docker.consecutive-run", "pass", "no consecutive RUN instructions", df.file, df.final.line
    )


DOCKER_CHECKS = [
    check_non_root_user,
    check_multi_stage,
    check_healthcheck,
    check_base_image_pinned,
    check_add_vs_copy,
    check_exec_form,
    check_pipefail,
    check_apt_pinned,
    check_apt_cleanup,
    check_no_install_recommends,
    check_pip_no_cache,
    check_consecutive_run,
    check_secrets,
]


def run_docker_checks(files: list[TextFile]) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Findings for every Dockerfile, plus (file, message) warnings for the ones that do not parse."""
    findings: list[Finding] = []
    warnings: list[tuple[str, str]] = []
    for tf in files:
        df = parse_dockerfile(tf.text, tf.rel)
        if not df.stages:
            warnings.append((tf.rel, "no FROM instruction: not a Dockerfile?"))
            continue
        for check in DOCKER_CHECKS:
            findings.append(check(df))
    return findings, warnings
