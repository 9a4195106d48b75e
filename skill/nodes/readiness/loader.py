"""Find and load what a readiness review reads: manifests, Helm templates, Kustomize, Dockerfiles, text.

Every problem with one file (unreadable, binary, invalid YAML, symlink loop, too big) becomes a
``ScanWarning`` and the walk goes on. YAML is composed (not loaded) so each mapping and sequence
keeps the line numbers of its keys: findings cite the line of their evidence.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's composer is ~10x faster; the pure-Python one is the fallback
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - wheels ship libyaml
    _Loader = yaml.SafeLoader

SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".terraform",
    "site-packages",
    ".eggs",
    ".idea",
    "vendor",
    # test data describes other services; scan such a folder directly to review it
    "fixtures",
    "testdata",
    "__fixtures__",
    "__snapshots__",
}
YAML_SUFFIXES = {".yaml", ".yml"}
SOURCE_SUFFIXES = {
    ".py",
    ".go",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".java",
    ".kt",
    ".rb",
    ".rs",
    ".cs",
    ".php",
    ".scala",
    ".ex",
    ".exs",
}
DOC_SUFFIXES = {".md", ".rst", ".txt", ".adoc"}
IAC_SUFFIXES = {".tf", ".tfvars", ".hcl"}
OTHER_TEXT_SUFFIXES = {
    ".json",
    ".toml",
    ".cfg",
    ".ini",
    ".sh",
    ".properties",
    ".env",
    ".jsonnet",
    ".libsonnet",
}
KEY_SUFFIXES = {".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"}
SPECIAL_NAMES = {
    "codeowners",
    "owners",
    "jenkinsfile",
    "makefile",
    "procfile",
    "go.mod",
    "package.json",
    "pyproject.toml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "gemfile",
    "credentials",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".gitlab-ci.yml",
}

HELM_PLACEHOLDER = "__helm__"
REPORT_MARKER = "## Readiness of "
HELM_RELEASE_NAMESPACE = "__helm_release_namespace__"


# ----------------------------------------------------------------------------------- YAML ----
class LMap(dict):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int = 0):
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LSeq(list):
    """A sequence that remembers its own line and the line of each item (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int = 0):
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


def line_of(obj: Any, key: Any = None, default: int | None = None) -> int | None:
    """Line of ``obj[key]`` (or of ``obj``) when ``obj`` came from the loader."""
    if isinstance(obj, LMap | LSeq):
        return obj.line_of(key) if key is not None else obj.line
    return default


_BOOL_TRUE = {"yes", "true", "on", "y"}
_MAX_DEPTH = 200


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if tag == "tag:yaml.org,2002:str":
        return value
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            try:
                return int(value.replace("_", ""))
            except ValueError:
                return value
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() in _BOOL_TRUE
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    return value


def _convert(node: yaml.Node, memo: dict[int, Any], depth: int = 0, active: set[int] | None = None) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError("YAML nested too deeply")
    key = id(node)
    active = set() if active is None else active
    if key in active:
        raise ValueError("recursive YAML alias")
    if key in memo:  # an alias: share the converted value (no exponential expansion)
        return memo[key]
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        active.add(key)
        try:
            memo[key] = _convert_collection(node, memo, depth, active)
        finally:
            active.discard(key)
        return memo[key]
    return _scalar(node)


def _convert_collection(node: yaml.Node, memo: dict[int, Any], depth: int, active: set[int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LMap(node.start_mark.line + 1)
        for k_node, v_node in node.value:
            if k_node.tag == "tag:yaml.org,2002:merge":
                merged = _convert(v_node, memo, depth + 1, active)
                for src in merged if isinstance(merged, list) else [merged]:
                    if isinstance(src, LMap):
                        for mk, mv in src.items():
                            out.setdefault(mk, mv)
                            out.lines.setdefault(mk, src.line_of(mk))
                continue
            k = (
                _convert(k_node, memo, depth + 1)
                if isinstance(k_node, yaml.ScalarNode)
                else str(k_node.value)
            )
            if not isinstance(k, str | int | float | bool | type(None)):
                k = str(k)
            out[k] = _convert(v_node, memo, depth + 1, active)
            out.lines[k] = k_node.start_mark.line + 1
        return out
    seq = LSeq(node.start_mark.line + 1)
    for item in node.value:
        seq.append(_convert(item, memo, depth + 1, active))
        seq.lines.append(item.start_mark.line + 1)
    return seq


def parse_yaml(text: str) -> list[Any]:
    """All documents of ``text`` with line numbers; raises yaml.YAMLError / ValueError."""
    docs = []
    for node in yaml.compose_all(text, Loader=_Loader):
        if node is not None:
            docs.append(_convert(node, {}))
    return docs


# ----------------------------------------------------------------------------------- Helm ----
_EXPR = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_WHOLE = re.compile(r"^\s*\{\{-?(.*?)-?\}\}\s*$")
_TOYAML = re.compile(r"^(?:toYaml|toJson)\s+(\S+)\s*\|\s*n?indent\s+(\d+)\s*$")


def _lookup(ctx: dict[str, Any], path: str) -> Any:
    """Resolve ``.Values.a.b`` / ``.Chart.AppVersion`` / ``.Release.Namespace`` against ``ctx``."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:]
    if not path.startswith("."):
        return None
    cur: Any = ctx
    for part in path[1:].split("."):
        if not part:
            continue
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return None
    return cur


def _term(term: str, ctx: dict[str, Any], dot: Any) -> Any:
    term = term.strip().strip("()")
    if not term:
        return None
    if term[0] in "\"'`" and term[-1] == term[0] and len(term) >= 2:
        return term[1:-1]
    if re.fullmatch(r"-?\d+(\.\d+)?", term):
        return term
    if term in ("true", "false"):
        return term
    if term == ".":
        return dot
    words = term.split()
    if words[0] == "default" and len(words) >= 3:
        val = _term(" ".join(words[2:]), ctx, dot)
        return val if val not in (None, "") else _term(words[1], ctx, dot)
    if words[0] in ("toYaml", "toJson") and len(words) == 2:
        return _term(words[1], ctx, dot)
    if len(words) == 1 and term.startswith((".", "$.")):
        return _lookup(ctx, term)
    return HELM_PLACEHOLDER


def _eval(expr: str, ctx: dict[str, Any], dot: Any) -> Any:
    expr = expr.strip()
    if expr.startswith("/*"):
        return ""
    stages = [s.strip() for s in expr.split("|")]
    value = _term(stages[0], ctx, dot)
    for stage in stages[1:]:
        words = stage.split(None, 1)
        if not words:
            continue
        if words[0] == "default" and len(words) == 2 and value in (None, ""):
            value = _term(words[1], ctx, dot)
    return value


def _inline(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _truth(cond: str, ctx: dict[str, Any], dot: Any) -> bool | None:
    """Go-template truthiness of a simple condition, or None when we cannot tell."""
    cond = cond.strip()
    if cond.startswith("not "):
        inner = _truth(cond[4:], ctx, dot)
        return None if inner is None else not inner
    if re.fullmatch(r"\$?\.(?:Values|Release|Chart|Capabilities)(?:\.[\w-]+)*", cond):
        return bool(_lookup(ctx, cond))
    return None


def neutralise_template(text: str, values: dict | None = None, chart: dict | None = None) -> str:
    """Make a Helm template parse as YAML, line for line.

    Whole-line actions become blank lines. ``if``/``else``/``with`` on a plain ``.Values`` path
    are decided from values.yaml (a false branch becomes blank lines); undecidable conditions keep
    every branch (the last key wins). ``toYaml .Values.x | nindent N`` becomes the value as one
    JSON (= YAML flow) line and inline ``{{ .Values.x }}`` the value itself; anything else becomes
    a placeholder. Line numbers never move.
    """
    values = values or {}
    ctx: dict[str, Any] = {
        "Values": values,
        "Chart": {
            "Name": (chart or {}).get("name", HELM_PLACEHOLDER),
            "AppVersion": (chart or {}).get("appVersion", HELM_PLACEHOLDER),
            "Version": (chart or {}).get("version", HELM_PLACEHOLDER),
        },
        "Release": {"Namespace": HELM_RELEASE_NAMESPACE, "Name": "release", "Service": "Helm"},
    }
    # Multi-line actions: blank their inner newlines out first, keeping the count.
    text = _EXPR.sub(lambda m: m.group(0).replace("\n", " ") + "\n" * m.group(0).count("\n"), text)
    # frames: [kind, dot, state (True/False/None = undecided), a branch already taken]
    frames: list[list[Any]] = []

    def dot() -> Any:
        return frames[-1][1] if frames else values

    def live() -> bool:
        return all(f[2] is not False for f in frames)

    out = []
    for line in text.split("\n"):
        whole = _WHOLE.match(line)
        if whole and "{{" not in whole.group(1):
            expr = whole.group(1).strip()
            head, _, rest = expr.partition(" ")
            if head == "if":
                state = _truth(rest, ctx, dot())
                frames.append(["if", dot(), state, state is True])
            elif head == "with":
                target = rest.strip()
                if re.fullmatch(r"\$?\.[\w.-]+", target):
                    value = _lookup(ctx, target)
                    frames.append(["with", value, bool(value), bool(value)])
                else:
                    frames.append(["with", None, None, False])
            elif head in ("range", "define", "block"):
                frames.append([head, None, None, False])
            elif head == "else" and frames:
                frame = frames[-1]
                if frame[2] is None and not frame[3]:
                    pass  # undecided: keep every branch
                elif frame[3]:
                    frame[2] = False
                else:
                    cond = rest.strip()
                    state = _truth(cond[3:], ctx, frame[1]) if cond.startswith("if ") else True
                    frame[2], frame[3] = state, state is True
                    if frame[0] == "with" and state is not False:
                        frame[1] = dot() if len(frames) < 2 else frames[-2][1]
            elif head == "end":
                if frames:
                    frames.pop()
            elif live():
                m = _TOYAML.match(expr)
                if m:
                    val = _term(m.group(1), ctx, dot())
                    if isinstance(val, dict | list):
                        out.append(" " * int(m.group(2)) + json.dumps(val))
                        continue
            out.append("")
            continue
        if not live():
            out.append("")
            continue
        if "{{" in line:
            current = dot()
            line = _EXPR.sub(lambda m, cur=current: _inline(_eval(m.group(1), ctx, cur)), line)
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------------------- the scan ----
@dataclass
class ScanWarning:
    file: str
    message: str
    line: int | None = None


@dataclass
class K8sObject:
    obj: LMap
    file: str
    source: str = "yaml"  # yaml | helm | kustomize

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def metadata(self) -> LMap:
        md = self.obj.get("metadata")
        return md if isinstance(md, LMap) else LMap(self.obj.line)

    @property
    def name(self) -> str:
        md = self.metadata
        return str(md.get("name") or f"{md.get('generateName') or ''}*")

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return str(ns) if ns not in (None, "") else None

    @property
    def line(self) -> int:
        return self.obj.line

    @property
    def ref(self) -> str:
        ns = self.namespace or "-"
        if ns == HELM_RELEASE_NAMESPACE:
            ns = "(release)"
        return f"{self.kind}/{ns}/{self.name.replace(HELM_PLACEHOLDER, '(helm)')}"


@dataclass
class TextFile:
    path: Path
    rel: str
    text: str
    category: str  # source | doc | iac | yaml | dockerfile | ci | other | key


@dataclass
class Scan:
    root: Path
    objects: list[K8sObject] = field(default_factory=list)
    dockerfiles: list[TextFile] = field(default_factory=list)
    texts: list[TextFile] = field(default_factory=list)
    yaml_docs: list[tuple[str, Any]] = field(default_factory=list)  # (rel, document) incl. non-k8s
    paths: list[str] = field(default_factory=list)  # every file seen (relative), for name-based checks
    warnings: list[ScanWarning] = field(default_factory=list)
    files_scanned: int = 0
    env: str | None = None  # picks values-<env>.yaml for Helm charts

    def warn(self, file: str, message: str, line: int | None = None) -> None:
        self.warnings.append(ScanWarning(file, message, line))


def _is_dockerfile(name: str) -> bool:
    low = name.lower()
    return (
        low in ("dockerfile", "containerfile")
        or low.startswith(("dockerfile.", "containerfile."))
        or low.endswith(".dockerfile")
    )


def _category(rel: str, name: str) -> str | None:
    low = name.lower()
    suffix = os.path.splitext(low)[1]
    if _is_dockerfile(name):
        return "dockerfile"
    if low in SPECIAL_NAMES:
        return "key" if low in ("credentials", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519") else "other"
    if low.startswith(".env"):
        return "other"
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in SOURCE_SUFFIXES:
        return "source"
    if suffix in DOC_SUFFIXES:
        return "doc"
    if suffix in IAC_SUFFIXES:
        return "iac"
    if suffix in KEY_SUFFIXES:
        return "key"
    if suffix in OTHER_TEXT_SUFFIXES:
        return "other"
    if "runbook" in low or "codeowners" in low:
        return "doc"
    return None


class _Walker:
    def __init__(self, scan: Scan, max_files: int, max_bytes: int):
        self.scan = scan
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.seen_dirs: set[tuple[int, int]] = set()
        self.files: list[tuple[Path, str, str]] = []
        self.count = 0
        self.truncated = False

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.scan.root).as_posix()
        except ValueError:
            return os.path.relpath(path, self.scan.root).replace(os.sep, "/")

    def walk(self, top: Path) -> None:
        stack = [top]
        while stack:
            d = stack.pop()
            try:
                st = d.stat()
            except OSError as exc:
                self.scan.warn(self.rel(d), f"cannot open folder: {exc.strerror or exc}")
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in self.seen_dirs:
                self.scan.warn(self.rel(d), "symlink loop or repeated folder: skipped")
                continue
            self.seen_dirs.add(ident)
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as exc:
                self.scan.warn(self.rel(d), f"cannot list folder: {exc.strerror or exc}")
                continue
            subdirs = []
            for entry in entries:
                path = Path(entry.path)
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:
                    is_dir = False
                if entry.is_symlink():
                    try:
                        path.stat()
                    except OSError as exc:
                        self.scan.warn(
                            self.rel(path), f"broken symlink or symlink loop: {exc.strerror or exc}"
                        )
                        continue
                if is_dir:
                    if entry.name in SKIP_DIRS:
                        continue
                    subdirs.append(path)
                    continue
                self.add_file(path, entry.name)
                if self.truncated:
                    return
            stack.extend(reversed(subdirs))

    def add_file(self, path: Path, name: str) -> None:
        rel = self.rel(path)
        self.count += 1
        if self.count > self.max_files:
            self.scan.warn(
                rel, f"scan stopped: more than {self.max_files} files (raise [readiness] max_files)"
            )
            self.truncated = True
            return
        self.scan.paths.append(rel)
        category = _category(rel, name)
        if category is None:
            return
        if rel.startswith(".github/workflows/") or rel.endswith(".gitlab-ci.yml") or name == "Jenkinsfile":
            category = "ci" if category in ("yaml", "other") else category
        self.files.append((path, rel, category))


def read_text(path: Path, rel: str, scan: Scan, max_bytes: int, *, quiet_size: bool = False) -> str | None:
    """The file as text, or None with a warning (unreadable, binary, too large).

    ``quiet_size``: a large file only searched for evidence (a lock file, a bundle) is skipped
    without a warning; manifests and Dockerfiles always warn.
    """
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            scan.warn(rel, "not a regular file: skipped")
            return None
        if st.st_size > max_bytes:
            if not quiet_size:
                scan.warn(rel, f"file larger than {max_bytes} bytes: skipped")
            return None
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        scan.warn(rel, f"cannot read file: {exc.strerror or exc}")
        return None
    if b"\x00" in data[:8192]:
        scan.warn(rel, "binary file: skipped")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_ENV_ALIASES = {
    "production": ("production", "prod"),
    "prod": ("prod", "production"),
    "staging": ("staging", "stage"),
}


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _load_mapping(path: Path) -> dict:
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _chart_context(chart_dir: Path, cache: dict, env: str | None = None) -> tuple[dict, dict]:
    """values.yaml (overlaid by values-<env>.yaml / values.<env>.yaml when present) and Chart.yaml."""
    if chart_dir not in cache:
        values = _load_mapping(chart_dir / "values.yaml")
        for name in _ENV_ALIASES.get((env or "").lower(), (env,) if env else ()):
            for candidate in (f"values-{name}.yaml", f"values.{name}.yaml", f"values-{name}.yml"):
                if (chart_dir / candidate).is_file():
                    values = _deep_merge(values, _load_mapping(chart_dir / candidate))
                    break
            else:
                continue
            break
        cache[chart_dir] = (values, _load_mapping(chart_dir / "Chart.yaml"))
    return cache[chart_dir]


def _chart_of(path: Path, root: Path) -> Path | None:
    """The chart directory when ``path`` is under ``<chart>/templates/``."""
    for parent in path.parents:
        if parent.name == "templates" and (parent.parent / "Chart.yaml").is_file():
            return parent.parent
        if parent == root or parent == parent.parent:
            break
    return None


def _load_yaml_file(scan: Scan, path: Path, rel: str, text: str, chart_cache: dict) -> None:
    chart_dir = _chart_of(path, scan.root) if "{{" in text else None
    source = "yaml"
    low = path.name.lower()
    if low == "chart.yaml" or low.startswith(("values-", "values.")) or path.suffix == ".tpl":
        source = "helm-meta"
    if chart_dir is not None:
        values, chart = _chart_context(chart_dir, chart_cache, scan.env)
        text = neutralise_template(text, values, chart)
        source = "helm"
    try:
        docs = parse_yaml(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        if "{{" in text and source == "yaml":
            try:
                docs = parse_yaml(neutralise_template(text))
                source = "helm"
            except (yaml.YAMLError, ValueError, RecursionError):
                docs = None
        else:
            docs = None
        if docs is None:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            scan.warn(rel, f"invalid YAML: {problem}", line)
            return
    for doc in docs:
        scan.yaml_docs.append((rel, doc))
        if source == "helm-meta" or not isinstance(doc, LMap):
            continue
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            items = [i for i in doc["items"] if isinstance(i, LMap)]
        else:
            items = [doc]
        for item in items:
            if not item.get("kind") or not item.get("apiVersion"):
                continue
            if str(item["apiVersion"]).startswith("kustomize.config.k8s.io/"):
                continue  # Kustomization/Component: build instructions, not cluster objects
            if item.get("$patch") == "delete":
                continue  # a kustomize stub that removes the object: nothing is deployed
            md = item.get("metadata")
            if not isinstance(md, LMap) or not (md.get("name") or md.get("generateName")):
                # the API server refuses a nameless object: a fragment or template, not a workload
                scan.warn(rel, f"{item.get('kind')} without metadata.name skipped", item.line)
                continue
            scan.objects.append(K8sObject(item, rel, source))


# --------------------------------------------------------------------------- Kustomize ----
_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _kustomization_in(d: Path) -> Path | None:
    for name in _KUSTOMIZATION_NAMES:
        if (d / name).is_file():
            return d / name
    return None


def _apply_kustomizations(scan: Scan, max_bytes: int, chart_cache: dict) -> None:
    """Kustomize's namespace and images transformers, and resources outside the scanned folder.

    Each file listed (directly or through bases) by a kustomization gets the namespace and image
    overrides of the nearest kustomization that names it; bases outside the scan root are loaded.
    """
    kfiles = [Path(scan.root, rel) for rel in scan.paths if rel.rsplit("/", 1)[-1] in _KUSTOMIZATION_NAMES]
    if scan.root.is_file():
        return
    loaded_rel = {o.file for o in scan.objects}
    root_resolved = scan.root.resolve()
    per_file: dict[str, dict[str, Any]] = {}

    def visit(kfile: Path, inherited: dict[str, Any], depth: int) -> None:
        if depth > 20:
            return
        try:
            data = yaml.load(kfile.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            return
        if not isinstance(data, dict):
            return
        ns = inherited.get("namespace") or data.get("namespace")
        images = dict(inherited.get("images") or {})
        for img in data.get("images") or []:
            if isinstance(img, dict) and img.get("name"):
                images.setdefault(str(img["name"]), img)
        replicas = dict(inherited.get("replicas") or {})
        for rep in data.get("replicas") or []:
            if isinstance(rep, dict) and rep.get("name") is not None and isinstance(rep.get("count"), int):
                replicas.setdefault(str(rep["name"]), rep["count"])
        here = {"namespace": ns, "images": images, "replicas": replicas}
        for res in list(data.get("resources") or []) + list(data.get("bases") or []):
            if not isinstance(res, str) or "://" in res or res.startswith(("github.com", "git@")):
                continue
            target = (kfile.parent / res).resolve()
            if target.is_dir():
                sub = _kustomization_in(target)
                if sub:
                    visit(sub, here, depth + 1)
            elif target.is_file():
                rel = os.path.relpath(target, root_resolved).replace(os.sep, "/")
                per_file.setdefault(rel, here)
                if rel not in loaded_rel:
                    text = read_text(target, rel, scan, max_bytes)
                    if text is not None:
                        loaded_rel.add(rel)
                        _load_yaml_file(scan, target, rel, text, chart_cache)

    # Overlays first (a kustomization nobody else references), so their settings win.
    referenced: set[Path] = set()
    for k in kfiles:
        try:
            data = yaml.load(k.read_text(encoding="utf-8"), Loader=_Loader) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        for res in (
            (data.get("resources") or []) + (data.get("bases") or []) if isinstance(data, dict) else []
        ):
            if isinstance(res, str):
                sub = _kustomization_in((k.parent / res).resolve()) if (k.parent / res).is_dir() else None
                if sub:
                    referenced.add(sub.resolve())
    for k in sorted(kfiles, key=lambda p: p.resolve() in referenced):
        visit(k, {}, 0)
    for o in scan.objects:
        settings = per_file.get(o.file)
        if not settings:
            continue
        md = o.obj.get("metadata")
        if settings.get("namespace") and isinstance(md, LMap) and not md.get("namespace"):
            md["namespace"] = settings["namespace"]
            o.source = "kustomize"
        if settings.get("images"):
            _override_images(o.obj, settings["images"])
        count = (settings.get("replicas") or {}).get(o.name)
        spec = o.obj.get("spec")
        if (
            count is not None
            and isinstance(spec, LMap)
            and o.kind in ("Deployment", "StatefulSet", "ReplicaSet", "Rollout")
        ):
            spec["replicas"] = count  # the line stays the base's (or the spec's) line


def _override_images(obj: Any, images: dict[str, dict]) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "image" and isinstance(value, str):
                name = value.split("@")[0]
                if ":" in name.rsplit("/", 1)[-1]:
                    name = name.rsplit(":", 1)[0]
                spec = images.get(name)
                if spec:
                    new = str(spec.get("newName") or name)
                    if spec.get("digest"):
                        obj[key] = f"{new}@{spec['digest']}"
                    elif spec.get("newTag") is not None:
                        obj[key] = f"{new}:{spec['newTag']}"
                    else:
                        obj[key] = new + value[len(name) :]
            else:
                _override_images(value, images)
    elif isinstance(obj, list):
        for item in obj:
            _override_images(item, images)


def scan_path(
    path: str | os.PathLike, *, max_files: int = 50_000, max_bytes: int = 2_000_000, env: str | None = None
) -> Scan:
    """Walk ``path`` (a folder or a single file) and load everything the checks read."""
    target = Path(path)
    root = target if target.is_dir() else target.parent
    scan = Scan(root=root, env=env)
    walker = _Walker(scan, max_files, max_bytes)
    if target.is_dir():
        walker.walk(target)
    else:
        walker.add_file(target, target.name)
        if not walker.files:  # a single file of a kind we do not know: try it as YAML
            walker.files.append((target, walker.rel(target), "yaml"))
    chart_cache: dict = {}
    for file_path, rel, category in walker.files:
        quiet = category not in ("yaml", "ci", "dockerfile")
        text = read_text(file_path, rel, scan, max_bytes, quiet_size=quiet)
        if text is None:
            continue
        scan.files_scanned += 1
        if category == "doc" and text.startswith(REPORT_MARKER):
            continue  # our own Markdown report: its messages would count as evidence
        tf = TextFile(file_path, rel, text, category)
        if category == "dockerfile":
            scan.dockerfiles.append(tf)
        elif category in ("yaml", "ci"):
            if file_path.suffix.lower() in YAML_SUFFIXES or category == "yaml":
                _load_yaml_file(scan, file_path, rel, text, chart_cache)
        elif file_path.suffix.lower() == ".json" and '"apiVersion"' in text and '"kind"' in text:
            _load_yaml_file(scan, file_path, rel, text, chart_cache)  # JSON manifests: JSON is YAML
        scan.texts.append(tf)
    if target.is_dir():
        _apply_kustomizations(scan, max_bytes, chart_cache)
    return scan
