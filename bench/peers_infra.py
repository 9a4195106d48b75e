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

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = Path(os.environ.get("DEVOPS_REAL_CORPUS", ROOT.parent / "shared" / "corpora" / "real"))

# peer check id -> our rule class (only classes both sides claim are compared): the tables the
# --with merge uses, so the bench measures what users get
from skill.peers import CHECKOV_KUBERNETES, CHECKOV_TERRAFORM, HADOLINT  # noqa: E402

# Hand check of every disagreement on the dev share: (peer, class) -> (ours wrong, decision).
# "ours wrong" counts our findings a maintainer would reject; peer-only findings we leave to the
# peer are explained, not counted. Kept in sync with docs/iac.md and docs/readiness.md.
DECISIONS: dict[tuple[str, str], tuple[int | None, str]] = {
    ("checkov-terraform", "iac.database-protection"): (
        0,
        "only ours: aws_neptune_cluster.default has no deletion_protection; checkov's Neptune check is not mapped",
    ),
    ("checkov-terraform", "iac.hardcoded-secret"): (
        0,
        "only ours (10), each read: terragoat's deliberate literals (the default of var.password in "
        "aws/consts.tf, administrator_login_password of 7 azurerm_mssql_server and 2 azurerm SQL servers); "
        "checkov reports such literals with its secrets framework, which the bench does not run",
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


def _peer(run) -> list | None:
    """The peer's results, or None when it is not installed (its rows then say so)."""
    from skill.errors import ToolMissingError

    try:
        return run()
    except ToolMissingError:
        return None


def checkov_findings(repo: Path, framework: str, mapping: dict[str, str]) -> set[tuple[str, str, str]] | None:
    from skill.peers import run_checkov

    found = _peer(lambda: run_checkov(repo, (framework,)))
    if found is None:
        return None
    out = set()
    for p in found:
        cls = mapping.get(p.check_id)
        if cls is None:
            continue
        if framework == "kubernetes":
            out.add((cls, "", p.resource))
        else:
            out.add((cls, _rel(p.path, repo), p.resource))
    return out


def hadolint_findings(repo: Path, files: list[Path]) -> set[tuple[str, str, str]] | None:
    from skill.peers import run_hadolint

    found = _peer(lambda: run_hadolint(files))
    if found is None:
        return None
    return {(HADOLINT[p.check_id], _rel(p.path, repo), "") for p in found if p.check_id in HADOLINT}


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
        _RUNS[(kind, repo)] = (found, peer_found)
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
_RUNS: dict[tuple[str, Path], tuple[set, set | None]] = {}  # (kind, repo) -> (ours, peer's) of the last run


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
    """Only-ours and only-peer items per claimed class, for the hand check (from the rows' run)."""
    rows(corpus)
    out: dict[str, list] = defaultdict(list)
    for (kind, repo), (a, b) in sorted(_RUNS.items(), key=lambda kv: (kv[0][0], kv[0][1].name)):
        if b is None:
            continue
        claimed = _claimed(kind)
        for x in sorted(a - b):
            if x[0] in claimed:
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
    if "--disagreements" in argv:  # the items behind the only-ours / only-peer counts
        for key, items in disagreements().items():
            print(key)
            for item in items:
                print("   ", *item)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
