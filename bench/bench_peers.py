"""Differential benchmark: `devops ci audit` against zizmor on the real dev share, per rule class.

For every class both tools have (unpinned actions, template injection, dangerous triggers ...)
it prints the findings both report, only ours and only zizmor's, matched at file+line, or at
file+job for classes that are about a whole job or workflow (permissions, triggers, concurrency).
Classes only one side has are listed with their counts. Disagreements are looked up in the
hand-checked decision table of docs/audit-decisions.md; "ours wrong" counts the decisions that say
our finding is wrong. Run time: both tools as processes over the same repositories, and ours in
process; zizmor is the baseline of the ratio.

zizmor is optional (the `test` extra installs it): without it only our side is printed. The
infrastructure half (checkov, hadolint) lives in bench/peers_infra.py; when present its ``rows()``
(an iterable of dicts with peer, class, both, ours, peer_only and optionally ours_wrong) is printed
in the same table, and its ``timings()`` (an iterable of (label, seconds)) under the timings.

Usage: python bench/bench_peers.py [--corpus DIR] [--show N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from skill.nodes.ci.audit import audit_workflows  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "real" / "github_actions"
DECISIONS = ROOT / "docs" / "audit-decisions.md"

# class -> (our rule id, zizmor audit id, granularity)
CLASSES = {
    "unpinned-uses": ("ci.unpinned-action", "unpinned-uses", "line"),
    "excessive-permissions": ("ci.excessive-permissions", "excessive-permissions", "job"),
    "template-injection": ("ci.template-injection", "template-injection", "line"),
    "persist-credentials": ("ci.persist-credentials", "artipacked", "line"),
    "cache-poisoning": ("ci.cache-poisoning", "cache-poisoning", "line"),
    "dangerous-triggers": ("ci.dangerous-triggers", "dangerous-triggers", "job"),
    "github-env": ("ci.github-env", "github-env", "line"),
    "bot-conditions": ("ci.bot-conditions", "bot-conditions", "line"),
    "unsound-condition": ("ci.unsound-condition", "unsound-condition", "line"),
    "obfuscation": ("ci.obfuscation", "obfuscation", "line"),
    "compromised-actions": ("ci.known-compromised-action", "known-vulnerable-actions", "line"),
    "archived-actions": ("ci.archived-action", "archived-uses", "line"),
    "secrets-inherit": ("ci.secrets-inherit", "secrets-inherit", "line"),
    "insecure-commands": ("ci.insecure-commands", "insecure-commands", "job"),
    "container-credentials": ("ci.hardcoded-credentials", "hardcoded-container-credentials", "line"),
    "mutable-images": ("ci.mutable-image", "unpinned-images", "line"),
    "secret-exposure": ("ci.secret-exposure", "unredacted-secrets", "line"),
}
OURS_CLASS = {ours: cls for cls, (ours, _, _) in CLASSES.items()}
PEER_CLASS = {peer: cls for cls, (_, peer, _) in CLASSES.items()}
GRANULARITY = {cls: g for cls, (_, _, g) in CLASSES.items()}


def ours(repo: Path) -> list[dict]:
    report = audit_workflows(repo)
    return [
        {
            "file": f.file,
            "line": f.line,
            "job": f.job,
            "rule": f.id,
            "severity": f.severity,
            "message": f.message,
        }
        for f in report.findings
    ]


def zizmor_cmd() -> list[str] | None:
    exe = shutil.which("zizmor") or (
        str(Path(sys.executable).parent / "zizmor")
        if (Path(sys.executable).parent / "zizmor").exists()
        else None
    )
    return [exe] if exe else None


def zizmor(cmd: list[str], repo: Path) -> list[dict]:
    # --no-ignores: both tools judged on the same text (ours does not read zizmor's comments either).
    args = [*cmd, "--offline", "--no-ignores", "--no-exit-codes", "--format", "json"]
    args += ["--collect=workflows", "--collect=actions", str(repo)]
    res = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"zizmor failed on {repo.name}: {res.stderr.strip().splitlines()[-1:]}")
    out = []
    for item in json.loads(res.stdout or "[]"):
        loc = next(
            (x for x in item["locations"] if x["symbolic"].get("kind") == "Primary"), item["locations"][0]
        )
        key = loc["symbolic"]["key"].get("Local", {})
        path = Path(key.get("given_path") or key.get("verbatim_path") or "")
        try:
            rel = path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        route = [r.get("Key") for r in loc["symbolic"].get("route", {}).get("route", [])]
        job = route[1] if len(route) > 1 and route[0] == "jobs" else None
        out.append(
            {
                "file": rel,
                "line": loc["concrete"]["location"]["start_point"]["row"] + 1,
                "job": job,
                "rule": item["ident"],
                "severity": item["determinations"]["severity"].lower(),
                "message": item["desc"],
            }
        )
    return out


def match(mine: list[dict], theirs: list[dict], granularity: str) -> tuple[list, list, list]:
    """(both, only ours, only peer): exact lines first, then the same job (or file) for job classes."""
    left, right = list(mine), list(theirs)
    both = []
    keys = [lambda f: (f["file"], f["line"])]
    if granularity == "job":
        keys.append(lambda f: (f["file"], f["job"]))
    else:  # the same step: zizmor points at the step's first line, we at the key that is wrong
        keys += [lambda f, d=d: (f["file"], f["job"], (f["line"] or 0) // 5 + d) for d in (0,)]
        keys.append(lambda f: (f["file"], f["job"], ((f["line"] or 0) + 2) // 5))
    for key in keys:
        pool = defaultdict(list)
        for f in right:
            pool[key(f)].append(f)
        rest = []
        for f in left:
            if pool.get(key(f)):
                both.append((f, pool[key(f)].pop()))
            else:
                rest.append(f)
        left = rest
        right = [f for fs in pool.values() for f in fs]
    if granularity == "job":  # one workflow-level finding of ours covers every job the peer names
        for f in [f for f in mine if f["job"] is None]:
            covered = [g for g in right if g["file"] == f["file"]]
            both += [(f, g) for g in covered]
            right = [g for g in right if g["file"] != f["file"]]
            if covered and f in left:
                left.remove(f)
    return both, left, right


_ROW = re.compile(
    r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*(ours|zizmor)\s*\|\s*([^|]+?)\s*\|"
)


def decisions() -> dict[tuple[str, str, int, str, str], str]:
    """Hand-checked disagreements: (repo, file, line, class, side) -> verdict."""
    out = {}
    if DECISIONS.exists():
        for line in DECISIONS.read_text().splitlines():
            m = _ROW.match(line)
            if m:
                repo, file, lineno, cls, side, verdict = m.groups()
                out[(repo, file.strip("`"), int(lineno), cls, side)] = verdict.strip()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", type=Path, default=Path(os.environ.get("DEVOPS_PEERS_CORPUS", DEFAULT_CORPUS))
    )
    ap.add_argument("--show", type=int, default=0, help="print up to N unmatched findings per class and side")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found: {args.corpus} (the dev share lives in ../shared/corpora/real)")
    repos = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    cmd = zizmor_cmd()

    t0 = time.perf_counter()
    mine = {r.name: ours(r) for r in repos}
    ours_inproc = time.perf_counter() - t0
    t0 = time.perf_counter()
    for r in repos:
        subprocess.run([sys.executable, "-m", "skill.cli", "ci", "audit", str(r), "--format", "json"],
                       capture_output=True, cwd=ROOT, check=False)  # fmt: skip
    ours_proc = time.perf_counter() - t0
    theirs: dict[str, list[dict]] = {}
    peer_time = None
    if cmd:
        t0 = time.perf_counter()
        theirs = {r.name: zizmor(cmd, r) for r in repos}
        peer_time = time.perf_counter() - t0
    else:
        print("zizmor is not installed (pip install zizmor, or the `test` extra): only our side is shown\n")

    verdicts = decisions()
    table: dict[str, Counter] = defaultdict(Counter)
    unmatched: list[tuple[str, str, str, dict]] = []
    for repo in repos:
        by_class_mine, by_class_peer = defaultdict(list), defaultdict(list)
        for f in mine[repo.name]:
            by_class_mine[OURS_CLASS.get(f["rule"], "ours:" + f["rule"])].append(f)
        for f in theirs.get(repo.name, []):
            by_class_peer[PEER_CLASS.get(f["rule"], "zizmor:" + f["rule"])].append(f)
        for cls in set(by_class_mine) | set(by_class_peer):
            both, only_mine, only_peer = match(
                by_class_mine[cls], by_class_peer[cls], GRANULARITY.get(cls, "line")
            )
            row = table[cls]
            row["both"] += len(both)
            row["ours"] += len(only_mine)
            row["peer"] += len(only_peer)
            for side, items in (("ours", only_mine), ("zizmor", only_peer)):
                if not cls.startswith(("ours:", "zizmor:")):
                    for f in items:
                        verdict = verdicts.get((repo.name, f["file"], f["line"], cls, side))
                        row["checked"] += verdict is not None
                        unmatched.append((cls, side, repo.name, {**f, "verdict": verdict}))
            for f in by_class_mine[cls]:  # every high of ours is hand-checked, agreed with the peer or not
                verdict = verdicts.get((repo.name, f["file"], f["line"], cls, "ours"))
                row["ours_wrong"] += verdict == "ours-wrong"
                if f["severity"] in ("high", "critical"):
                    row["ours_high"] += 1
                    row["high_checked"] += verdict is not None

    shared = [c for c in CLASSES if c in table]
    print(f"devops ci audit vs zizmor on {len(repos)} repositories ({args.corpus})")
    head = f"{'class':24} {'both':>5} {'ours':>5} {'zizmor':>6} {'checked':>7} {'ours-wrong':>10} {'ours high':>9}"
    print(head + f" {'high checked':>12}")
    for cls in shared:
        r = table[cls]
        print(
            f"{cls:24} {r['both']:5} {r['ours']:5} {r['peer']:6} {r['checked']:7} {r['ours_wrong']:10} "
            f"{r['ours_high']:9} {r['high_checked']:12}"
        )
    total = Counter()
    for cls in shared:
        total.update(table[cls])
    print(
        f"{'TOTAL (shared classes)':24} {total['both']:5} {total['ours']:5} {total['peer']:6} "
        f"{total['checked']:7} {total['ours_wrong']:10} {total['ours_high']:9} {total['high_checked']:12}"
    )
    print("\nclasses without a counterpart (counts):")
    for cls in sorted(c for c in table if c not in CLASSES):
        r = table[cls]
        print(f"  {cls:40} {r['ours'] + r['peer']:5}")
    infra_timings, infra_ratios = [], {}
    try:
        import peers_infra  # type: ignore[import-not-found]  # bench/peers_infra.py, the IaC half
    except ImportError:
        print("\n(bench/peers_infra.py not present: no checkov/hadolint rows)")
    else:
        print("\ninfrastructure peers (bench/peers_infra.py):")
        for row in peers_infra.rows():
            print(
                f"  {row.get('peer', ''):10} {row.get('class', ''):28} both {row.get('both', 0):4}  "
                f"ours {row.get('ours', 0):4}  peer {row.get('peer_only', 0):4}  ours-wrong {row.get('ours_wrong', '-')}"
            )
        infra_timings = list(getattr(peers_infra, "timings", list)())
        infra_ratios = {row["peer"]: (row.get("ours_s"), row.get("peer_s")) for row in peers_infra.rows()}

    unchecked = [u for u in unmatched if u[3]["verdict"] is None]
    print(f"\nhand check: {len(unmatched) - len(unchecked)} of {len(unmatched)} disagreements have a decision "
          f"in {DECISIONS.relative_to(ROOT)}; ours wrong: {total['ours_wrong']}")  # fmt: skip
    if args.show or unchecked:
        for cls, side, repo, f in sorted(
            unmatched, key=lambda u: (u[0], u[1], u[2], u[3]["file"], u[3]["line"] or 0)
        ):
            if args.show or f["verdict"] is None:
                mark = f["verdict"] or "UNCHECKED"
                print(
                    f"  | {repo} | {f['file']} | {f['line']} | {cls} | {side} | {mark} | {f['message'][:70]}"
                )

    print("\nrun time over the same repositories:")
    print(f"  devops ci audit, in process   {ours_inproc:7.3f} s")
    print(f"  devops ci audit, as processes {ours_proc:7.3f} s")
    if peer_time is not None:
        print(
            f"  zizmor (baseline), processes  {peer_time:7.3f} s   ratio ours/zizmor {ours_proc / peer_time:.2f}"
        )
    for label, seconds in infra_timings:
        print(f"  {label:29} {seconds:7.3f} s")
    for peer, (ours_s, peer_s) in infra_ratios.items():
        if ours_s and peer_s:  # ours in process, the peer as processes (its start-up is part of its cost)
            print(f"  ratio ours/{peer:18} {ours_s / peer_s:7.3f}")


if __name__ == "__main__":
    main()
