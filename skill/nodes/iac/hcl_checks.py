"""Static checks over Terraform/OpenTofu code (.tf, .tfvars) with python-hcl2.

Rules: iac.remote-state, iac.state-encryption, iac.state-committed, iac.hardcoded-secret,
iac.provider-pinned, iac.module-pinned, iac.env-separation, iac.copy-paste, and the built-in
controls iac.encryption-at-rest, iac.public-ingress, iac.public-bucket, iac.database-protection,
iac.logging (and
iac.parse-error for a file that does not parse). Every finding names a file and, where the
code has one, a line: python-hcl2 keeps the parser's positions on its rule objects.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skill.environments import infer_environment
from skill.findings import Finding, Rule
from skill.plan_review.secret_names import is_secret_name
from skill.redact import find_secrets, redact

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            id="iac.remote-state",
            title="State is kept in a remote backend",
            severity="high",
            description="A root module without a remote backend keeps terraform.tfstate (and the secrets in it) on one laptop.",
            fix='Configure a remote backend (s3, gcs, azurerm, remote/cloud) in a terraform { backend "..." {} } block.',
        ),
        Rule(
            id="iac.state-encryption",
            title="Remote state is encrypted and locked",
            severity="high",
            description="State holds secrets in clear text; concurrent applies without a lock corrupt it.",
            fix="s3: encrypt = true (or kms_key_id) and use_lockfile = true or dynamodb_table; oss: encrypt and tablestore_table; http: lock_address.",
        ),
        Rule(
            id="iac.state-committed",
            title="No state files or secret-bearing .tfvars in the tree",
            severity="critical",
            description="terraform.tfstate and .tfvars files with credentials must never reach git.",
            fix="Delete them from the tree (and from git history), ignore *.tfstate* and secret .tfvars, use a remote backend and a secret store.",
        ),
        Rule(
            id="iac.hardcoded-secret",
            title="No credentials in literals or variable defaults",
            severity="critical",
            description="A password, token or key written in .tf code ends up in git, the plan and the state.",
            fix="Read it from a secret store (data source) or a sensitive variable without a default.",
        ),
        Rule(
            id="iac.provider-pinned",
            title="Providers have version constraints",
            severity="medium",
            description="Without required_providers versions a new major release changes behaviour at the next init.",
            fix='Declare required_providers { x = { source = "...", version = "~> N.M" } } and commit .terraform.lock.hcl.',
        ),
        Rule(
            id="iac.module-pinned",
            title="Module sources are pinned",
            severity="medium",
            description="A registry module without version, or a git module without ?ref=<tag or commit>, changes under you.",
            fix='Add version = "x.y.z" for registry modules, ?ref=vX.Y.Z or a commit SHA for git sources.',
        ),
        Rule(
            id="iac.env-separation",
            title="Environments are separated",
            severity="high",
            description="Environments must not share one state: use workspaces, per-environment directories with their own backend key, or accounts.",
            fix="Give every environment its own state (directory + backend key, or terraform workspaces).",
        ),
        Rule(
            id="iac.copy-paste",
            title="Environment folders reuse modules instead of copies",
            severity="medium",
            description="The same resource block repeated in every environment folder drifts apart; a module keeps them alike.",
            fix="Move the shared blocks into a module and call it from each environment with its own inputs.",
        ),
        Rule(
            id="iac.encryption-at-rest",
            title="State-bearing resources are encrypted at rest",
            severity="high",
            description="AWS databases, volumes, file systems, caches and warehouses are unencrypted unless asked; a snapshot or disk leaves in clear text.",
            fix="Set storage_encrypted / encrypted / at_rest_encryption_enabled = true (with a kms_key_id for your own key); existing resources need a replace.",
        ),
        Rule(
            id="iac.public-ingress",
            title="No admin or database port open to the internet",
            severity="high",
            description="An ingress rule from 0.0.0.0/0 or ::/0 to SSH, RDP, a database port or all ports is scanned within minutes.",
            fix="Restrict cidr_blocks to your VPN/bastion ranges, or use SSM Session Manager / IAP instead of open SSH.",
        ),
        Rule(
            id="iac.public-bucket",
            title="Buckets are not public",
            severity="high",
            description="A public-read(-write) ACL, allUsers/allAuthenticatedUsers members, or a public access block with a switch off exposes the data.",
            fix="Remove the public ACL/member; keep every aws_s3_bucket_public_access_block switch true; serve public files through a CDN with origin access.",
        ),
        Rule(
            id="iac.database-protection",
            title="Databases have deletion protection and backups",
            severity="medium",
            description="Without deletion_protection one apply or console click deletes the database; backup_retention_period = 0 turns automated backups off (high).",
            fix="Set deletion_protection = true and backup_retention_period >= 7.",
        ),
        Rule(
            id="iac.logging",
            title="Load balancers keep access logs",
            severity="low",
            description="Without access logs there is no record of who called what during an incident.",
            fix="Add an access_logs { bucket = ..., enabled = true } block.",
        ),
        Rule(
            id="iac.parse-error",
            title="Terraform file parses",
            severity="medium",
            description="A file the HCL parser cannot read is not checked.",
            fix="Run terraform fmt / terraform validate.",
        ),
    )
}

_SKIP_DIRS = {".terraform", ".git", "node_modules", ".venv", ".terragrunt-cache", "__pycache__"}
_EXAMPLE_DIRS = {"examples", "example", "testdata", "test", "tests", "fixtures", "test-fixtures"}
_LOCAL_SOURCE = re.compile(r"^\.{1,2}/")
_REGISTRY_SOURCE = re.compile(r"^(?:[\w.\-]+/)?[\w\-]+/[\w\-]+/[\w\-]+(?://.*)?$")
_GIT_SOURCE = re.compile(r"^(?:git::|git@|github\.com/|bitbucket\.org/|gitlab\.com/)")
_BRANCH_REFS = {"main", "master", "develop", "dev", "trunk", "head", "latest"}


@dataclass
class Attr:
    name: str
    value: Any
    line: int | None


@dataclass
class Block:
    type: str
    labels: list[str]
    line: int | None
    file: str
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


@dataclass
class _Module:
    directory: Path
    files: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    text: str = ""

    def top(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


def literal(value: Any) -> str | None:
    """The string of a plain quoted literal (no interpolation), else None."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        if "${" not in inner and "%{" not in inner:
            return inner
    return None


def _is_true(value: Any) -> bool:
    return value is True or value in ("true", '"true"')


def _serialize_opts():
    from hcl2.utils import SerializationOptions

    return SerializationOptions(with_comments=False, explicit_blocks=False)


def parse_file(path: Path, display: str) -> list[Block]:
    """The top-level blocks of one .tf/.tfvars file; top-level attributes become a '' block."""
    import hcl2
    from hcl2.rules.base import AttributeRule, BlockRule

    opts = _serialize_opts()
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = hcl2.parses(text)
    except Exception:  # noqa: BLE001 - python-hcl2 rejects comments between labels; retry without them
        stripped = strip_comments(text)
        if stripped == text:
            raise
        tree = hcl2.parses(stripped)

    def line_of(rule) -> int | None:
        meta = getattr(rule, "_meta", None)
        return getattr(meta, "line", None) if meta is not None and not getattr(meta, "empty", True) else None

    def convert(body, into: Block) -> None:
        for child in body.children:
            if isinstance(child, BlockRule):
                labels = [str(lab.serialize(opts)).strip('"') for lab in child.labels]
                block = Block(type=labels[0], labels=labels[1:], line=line_of(child), file=display)
                convert(child.body, block)
                into.blocks.append(block)
            elif isinstance(child, AttributeRule):
                name = str(child.identifier.serialize(opts))
                into.attrs[name] = Attr(name, child.expression.serialize(opts), line_of(child))

    top = Block(type="", labels=[], line=None, file=display)
    convert(tree.body, top)
    if top.attrs:  # .tfvars: bare attributes
        top.blocks.insert(0, Block(type="", labels=[], line=1, file=display, attrs=top.attrs))
    return top.blocks


_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][\w-]*)[ \t]*\n")


def strip_comments(text: str) -> str:
    """``text`` with every comment blanked (newlines kept, so parser lines stay true).

    python-hcl2's grammar refuses valid HCL such as ``resource "t" /* c */ "n" {}``; strings and
    heredocs are copied as they are, so a ``#`` or ``//`` inside a value survives.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == "<" and (m := _HEREDOC.match(text, i)):
            end = re.compile(rf"^[ \t]*{re.escape(m.group(1))}[ \t]*$", re.M).search(text, m.end())
            stop = end.end() if end else n
            out.append(text[i:stop])
            i = stop
        elif ch == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j == -1 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _JsonPositions:
    """Lines of keys in a .tf.json file: json.loads keeps none, so find each key after its parent."""

    def __init__(self, text: str):
        self.text = text

    def find(self, keys: list[str], start: int = 0) -> tuple[int | None, int]:
        at = start
        for key in keys:
            found = self.text.find(json.dumps(key), at)
            if found < 0:
                return None, start
            at = found + 1
        return self.text.count("\n", 0, at) + 1, at


class JsonParseError(ValueError):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _objects(value: Any) -> list[dict]:
    """JSON syntax allows one object or a list of objects wherever a block may repeat."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, dict)]


def parse_json_file(path: Path, display: str) -> list[Block]:
    """The top-level blocks of a .tf.json file (Terraform's JSON syntax), shaped like parse_file's.

    Strings keep the quotes python-hcl2 gives HCL literals, so every check reads both the same;
    a string holding ``${...}`` stays an expression to them, as it does to Terraform.
    """
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except RecursionError:
        raise JsonParseError("nested too deeply", None) from None
    except json.JSONDecodeError as exc:
        raise JsonParseError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(data, dict):
        raise JsonParseError("the top level is not an object", 1)
    where = _JsonPositions(text)

    def block(
        type_: str, labels: list[str], body: dict, keys: list[str], nested: tuple[str, ...] = ()
    ) -> Block:
        line, offset = where.find(keys)
        out = Block(type=type_, labels=labels, line=line, file=display)
        for name, value in body.items():
            if name not in nested:
                out.attrs[name] = Attr(name, _quoted(value), where.find([name], offset)[0])
            elif name == "backend":  # backend is the one nested block with a label: {"s3": {...}}
                for kind, config in value.items() if isinstance(value, dict) else []:
                    for obj in _objects(config):
                        out.blocks.append(block(name, [kind], obj, [name, kind]))
            else:
                out.blocks += [block(name, [], obj, [name]) for obj in _objects(value)]
        return out

    blocks: list[Block] = []
    for type_, content in data.items():
        if type_ in ("resource", "data"):
            for rtype, named in content.items() if isinstance(content, dict) else []:
                for name, body in named.items() if isinstance(named, dict) else []:
                    for obj in _objects(body):
                        blocks.append(block(type_, [rtype, name], obj, [type_, rtype, name]))
        elif type_ in ("variable", "module", "provider", "output"):
            for name, body in content.items() if isinstance(content, dict) else []:
                for obj in _objects(body):
                    blocks.append(block(type_, [name], obj, [type_, name]))
        elif type_ == "terraform":
            for obj in _objects(content):
                nested = ("required_providers", "backend", "cloud", "encryption")
                blocks.append(block(type_, [], obj, [type_], nested))
        elif type_ == "locals":
            for obj in _objects(content):
                blocks.append(block(type_, [], obj, [type_]))
    return blocks


def _is_tf(name: str) -> bool:
    return name.endswith((".tf", ".tf.json"))


def _walk(root: Path) -> tuple[dict[Path, list[Path]], list[Path], list[Path]]:
    """(.tf files by directory, .tfvars files, state files) under ``root``."""
    tf: dict[Path, list[Path]] = {}
    tfvars: list[Path] = []
    states: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        here = Path(dirpath)
        for name in sorted(filenames):
            p = here / name
            if not p.is_file():  # a link to /dev/zero or a FIFO would be read forever
                continue
            if _is_tf(name):
                tf.setdefault(here, []).append(p)
            elif name.endswith((".tfvars", ".tfvars.json")):
                tfvars.append(p)
            elif name.endswith((".tfstate", ".tfstate.backup")) or "terraform.tfstate.d" in p.parts:
                states.append(p)
    return tf, tfvars, states


class _Checker:
    def __init__(self, root: Path):
        self.root = root
        self.base = root if root.is_dir() else root.parent
        self.findings: list[Finding] = []

    def display(self, path: Path) -> str:
        if self.root.is_file():
            return self.root.as_posix()
        return (self.root / path.relative_to(self.base)).as_posix()

    def add(self, rule: str, message: str, file: str | None, line: int | None, **kw: Any) -> None:
        kw.setdefault("severity", RULES[rule].severity)
        kw.setdefault("fix", RULES[rule].fix)
        self.findings.append(Finding(id=rule, message=message, file=file, line=line, **kw))

    # ------------------------------------------------------------------ run

    def run(self) -> list[Finding]:
        if self.root.is_file():
            files = {self.root.parent: [self.root]} if _is_tf(self.root.name) else {}
            tfvars = [self.root] if self.root.name.endswith((".tfvars", ".tfvars.json")) else []
            states = [self.root] if ".tfstate" in self.root.name else []
        else:
            files, tfvars, states = _walk(self.root)
        modules: dict[Path, _Module] = {}
        for directory, paths in files.items():
            mod = _Module(directory)
            for p in paths:
                shown = self.display(p)
                mod.files.append(shown)
                try:
                    parse = parse_json_file if p.name.endswith(".json") else parse_file
                    mod.blocks += parse(p, shown)
                    mod.text += p.read_text(encoding="utf-8", errors="replace") + "\n"
                except Exception as exc:  # noqa: BLE001 - any parser failure becomes a finding
                    line = getattr(exc, "line", None)
                    self.add("iac.parse-error", f"cannot parse: {_parse_problem(exc)}", shown, line)
            modules[directory] = mod
        called = self.local_module_targets(modules.values())
        roots = [m for m in modules.values() if m.directory not in called and self.is_root(m)]
        for mod in modules.values():
            start = len(self.findings)
            self.hardcoded_secrets(mod)
            self.provider_pinned(mod, root=mod in roots and not self.is_example(mod))
            self.module_pinned(mod)
            self.controls(mod)
            if self.is_example(mod):
                self.label_example(start)
        for mod in roots:
            if not self.is_example(mod):
                self.remote_state(mod)
        self.state_committed(states, tfvars)
        production = [m for m in roots if not self.is_example(m)]
        self.env_separation(production, tfvars)
        self.copy_paste(production)
        return self.findings

    def is_example(self, mod: _Module) -> bool:
        """Code under examples/, testdata/, tests/ or fixtures/ shows or tests a module; it is not deployed."""
        rel = mod.directory.relative_to(self.base).parts if mod.directory != self.base else ()
        return any(part.lower() in _EXAMPLE_DIRS for part in rel)

    def label_example(self, start: int) -> None:
        """Findings in example code stay visible, as low warnings that say where they are."""
        for i in range(start, len(self.findings)):
            f = self.findings[i]
            self.findings[i] = f.model_copy(
                update={"severity": "low", "status": "warn", "message": f"example/test code: {f.message}"}
            )

    @staticmethod
    def local_module_targets(modules) -> set[Path]:
        """Directories another scanned module calls with a local ``source``: reusable, never roots."""
        targets: set[Path] = set()
        for mod in modules:
            for block in mod.top("module"):
                source_attr = block.attrs.get("source")
                source = literal(source_attr.value) if source_attr else None
                if source and _LOCAL_SOURCE.match(source):
                    targets.add(Path(os.path.normpath(mod.directory / source)))
        return targets

    def is_root(self, mod: _Module) -> bool:
        """A module that is applied on its own rather than called by another.

        Reusable modules (``modules/``, ``wrappers/``, a directory another scanned module calls
        with a local source, as a published module's examples do) receive providers from their
        caller and have no backend; asking them for one is wrong.
        """
        if any(b.children("backend") or b.children("cloud") for b in mod.top("terraform")):
            return True
        rel = mod.directory.relative_to(self.base).parts if mod.directory != self.base else ()
        if {"modules", "wrappers"} & {p.lower() for p in rel}:
            return False
        return bool(mod.top("provider") or mod.top("resource") or mod.top("module"))

    # ------------------------------------------------------------------ secrets

    def hardcoded_secrets(self, mod: _Module) -> None:
        for block in mod.blocks:
            if block.type == "variable":
                name = block.labels[0] if block.labels else "?"
                default = block.attrs.get("default")
                value = literal(default.value) if default else None
                if value and (is_secret_name(name) or find_secrets(value)):
                    self.add(
                        "iac.hardcoded-secret",
                        f"variable `{name}` has a credential as its default value",
                        block.file,
                        default.line,
                        object=f"var.{name}",
                    )
                continue
            self._scan_attrs(block, self._object_name(block))

    @staticmethod
    def _object_name(block: Block) -> str:
        if block.type in ("resource", "data") and len(block.labels) >= 2:
            return ("data." if block.type == "data" else "") + ".".join(block.labels[:2])
        return " ".join([block.type, *block.labels]).strip()

    def _scan_attrs(self, block: Block, where: str, prefix: str = "") -> None:
        for attr in block.attrs.values():
            for name, value in _literals(attr.name, attr.value):
                if not value.strip():
                    continue
                if is_secret_name(name) or find_secrets(value):
                    self.add(
                        "iac.hardcoded-secret",
                        f"{where} sets `{prefix}{name}` to a literal credential",
                        block.file,
                        attr.line,
                        object=where,
                    )
        for child in block.blocks:
            self._scan_attrs(child, where, f"{prefix}{child.type}.")

    # ------------------------------------------------------------------ pinning

    def provider_pinned(self, mod: _Module, *, root: bool = True) -> None:
        declared: dict[str, Attr] = {}
        for tf in mod.top("terraform"):
            for rp in tf.children("required_providers"):
                declared.update(rp.attrs)
        for name, attr in declared.items():
            value = attr.value
            if isinstance(value, dict):
                version = literal(value.get("version")) if value.get("version") is not None else None
            else:
                version = literal(value)  # legacy form: aws = "~> 5.0"
            if not version:
                self.add(
                    "iac.provider-pinned",
                    f"provider `{name}` has no version constraint in required_providers",
                    _file_of(mod, attr),
                    attr.line,
                    object=f"provider {name}",
                )
            elif root and not re.search(r"~>|<|^\s*=?\s*\d", version) and re.search(r">=?", version):
                # Reusable modules should state minimum versions (>=); root modules pin the upper bound.
                self.add(
                    "iac.provider-pinned",
                    f"provider `{name}` is constrained `{version}` with no upper bound: the next major version installs",
                    _file_of(mod, attr),
                    attr.line,
                    object=f"provider {name}",
                    severity="low",
                    status="warn",
                )
        used = {b.labels[0] for b in mod.top("provider") if b.labels}
        for b in mod.top("resource") + mod.top("data"):
            if not b.labels:
                continue
            alias = b.attrs.get("provider")
            if alias is not None and isinstance(alias.value, str):
                used.add(alias.value.strip('"${}').split(".")[0])  # provider = google-beta.eu
            else:
                used.add(b.labels[0].split("_")[0])
        missing = sorted(used - declared.keys() - {"terraform"})  # terraform_data is built in
        if missing and (mod.top("provider") or mod.top("resource")):
            first = (mod.top("provider") or mod.top("resource"))[0]
            self.add(
                "iac.provider-pinned",
                f"provider(s) {', '.join(missing)} used without a required_providers entry (no source, no version)",
                first.file,
                first.line,
            )

    def module_pinned(self, mod: _Module) -> None:
        for block in mod.top("module"):
            name = block.labels[0] if block.labels else "?"
            source_attr = block.attrs.get("source")
            source = literal(source_attr.value) if source_attr else None
            if not source or _LOCAL_SOURCE.match(source):
                continue
            line = source_attr.line
            if _GIT_SOURCE.match(source):
                ref = re.search(r"[?&]ref=([^&]+)", source)
                if not ref:
                    self.add(
                        "iac.module-pinned",
                        f"module `{name}` comes from git without ?ref=: it follows the default branch",
                        block.file,
                        line,
                        object=f"module.{name}",
                    )
                elif ref.group(1).lower() in _BRANCH_REFS:
                    self.add(
                        "iac.module-pinned",
                        f"module `{name}` is pinned to the branch `{ref.group(1)}`, which moves",
                        block.file,
                        line,
                        object=f"module.{name}",
                    )
            elif _REGISTRY_SOURCE.match(source) and "version" not in block.attrs:
                self.add(
                    "iac.module-pinned",
                    f"registry module `{name}` ({source}) has no version: every init may pull a new release",
                    block.file,
                    line,
                    object=f"module.{name}",
                )

    # ------------------------------------------------------------------ built-in controls
    # A small set matching the skill document's IaC section; checkov (--with checkov) covers the rest.

    def controls(self, mod: _Module) -> None:
        resources = [b for b in mod.top("resource") if len(b.labels) >= 2]
        # account-wide default EBS encryption makes every new volume encrypted
        ebs_default = any(
            b.labels[0] == "aws_ebs_encryption_by_default" and _flag(b, "enabled", default=True) is True
            for b in resources
        )
        for block in resources:
            rtype, where = block.labels[0], ".".join(block.labels[:2])
            encrypted = _ENCRYPTION_ATTR.get(rtype)
            if (
                encrypted
                and _flag(block, encrypted) is False
                and not _inherits_encryption(block, ebs_default)
            ):
                self.add(
                    "iac.encryption-at-rest",
                    f"{where} stores data unencrypted (`{encrypted}` is not true)",
                    block.file,
                    _line(block, encrypted),
                    object=where,
                )
            if rtype in _DATABASES:
                self.database_protection(block, where)
            self.public_ingress(block, rtype, where)
            self.public_bucket(block, rtype, where)
            if rtype in ("aws_lb", "aws_alb", "aws_elb"):
                logs = block.children("access_logs")
                if not logs or any(_flag(b, "enabled", default=True) is False for b in logs):
                    self.add(
                        "iac.logging",
                        f"{where} keeps no access logs",
                        block.file,
                        block.line,
                        object=where,
                    )

    def database_protection(self, block: Block, where: str) -> None:
        if _flag(block, "deletion_protection") is False:
            self.add(
                "iac.database-protection",
                f"{where} can be deleted by one apply (`deletion_protection` is not true)",
                block.file,
                _line(block, "deletion_protection"),
                object=where,
            )
        retention = block.attrs.get("backup_retention_period")
        if retention is not None and _scalar(retention.value) == "0":
            self.add(
                "iac.database-protection",
                f"{where} keeps no automated backups (`backup_retention_period = 0`)",
                block.file,
                retention.line,
                object=where,
                severity="high",
            )

    def public_ingress(self, block: Block, rtype: str, where: str) -> None:
        rules: list[Block] = []
        if rtype == "aws_security_group":
            rules = block.children("ingress")
        elif rtype == "aws_security_group_rule" and _attr(block, "type") == "ingress":
            rules = [block]
        elif rtype == "aws_vpc_security_group_ingress_rule":
            rules = [block]
        for rule in rules:
            cidrs = (
                _strings(rule, "cidr_blocks")
                + _strings(rule, "ipv6_cidr_blocks")
                + _strings(rule, "cidr_ipv4")
                + _strings(rule, "cidr_ipv6")
            )
            if not {"0.0.0.0/0", "::/0"} & set(cidrs):
                continue
            ports = _admin_ports(rule)
            if ports:
                self.add(
                    "iac.public-ingress",
                    f"{where} opens {ports} to the whole internet (0.0.0.0/0)",
                    rule.file,
                    rule.line,
                    object=where,
                )

    def public_bucket(self, block: Block, rtype: str, where: str) -> None:
        acl = _attr(block, "acl") or ""
        if rtype in ("aws_s3_bucket", "aws_s3_bucket_acl") and acl in _PUBLIC_ACLS:
            self.add(
                "iac.public-bucket",
                f"{where} grants `{acl}`: anyone on the internet can read{' and write' if 'write' in acl else ''}",
                block.file,
                _line(block, "acl"),
                object=where,
            )
        if rtype == "aws_s3_bucket_public_access_block":
            off = [k for k in _PAB_KEYS if _flag(block, k) is False]
            if off:
                self.add(
                    "iac.public-bucket",
                    f"{where} leaves public access open ({', '.join(off)} not true)",
                    block.file,
                    _line(block, off[0]),
                    object=where,
                    severity="medium",
                )
        if rtype.startswith(("google_storage_bucket_iam", "google_storage_bucket_access_control")):
            members = _strings(block, "member") + _strings(block, "members") + _strings(block, "entity")
            public = [m for m in members if m in ("allUsers", "allAuthenticatedUsers")]
            if public:
                self.add(
                    "iac.public-bucket",
                    f"{where} grants the bucket to {', '.join(public)}",
                    block.file,
                    block.line,
                    object=where,
                )

    # ------------------------------------------------------------------ state

    def remote_state(self, mod: _Module) -> None:
        terraform_blocks = mod.top("terraform")
        backends = [(tf, b) for tf in terraform_blocks for b in tf.children("backend")]
        clouds = [b for tf in terraform_blocks for b in tf.children("cloud")]
        if clouds:
            return
        if not backends:
            if (mod.directory / "terragrunt.hcl").is_file():
                return  # terragrunt generates the backend
            where = terraform_blocks[0] if terraform_blocks else None
            self.add(
                "iac.remote-state",
                f"{self._dir_label(mod)} has no backend: state stays in a local terraform.tfstate",
                where.file if where else mod.files[0],
                where.line if where else None,
            )
            return
        for _tf, backend in backends:
            kind = backend.labels[0] if backend.labels else "?"
            if kind == "local":
                self.add(
                    "iac.remote-state",
                    f"{self._dir_label(mod)} uses the local backend: state stays on one machine",
                    backend.file,
                    backend.line,
                )
                continue
            self.state_encryption(mod, backend, kind)

    def state_encryption(self, mod: _Module, backend: Block, kind: str) -> None:
        settings = {k: a.value for k, a in backend.attrs.items()}
        partial = not settings
        for extra in [*mod.directory.glob("*.tfbackend"), *mod.directory.glob("backend*.hcl")]:
            try:
                text = extra.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for key, value in re.findall(r'^\s*(\w+)\s*=\s*("?[^"\n]*"?)', text, re.M):
                settings.setdefault(key, value.strip())
                partial = False

        def has(key: str) -> bool:
            value = settings.get(key)
            return value is not None and value not in ('""', "", "null")

        # OpenTofu encrypts state client-side with terraform { encryption { ... } }, whatever the backend.
        tofu_encrypted = any(tf.children("encryption") for tf in mod.top("terraform"))
        problems: list[str] = []
        if kind == "s3":
            if not (
                _is_true(settings.get("encrypt"))
                or has("kms_key_id")
                or has("sse_customer_key")
                or tofu_encrypted
            ):
                problems.append("no encryption (encrypt = true or kms_key_id)")
            if not (has("dynamodb_table") or _is_true(settings.get("use_lockfile"))):
                problems.append("no state locking (use_lockfile = true or dynamodb_table)")
        elif kind == "oss":
            if not (_is_true(settings.get("encrypt")) or tofu_encrypted):
                problems.append("no encryption (encrypt = true)")
            if not has("tablestore_table"):
                problems.append("no state locking (tablestore_table)")
        elif kind == "http":
            if not has("lock_address"):
                problems.append("no state locking (lock_address)")
        elif kind == "consul" and not tofu_encrypted:
            problems.append("consul does not encrypt state at rest")
        if not problems:
            return
        if partial:
            self.add(
                "iac.state-encryption",
                f'backend "{kind}" is configured outside the code (-backend-config): make sure it is encrypted and locked',
                backend.file,
                backend.line,
                severity="low",
                status="warn",
            )
            return
        self.add(
            "iac.state-encryption",
            f'backend "{kind}" in {self._dir_label(mod)}: ' + "; ".join(problems),
            backend.file,
            backend.line,
        )

    def state_committed(self, states: list[Path], tfvars: list[Path]) -> None:
        for path in states:
            shown = self.display(path)
            status, why = _git_status(path)
            if status == "ignored":
                self.add(
                    "iac.state-committed",
                    f"state file {shown} is in the tree (git-ignored, but it belongs in a remote backend)",
                    shown,
                    None,
                    severity="medium",
                    status="warn",
                )
            else:
                self.add(
                    "iac.state-committed",
                    f"state file {shown} {why}: state holds secrets in clear text",
                    shown,
                    None,
                )
        for path in tfvars:
            shown = self.display(path)
            names = _tfvars_secrets(path, shown)
            if names is None:
                self.add("iac.parse-error", f"cannot parse {shown}", shown, None)
                continue
            for name, line in names:
                status, why = _git_status(path)
                if status == "ignored":
                    continue  # a git-ignored local tfvars is where secrets are meant to go
                self.add(
                    "iac.state-committed",
                    f"{shown} sets `{name}` to a literal credential and {why}",
                    shown,
                    line,
                    object=name,
                )

    # ------------------------------------------------------------------ environments

    def _dir_label(self, mod: _Module) -> str:
        if mod.directory == self.base:
            return self.root.as_posix() if self.root.is_dir() else mod.directory.name
        return (self.root / mod.directory.relative_to(self.base)).as_posix()

    def _env_of(self, mod: _Module) -> tuple[str | None, tuple[str, ...]]:
        """(environment named by the module's folder path, its family: the path with that part as *).

        ``live/prod/app`` and ``live/dev/app`` are the same family ``live/*/app``.
        """
        if mod.directory == self.base:
            parts: tuple[str, ...] = (self.base.resolve().name,)
        else:
            parts = mod.directory.relative_to(self.base).parts
        for i in range(len(parts) - 1, -1, -1):
            env = infer_environment(parts[i])
            if env:
                return env, (*parts[:i], "*", *parts[i + 1 :])
        return None, parts

    def env_separation(self, roots: list[_Module], tfvars: list[Path]) -> None:
        env_roots = [(m, self._env_of(m)[0]) for m in roots]
        env_roots = [(m, e) for m, e in env_roots if e]
        seen: dict[tuple, tuple[_Module, str, Block]] = {}
        for mod, env in env_roots:
            for tf in mod.top("terraform"):
                for backend in tf.children("backend"):
                    ident = _backend_identity(backend)
                    if ident is None:
                        continue
                    key_text = " ".join(str(v) for v in ident[1:])
                    named = infer_environment(key_text)
                    if named and named != env:
                        self.add(
                            "iac.env-separation",
                            f"{self._dir_label(mod)} is {env} but its backend state ({key_text}) names {named}",
                            backend.file,
                            backend.line,
                        )
                    other = seen.get(ident)
                    if other and other[1] != env:
                        self.add(
                            "iac.env-separation",
                            f"{self._dir_label(other[0])} ({other[1]}) and {self._dir_label(mod)} ({env}) write the "
                            f"same state ({key_text}): a change for one is a change for the other",
                            backend.file,
                            backend.line,
                        )
                    seen.setdefault(ident, (mod, env, backend))
        # A root that is not an environment folder but selects environments with .tfvars files
        # must come with workspaces or a per-environment backend.
        env_dirs = {m.directory for m, _ in env_roots}
        for mod in roots:
            if mod.directory in env_dirs:
                continue
            local = [p for p in tfvars if p.parent == mod.directory or p.parent.parent == mod.directory]
            envs = {infer_environment(p.name.split(".")[0]) for p in local} - {None}
            if len(envs) < 2 or "terraform.workspace" in mod.text:
                continue
            backend = next((b for tf in mod.top("terraform") for b in tf.children("backend")), None)
            if backend is not None and (not backend.attrs or "workspace_key_prefix" in backend.attrs):
                continue  # partial config (-backend-config per env) or workspace-aware key
            where = backend or (mod.top("terraform") or [None])[0]
            self.add(
                "iac.env-separation",
                f"{self._dir_label(mod)} selects {', '.join(sorted(envs))} with .tfvars files but every "
                "environment shares one state (no workspaces, no per-environment backend)",
                where.file if where else mod.files[0],
                where.line if where else None,
            )

    def copy_paste(self, roots: list[_Module]) -> None:
        groups: dict[tuple, list[tuple[str, Block]]] = {}
        for mod in roots:
            env, family = self._env_of(mod)
            if not env:
                continue
            for block in mod.top("resource"):
                if len(block.labels) < 2 or len(block.attrs) + len(block.blocks) < 2:
                    continue
                key = (family, block.labels[0], block.labels[1], _shape(block))
                groups.setdefault(key, []).append((self._dir_label(mod), block))
        for (_family, rtype, rname, _), places in sorted(groups.items(), key=lambda kv: kv[0][:3]):
            dirs = sorted({d for d, _ in places})
            if len(dirs) < 2:
                continue
            first = places[0][1]
            where = ", ".join(f"{b.file}:{b.line}" for _, b in places)
            self.add(
                "iac.copy-paste",
                f"{rtype}.{rname} is repeated with the same shape in {len(dirs)} environment folders ({where})",
                first.file,
                first.line,
                object=f"{rtype}.{rname}",
            )


# Resource types that hold data, and the attribute that turns encryption at rest on (AWS
# defaults these to off; S3, DynamoDB and most GCP/Azure stores encrypt by default).
_ENCRYPTION_ATTR = {
    "aws_db_instance": "storage_encrypted",
    "aws_rds_cluster": "storage_encrypted",
    "aws_docdb_cluster": "storage_encrypted",
    "aws_neptune_cluster": "storage_encrypted",
    "aws_ebs_volume": "encrypted",
    "aws_efs_file_system": "encrypted",
    "aws_redshift_cluster": "encrypted",
    "aws_elasticache_replication_group": "at_rest_encryption_enabled",
}
_DATABASES = {"aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster"}
_ADMIN_PORTS = {
    22: "SSH (22)",
    3389: "RDP (3389)",
    5432: "PostgreSQL (5432)",
    3306: "MySQL (3306)",
    1433: "SQL Server (1433)",
    6379: "Redis (6379)",
    27017: "MongoDB (27017)",
    9200: "Elasticsearch (9200)",
}
_PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
_PAB_KEYS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _inherits_encryption(block: Block, ebs_default: bool) -> bool:
    """Encryption that comes from elsewhere: a replica or restore takes its source's, Aurora
    Serverless v1 is always encrypted, and EBS may be encrypted by the account default."""
    if any(name in block.attrs for name in _INHERITED_FROM):
        return True
    if block.labels[0] == "aws_rds_cluster" and _attr(block, "engine_mode") == "serverless":
        return True
    return block.labels[0] == "aws_ebs_volume" and (ebs_default or "snapshot_id" in block.attrs)


_INHERITED_FROM = ("replicate_source_db", "snapshot_identifier", "source_db_instance_identifier")


def _scalar(value: Any) -> str | None:
    """A literal number, bool or string as text (``22``, ``true``, ``tcp``); None for an expression."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return literal(value)


def _attr(block: Block, name: str) -> str | None:
    attr = block.attrs.get(name)
    return _scalar(attr.value) if attr is not None else None


def _flag(block: Block, name: str, default: bool = False) -> bool | None:
    """True/False for a literal boolean attribute (missing: ``default``); None for an expression."""
    if name not in block.attrs:
        return default
    text = _attr(block, name)
    return text == "true" if text in ("true", "false") else None


def _line(block: Block, name: str) -> int | None:
    attr = block.attrs.get(name)
    return attr.line if attr is not None and attr.line else block.line


def _strings(block: Block, name: str) -> list[str]:
    attr = block.attrs.get(name)
    if attr is None:
        return []
    values = attr.value if isinstance(attr.value, list) else [attr.value]
    return [t for t in (_scalar(v) for v in values) if t is not None]


def _admin_ports(rule: Block) -> str | None:
    """The admin/database ports a rule's port range covers ("all ports" for protocol -1 or 0-65535)."""
    protocol = _attr(rule, "protocol") or _attr(rule, "ip_protocol")
    low, high = _attr(rule, "from_port"), _attr(rule, "to_port")
    if protocol in ("-1", "all"):
        return "all ports"
    try:
        lo, hi = int(low), int(high)
    except (TypeError, ValueError):
        return None
    if lo <= 0 and hi >= 65535:
        return "all ports"
    hit = [label for port, label in _ADMIN_PORTS.items() if lo <= port <= hi]
    return ", ".join(hit) or None


def _parse_problem(exc: Exception) -> str:
    """What went wrong, without echoing the file: the offending token may be a secret or binary junk."""
    token = getattr(exc, "token", None)
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if line is not None and column is not None and column != -1:
        what = f"unexpected {getattr(token, 'type', 'text')}" if token is not None else "syntax error"
        return f"{what} at line {line}, column {column}"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    text = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:200]


def _literals(name: str, value: Any):
    """(name, literal string) pairs in an attribute value, descending into objects."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _literals(str(k).strip('"'), v)
    elif isinstance(value, list):
        for v in value:
            yield from _literals(name, v)
    else:
        text = literal(value)
        if text is not None:
            yield name, text


def _quoted(value: Any) -> Any:
    """JSON values in the shape python-hcl2 gives HCL literals (strings keep their quotes)."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return {k: _quoted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_quoted(v) for v in value]
    return value


def _shape(block: Block) -> tuple:
    return (
        tuple(sorted(block.attrs)),
        tuple(sorted((b.type, _shape(b)) for b in block.blocks)),
    )


def _backend_identity(backend: Block) -> tuple | None:
    kind = backend.labels[0] if backend.labels else "?"
    parts = []
    for key in ("bucket", "storage_account_name", "container_name", "key", "prefix", "path", "address"):
        if key in backend.attrs:
            parts.append(literal(backend.attrs[key].value) or str(backend.attrs[key].value))
    return (kind, *parts) if parts else None


def _file_of(mod: _Module, attr: Attr) -> str:
    for tf in mod.top("terraform"):
        for rp in tf.children("required_providers"):
            if any(a is attr for a in rp.attrs.values()):
                return rp.file
    return mod.files[0]


def _tfvars_secrets(path: Path, shown: str) -> list[tuple[str, int | None]] | None:
    found: list[tuple[str, int | None]] = []
    if path.name.endswith(".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            return None
        for name, value in (data or {}).items() if isinstance(data, dict) else []:
            for key, text in _literals(name, _quoted(value)):
                if text.strip() and (is_secret_name(key) or find_secrets(text)):
                    found.append((key, None))
        return found
    try:
        blocks = parse_file(path, shown)
    except Exception:  # noqa: BLE001
        return None
    for block in blocks:
        for attr in block.attrs.values():
            for key, text in _literals(attr.name, attr.value):
                if text.strip() and (is_secret_name(key) or find_secrets(text)):
                    found.append((key, attr.line))
    return found


def _git_status(path: Path) -> tuple[str, str]:
    """("tracked"|"ignored"|"untracked"|"no-git", words) for a file, asking git when it is there."""
    from skill.errors import DevopsError
    from skill.runner import run_tool

    cwd = path.parent
    try:
        tracked = run_tool(["git", "ls-files", "--error-unmatch", "--", path.name], cwd=cwd, timeout=20)
        if tracked.ok:
            return "tracked", "is committed to git"
        if "not a git repository" in tracked.stderr.lower():
            return "no-git", "is in the tree"
        ignored = run_tool(["git", "check-ignore", "-q", "--", path.name], cwd=cwd, timeout=20)
        if ignored.returncode == 0:
            return "ignored", "is git-ignored"
        return "untracked", "is not git-ignored (one `git add .` away from being committed)"
    except DevopsError:
        return "no-git", "is in the tree"


def has_code(path: str | os.PathLike) -> bool:
    """Whether ``path`` is, or holds, anything the static checks read (.tf, .tf.json, .tfvars, state)."""
    root = Path(path)
    if root.is_file():
        name = root.name
        return _is_tf(name) or name.endswith((".tfvars", ".tfvars.json")) or ".tfstate" in name
    tf, tfvars, states = _walk(root)
    return bool(tf or tfvars or states)


def review_code(path: str | os.PathLike) -> list[Finding]:
    """Static checks over the Terraform code at ``path`` (a directory or one file)."""
    from skill.errors import InputError
    from skill.report import sort_findings

    root = Path(path)
    if not root.exists():
        raise InputError(f"{root} does not exist")
    return sort_findings(_Checker(root).run())


__all__ = ["RULES", "has_code", "review_code", "parse_file", "parse_json_file", "literal"]
