"""Hybrid retrieval: safe FTS5 queries, IDF coverage, and the fusion of lexical and vector evidence.

Why not plain reciprocal rank fusion: RRF gives the top lexical hit the same bonus whether it
matched the query's rare identifiers or one generic word. On paraphrased symptom queries the
lexical list is mostly noise, and RRF lets that noise push the right answer down (measured in
reference/memory.md §7 and in bench/bench_memory_quality.py). Here the lexical evidence is an
absolute, bounded number instead of a rank: the IDF-weighted share of the query's terms that a
memory contains ("coverage", 0..1). A paraphrase that shares one common word with a memory has a
coverage near 0 and barely moves it; a query of error codes, versions and service names that a
memory matches nearly in full has a coverage near 1 and lifts it above semantic neighbours.

    relevance = cosine + LEX_WEIGHT * coverage ** 2
    score     = relevance + RECENCY_WEIGHT * 0.5 ** (age / half_life(kind))
                          + IMPORTANCE_WEIGHT * (importance - 0.5) (+ a small bonus for resolved incidents)

Recency and importance are the Generative Agents terms, kept small so that they order
near-equals instead of overriding relevance.
"""

from __future__ import annotations

import math
import re

LEX_WEIGHT = 0.5
LEX_POWER = 2.0
RECENCY_WEIGHT = 0.05
IMPORTANCE_WEIGHT = 0.1
RESOLUTION_BONUS = 0.02
CANDIDATES = 100

# How strong a match must be to be shown as a similar incident, or to have its resolution
# suggested. Calibrated on the post-mortem corpus with both query sets (bench_memory_quality):
# the best relevant memory reaches 0.40 for 83 % of the queries while the best unrelated one
# passes it for 60 %, and 0.55 for 5 % — so a same-service match needs 0.40 (the service already
# narrowed the field) and another service's incident needs 0.55 before it is shown at all.
MATCH_THRESHOLD = 0.40
OTHER_SERVICE_THRESHOLD = 0.55
# Without vectors (model unavailable) only lexical coverage is known: most of the query's weight.
COVERAGE_THRESHOLD = 0.6

# Where the hybrid uses the normalised query (normalize_query): chosen on the dev query set.
EXPAND_LEXICAL = True
EXPAND_VECTOR = True
# The query vector is the typed query's plus this share of the normalised one's: the shorthand's
# meaning is added without letting the appended words pull a plain paraphrase off course.
EXPANSION_VECTOR_WEIGHT = 2.0
HALF_LIFE_DAYS = {"deployment": 7.0, "ci_failure": 14.0, "note": 90.0, "incident": 365.0, "resolution": 365.0}

STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being between both but by
    can could did do does doing down during each few for from further had has have having he her here hers
    him his how i if in into is it its itself just me more most my no nor not now of off on once only or
    other our out over own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom why will with
    would you your yours was were get got""".split()
)

# A "term" is a run of word characters possibly joined by . - / : _ (v1.4.2, api-gateway, 10.0.0.1:443).
_TERM = re.compile(r"[\w]+(?:[.\-/:_][\w]+)*", re.UNICODE)


def query_terms(text: str) -> list[str]:
    """The distinct search terms of user text, stopwords dropped, order kept."""
    seen: dict[str, None] = {}
    for raw in _TERM.findall(text or ""):
        term = raw.casefold()
        if term in STOPWORDS or (len(term) == 1 and not term.isdigit()):
            continue
        seen.setdefault(term, None)
    return list(seen)


def fts_phrase(term: str) -> str:
    """One term as an FTS5 string: quoted, so '.', '-', ':' and operators are plain text."""
    return '"' + term.replace('"', '""') + '"'


def fts_query(text: str) -> str | None:
    """User text -> an FTS5 expression that ORs the quoted terms (never raises a syntax error)."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join(fts_phrase(t) for t in terms)


def idf(df: int, n: int) -> float:
    """BM25's IDF (always positive)."""
    return math.log((n - df + 0.5) / (df + 0.5) + 1.0)


def coverage(matched: dict[str, bool], idfs: dict[str, float]) -> float:
    total = sum(idfs.values())
    if total <= 0:
        return 0.0
    return sum(idfs[t] for t, hit in matched.items() if hit) / total


def relevance(
    cos: float, cov: float, *, lex_weight: float | None = None, power: float | None = None
) -> float:
    lex_weight = LEX_WEIGHT if lex_weight is None else lex_weight
    power = LEX_POWER if power is None else power
    return cos + lex_weight * (cov**power)


def recency(age_days: float, kind: str) -> float:
    half = HALF_LIFE_DAYS.get(kind, 90.0)
    return 0.5 ** (max(age_days, 0.0) / half)


def rrf(ranks: list[int | None], k: int = 60, weights: list[float] | None = None) -> float:
    """Reciprocal rank fusion, kept for the evaluation's comparison."""
    weights = weights or [1.0] * len(ranks)
    return sum(w / (k + r) for r, w in zip(ranks, weights, strict=True) if r is not None)


def match_strength(parts: dict) -> float:
    """The relevance a hit was scored with (cosine + lexical part), or its coverage without vectors."""
    if "cosine" in parts:
        return float(parts.get("relevance", parts["cosine"]))
    return float(parts.get("coverage", 0.0))


def is_strong(parts: dict, *, other_service: bool = False) -> bool:
    """Whether a hit is a match worth acting on (see MATCH_THRESHOLD)."""
    if "cosine" not in parts:
        return match_strength(parts) >= COVERAGE_THRESHOLD + (0.2 if other_service else 0.0)
    return match_strength(parts) >= (OTHER_SERVICE_THRESHOLD if other_service else MATCH_THRESHOLD)


# On-call shorthand -> the words write-ups use for the same thing. Applied to the query only
# (memories keep their text): "pods OOMKilled" also asks for "out of memory", "5xx" for
# "errors", "db" for "database". Tuned on the on-call dev query set, never on the held-out half.
OPS_VOCABULARY: dict[str, str] = {
    "5xx": "errors server error 500 502 503",
    "4xx": "errors client error 404",
    "500": "errors server error",
    "502": "errors bad gateway",
    "503": "errors unavailable",
    "504": "errors timeout gateway",
    "404": "errors not found",
    "oom": "out of memory",
    "oomed": "out of memory",
    "oomkilled": "out of memory killed",
    "crashloop": "crash restart",
    "crashloopbackoff": "crash restart",
    "segfault": "crash",
    "segfaulted": "crash",
    "bluescreen": "crash",
    "bluescreens": "crash",
    "panicking": "crash panic",
    "db": "database",
    "dbs": "databases",
    "pg": "postgresql postgres database",
    "postgres": "postgresql database",
    "mongo": "mongodb database",
    "mysql": "mysql database",
    "k8s": "kubernetes cluster",
    "kube": "kubernetes",
    "pod": "kubernetes container",
    "pods": "kubernetes containers",
    "lb": "load balancer",
    "elb": "load balancer",
    "alb": "load balancer",
    "cert": "certificate",
    "certs": "certificates",
    "tls": "certificate",
    "creds": "credentials",
    "secrets": "credentials",
    "acl": "firewall rules",
    "dns": "dns resolution",
    "az": "availability zone",
    "vm": "instance",
    "vms": "instances",
    "p99": "latency slow",
    "p95": "latency slow",
    "hangs": "unresponsive stuck",
    "hung": "unresponsive stuck deadlock",
    "froze": "unresponsive stuck",
    "frozen": "unresponsive stuck",
    "flapping": "unavailable unresponsive",
    "typo": "human error",
    "fat-fingered": "typo human error",
    "nuked": "deleted",
    "wiped": "deleted",
    "dropped": "deleted",
    "purged": "deleted",
    "ddos": "attack traffic",
    "xid": "transaction id wraparound",
    "leaked": "leak",
    "cron": "batch job",
    "pegged": "cpu load",
    "signin": "login authentication",
    "login": "authentication",
}


def normalize_query(text: str) -> str:
    """The query plus the write-up words for the on-call shorthand it uses (never removes words)."""
    extra: list[str] = []
    for term in query_terms(text):
        expansion = OPS_VOCABULARY.get(term)
        if expansion:
            extra.extend(w for w in expansion.split() if w not in extra)
    if not extra:
        return text
    return f"{text} ({' '.join(extra)})"


def blend_query_vectors(typed, expanded=None):
    """``typed`` + EXPANSION_VECTOR_WEIGHT * ``expanded``, L2-normalised (cosine stays a cosine)."""
    import numpy as np

    if expanded is None or EXPANSION_VECTOR_WEIGHT <= 0:
        return typed
    v = np.asarray(typed, dtype=np.float32) + EXPANSION_VECTOR_WEIGHT * np.asarray(expanded, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else typed


# The scoring of one recall, as pure functions of plain values (recall gathers them).
def score(
    kind: str,
    importance: float,
    resolved: bool,
    created_ts: float,
    p: dict,
    cov: float,
    mode: str,
    now: float,
) -> float:
    """One candidate's score; in hybrid mode the parts are written into ``p`` (--explain shows them)."""
    cos = p.get("cosine", 0.0)
    if mode == "lexical":
        return p.get("bm25", 0.0)
    if mode == "vector":
        return cos
    rel = relevance(cos, cov)
    age_days = max(now - created_ts, 0.0) / 86400.0
    rec_term = RECENCY_WEIGHT * recency(age_days, kind)
    imp_term = IMPORTANCE_WEIGHT * (importance - 0.5)
    bonus = RESOLUTION_BONUS if resolved else 0.0
    p.update(coverage=cov, relevance=rel, recency=rec_term, importance=imp_term, resolution_bonus=bonus)
    return rel + rec_term + imp_term + bonus


def coverage_text(terms: list[str], text: str) -> float:
    words = set(query_terms(text))
    if not terms:
        return 0.0
    return sum(1 for t in terms if t in words) / len(terms)


def fold_links(hits: list) -> list:
    """Near-duplicates collapse into one hit: the original when it is among the hits, with the group's best score."""
    groups: dict[str, list] = {}
    for h in hits:  # hits arrive best first
        groups.setdefault(h.memory.linked_to or h.memory.id, []).append(h)
    out = []
    for root, members in groups.items():
        best = members[0]
        rep = next((h for h in members if h.memory.id == root), best)
        if rep is not best:
            rep = rep.model_copy(update={"score": best.score, "parts": dict(best.parts)})
        others = [h.memory.id for h in members if h is not rep and h.memory.id != rep.memory.id]
        if others:
            rep.parts["linked"] = others
        out.append(rep)
    out.sort(key=lambda h: -h.score)
    return out
