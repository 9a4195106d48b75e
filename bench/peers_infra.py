"""Differential benchmark, infra half: our readiness/iac lint against checkov and hadolint.

Runs on the dev share (``../shared/corpora/real``: terraform/, kubernetes/, dockerfile/) and
returns one row per peer and rule class: findings both report, only ours, only the peer, the
ours-wrong count from the hand check (``DECISIONS``), and the run time of each side. Compared at
resource granularity: ``type.name`` in a file for Terraform, kind/name for Kubernetes, the file
for Dockerfiles (our Dockerfile checks report once per file). The driver (bench/bench_peers.py)
imports ``rows()``; ``python bench/peers_infra.py`` prints the table alone.

The peers are optional: a missing one gives a row saying so, never a crash.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = Path(os.environ.get("DEVOPS_REAL_CORPUS", ROOT.parent / "shared" / "corpora" / "real"))

# peer check id -> our rule class (only classes both sides claim are compared)
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
}

# Hand check of every disagreement on the dev share: (peer, class) -> (ours wrong, decision).
# "ours wrong" counts our findings a maintainer would reject; peer-only findings we leave to the
# peer are explained, not counted. Kept in sync with docs/iac.md and docs/readiness.md.
DECISIONS: dict[tuple[str, str], tuple[int | None, str]] = {
    ("checkov-terraform", "iac.database-protection"): (
        0,
        "only ours: aws_neptune_cluster.default has no deletion_protection; checkov's Neptune check is not mapped",
    ),
    ("checkov-terraform", "iac.public-bucket"): (
        0,
        "only ours: google_storage_bucket_iam_binding.allow_public_read grants allUsers (checkov CKV_GCP_28, unmapped)",
    ),
    ("checkov-terraform", "iac.hardcoded-secret"): (
        None,
        "only ours: terragoat's deliberate literals; checkov finds these with its secrets framework, not run here; "
        "not re-checked one by one this round",
    ),
    ("checkov-terraform", "iac.module-pinned"): (
        0,
        "only peer: CKV_TF_1 wants a commit hash; a registry version is pinned enough for us (left to checkov)",
    ),
    ("checkov-kubernetes", "k8s.image-tag"): (
        0,
        "only ours: redis:alpine is a moving tag; CKV_K8S_14 only rejects latest/untagged",
    ),
    ("checkov-kubernetes", "k8s.namespace"): (
        0,
        "only peer: CKV_K8S_21 flags every object in default (Services, ServiceAccounts); ours checks workloads",
    ),
    ("checkov-kubernetes", "k8s.run-as-non-root"): (
        0,
        "only peer: loadgenerator sets runAsNonRoot: true and runAsUser: 1000 (kubernetes-manifests/loadgenerator.yaml:38)",
    ),
    ("hadolint", "docker.non-root-user"): (
        0,
        "only ours: no USER at all runs as root; DL3002 fires only on an explicit root USER (documented, stricter)",
    ),
    ("hadolint", "docker.pip-no-cache"): (
        0,
        "only peer: DL3042 fires in builder/dev stages; a cache in a stage that is not shipped costs nothing",
    ),
    ("hadolint", "docker.consecutive-run"): (
        0,
        "only ours: result/tests/Dockerfile has RUN at lines 3 and 9 with nothing between (hadolint silent)",
    ),
}


def _peer_binary(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.is_file() else shutil.which(name)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _rel(path: str, base: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.lstrip("/")


# ----------------------------------------------------------------------------- our side


def ours_terraform(repo: Path) -> set[tuple[str, str, str]]:
    from skill.nodes.iac import review_code

    out = set()
    for f in review_code(repo):
        if f.status != "fail" or not f.object:
            continue
        out.add((f.id, _rel(f.file or "", repo), f.object))
    return out


def ours_readiness(repo: Path, scope: str) -> set[tuple[str, str, str]]:
    from skill.nodes.readiness import review

    out = set()
    for f in review(repo).checks:
        if f.status != "fail" or not f.id.startswith(scope + "."):
            continue
        if scope == "k8s":
            kind, _ns, name = (f.object or "").split("/", 2)
            out.add((f.id, "", f"{kind}/{name}"))
        else:
            out.add((f.id, _rel(f.file or "", repo), ""))
    return out


# ----------------------------------------------------------------------------- peers


def checkov_findings(repo: Path, framework: str, mapping: dict[str, str]) -> set[tuple[str, str, str]] | None:
    binary = _peer_binary("checkov")
    if binary is None:
        return None
    proc = subprocess.run(
        [
            binary,
            "-d",
            str(repo),
            "--framework",
            framework,
            "-o",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
            "--no-fail-on-crash",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    try:
        data = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        return set()
    reports = data if isinstance(data, list) else [data]
    out = set()
    for report in reports:
        for item in (report.get("results") or {}).get("failed_checks") or []:
            cls = mapping.get(item.get("check_id"))
            if cls is None:
                continue
            resource = str(item.get("resource") or "")
            if framework == "kubernetes":
                parts = resource.split(".")
                out.add((cls, "", f"{parts[0]}/{parts[-1]}"))
            else:
                out.add((cls, _rel(item.get("file_abs_path") or item.get("file_path") or "", repo), resource))
    return out


def hadolint_findings(repo: Path, files: list[Path]) -> set[tuple[str, str, str]] | None:
    binary = _peer_binary("hadolint")
    if binary is None:
        return None
    out = set()
    for f in files:
        proc = subprocess.run(
            [binary, "-f", "json", "--no-fail", str(f)], capture_output=True, text=True, timeout=120
        )
        try:
            items = json.loads(proc.stdout or "[]")
        except json.JSONDecodeError:
            continue
        for item in items:
            cls = HADOLINT.get(item.get("code"))
            if cls:
                out.add((cls, _rel(f.as_posix(), repo), ""))
    return out


def _dockerfiles(repo: Path) -> list[Path]:
    from skill.nodes.readiness.loader import _is_dockerfile

    return sorted(p for p in repo.rglob("*") if p.is_file() and _is_dockerfile(p.name))


# ----------------------------------------------------------------------------- comparison


def _compare(
    peer: str, ours: set, theirs: set | None, classes: set[str], t_ours: float, t_peer: float
) -> list[dict]:
    rows = []
    for cls in sorted(classes):
        a = {x for x in ours if x[0] == cls}
        if theirs is None:
            rows.append(
                {
                    "peer": peer,
                    "class": cls,
                    "both": None,
                    "ours": len(a),
                    "peer_only": None,
                    "ours_wrong": None,
                    "ours_s": t_ours,
                    "peer_s": None,
                    "note": f"{peer} not installed",
                }
            )
            continue
        b = {x for x in theirs if x[0] == cls}
        wrong, note = DECISIONS.get((peer, cls), (0, ""))
        rows.append(
            {
                "peer": peer,
                "class": cls,
                "both": len(a & b),
                "ours": len(a - b),
                "peer_only": len(b - a),
                "ours_wrong": wrong,
                "ours_s": t_ours,
                "peer_s": t_peer,
                "note": note,
            }
        )
    return rows


def _side_by_side(
    corpus: Path, kind: str, peer: str, ours_fn, peer_fn, mapping: dict[str, str]
) -> list[dict]:
    """Both sides over every repository of ``corpus/kind``; keys are prefixed with the repository."""
    ours, theirs, t_o, t_p, missing = set(), set(), 0.0, 0.0, False
    for repo in sorted((corpus / kind).iterdir()):
        found, dt = _timed(lambda r=repo: ours_fn(r))
        ours |= {(c, f"{repo.name}/{fl}", o) for c, fl, o in found}
        t_o += dt
        peer_found, dt = _timed(lambda r=repo: peer_fn(r))
        missing = missing or peer_found is None
        theirs |= {(c, f"{repo.name}/{fl}", o) for c, fl, o in (peer_found or set())}
        t_p += dt
    return _compare(peer, ours, None if missing else theirs, set(mapping.values()), t_o, t_p)


def terraform_rows(corpus: Path = CORPUS) -> list[dict]:
    return _side_by_side(
        corpus,
        "terraform",
        "checkov-terraform",
        ours_terraform,
        lambda r: checkov_findings(r, "terraform", CHECKOV_TERRAFORM),
        CHECKOV_TERRAFORM,
    )


def kubernetes_rows(corpus: Path = CORPUS) -> list[dict]:
    return _side_by_side(
        corpus,
        "kubernetes",
        "checkov-kubernetes",
        lambda r: ours_readiness(r, "k8s"),
        lambda r: checkov_findings(r, "kubernetes", CHECKOV_KUBERNETES),
        CHECKOV_KUBERNETES,
    )


def dockerfile_rows(corpus: Path = CORPUS) -> list[dict]:
    return _side_by_side(
        corpus,
        "dockerfile",
        "hadolint",
        lambda r: ours_readiness(r, "docker"),
        lambda r: hadolint_findings(r, _dockerfiles(r)),
        HADOLINT,
    )


_CACHE: dict[Path, list[dict]] = {}


def rows(corpus: Path = CORPUS) -> list[dict]:
    """Every row of the infra comparison (terraform, kubernetes, Dockerfiles); ``ours`` = only ours."""
    if not corpus.is_dir():
        raise SystemExit(f"dev share not found: {corpus} (set DEVOPS_REAL_CORPUS)")
    if corpus not in _CACHE:
        _CACHE[corpus] = terraform_rows(corpus) + kubernetes_rows(corpus) + dockerfile_rows(corpus)
    return _CACHE[corpus]


def timings(corpus: Path = CORPUS) -> list[tuple[str, float]]:
    """(label, seconds) per side and peer, from the same run as ``rows()``."""
    out: dict[str, float] = {}
    for r in rows(corpus):
        out[f"ours vs {r['peer']}"] = r["ours_s"]
        if r["peer_s"] is not None:
            out[r["peer"]] = r["peer_s"]
    return list(out.items())


def disagreements(corpus: Path = CORPUS) -> dict[str, list]:
    """Only-ours and only-peer items per class, for the hand check."""
    out: dict[str, list] = defaultdict(list)
    for kind, ours_fn, peer_fn in (
        (
            "terraform",
            lambda r: ours_terraform(r),
            lambda r: checkov_findings(r, "terraform", CHECKOV_TERRAFORM),
        ),
        (
            "kubernetes",
            lambda r: ours_readiness(r, "k8s"),
            lambda r: checkov_findings(r, "kubernetes", CHECKOV_KUBERNETES),
        ),
        (
            "dockerfile",
            lambda r: ours_readiness(r, "docker"),
            lambda r: hadolint_findings(r, _dockerfiles(r)),
        ),
    ):
        for repo in sorted((corpus / kind).iterdir()):
            a, b = ours_fn(repo), peer_fn(repo) or set()
            classes = {x[0] for x in b} | {x[0] for x in a}
            for x in sorted(a - b):
                if x[0] in classes and any(y[0] == x[0] for y in b) or x[0] in _claimed(kind):
                    out[f"{repo.name} only ours {x[0]}"].append(x[1:])
            for x in sorted(b - a):
                out[f"{repo.name} only peer {x[0]}"].append(x[1:])
    return out


def _claimed(kind: str) -> set[str]:
    table = {"terraform": CHECKOV_TERRAFORM, "kubernetes": CHECKOV_KUBERNETES, "dockerfile": HADOLINT}[kind]
    return set(table.values())


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--disagreements" in argv:
        for key, items in disagreements().items():
            print(key)
            for item in items:
                print("   ", *item)
        return 0
    table = rows()
    header = ("peer", "class", "both", "ours", "peer_only", "ours_wrong", "ours_s", "peer_s")
    print(" | ".join(header))
    for r in table:
        print(" | ".join(_cell(r[k]) for k in header) + (f"  # {r['note']}" if r.get("note") else ""))
    by_peer: dict[str, tuple[float, float]] = {}
    for r in table:
        by_peer[r["peer"]] = (r["ours_s"], r["peer_s"])
    for peer, (ours_s, peer_s) in by_peer.items():
        ratio = f"{peer_s / ours_s:.1f}x" if peer_s and ours_s else "-"
        print(f"run time {peer}: ours {ours_s:.2f}s, peer {_cell(peer_s)}s (peer/ours {ratio})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
