"""Find the runbook for an incident in ``docs/runbooks/*.md`` of the target repository.

Scoring is plain term overlap, which is enough for a folder of a few dozen runbooks and
explains itself: the service named in the file name, title or a ``service:`` line counts 3;
a symptom term in the file name, title or a heading counts 2; in the body 1. A runbook must
share at least one symptom term to match (a service name alone is not a diagnosis).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*[a-z0-9]|[a-z0-9]")
_STOP = {
    "the",
    "and",
    "for",
    "with",
    "from",
    "that",
    "this",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "not",
    "but",
    "after",
    "before",
    "since",
    "into",
    "onto",
    "our",
    "all",
    "any",
    "some",
    "its",
    "too",
    "very",
    "when",
    "what",
    "how",
    "why",
    "who",
    "can",
    "cannot",
    "does",
    "did",
    "than",
    "then",
    "there",
    "their",
    "about",
    "over",
    "under",
    "again",
    "more",
    "most",
    "less",
    "seeing",
    "see",
    "users",
    "user",
    "service",
    "runbook",
    "step",
    "steps",
    "check",
    "checks",
    "you",
    "your",
    "will",
    "would",
    "should",
    "each",
    "also",
}
RUNBOOK_DIRS = ("docs/runbooks", "runbooks", "docs/runbook")


class RunbookMatch(BaseModel):
    path: str
    title: str
    score: float
    matched_terms: list[str]
    service_match: bool
    headings: list[str]
    excerpt: str


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    """Lower-cased, stemmed content words of ``text`` (``5xx``, ``oom`` and ``502`` survive)."""
    words: set[str] = set()
    from skill.nodes.incident.severity import split_camel

    for raw in _WORD.findall(split_camel(text or "").lower()):
        for word in re.split(r"[._-]", raw) if not raw[0].isdigit() else [raw]:
            if (
                len(word) >= 3
                and word not in _STOP
                or word in ("db", "5xx", "oom", "dns", "tls", "ssl", "cpu")
            ):
                words.add(_stem(word))
    return words


def _parse(path: Path) -> tuple[str, list[str], str, set[str]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    title, headings, services = "", [], set()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
            if not title and stripped.startswith("# "):
                title = heading
            else:
                headings.append(heading)
        match = re.match(r"(?i)^\s*(?:\*\*)?services?(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.+)$", line)
        if match:
            services |= {
                s.strip(" `*").lower() for s in re.split(r"[,\s]+", match.group(1)) if s.strip(" `*")
            }
    return title or path.stem.replace("-", " ").replace("_", " "), headings, text, services


def find_runbooks(
    symptoms: str, service: str | None = None, repo: str | Path = ".", limit: int = 3
) -> list[RunbookMatch]:
    """Runbooks ranked by match, best first (empty when none shares a symptom term)."""
    root = Path(repo)
    files: list[Path] = []
    for folder in RUNBOOK_DIRS:
        base = root / folder
        if base.is_dir():
            files += sorted(p for p in base.rglob("*.md") if p.is_file())
    wanted = terms(symptoms)
    svc = (service or "").strip().lower()
    matches: list[RunbookMatch] = []
    for path in files:
        try:
            title, headings, body, services = _parse(path)
        except OSError:
            continue
        strong = terms(" ".join([path.stem, title, *headings]))
        weak = terms(body)
        hit_terms = sorted(t for t in wanted if t in strong or t in weak)
        if not hit_terms:
            continue
        score = sum(2.0 if t in strong else 1.0 for t in hit_terms)
        service_match = bool(svc) and (
            svc in services
            or svc in path.stem.lower().split("-")
            or svc in title.lower().split()
            or svc == path.stem.lower()
        )
        if service_match:
            score += 3.0
        elif svc and services and "all" not in services and "*" not in services:
            score -= 1.0  # written for another service
        excerpt = next(
            (
                line.strip()
                for line in body.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ),
            "",
        )
        matches.append(
            RunbookMatch(
                path=str(path.relative_to(root)) if path.is_relative_to(root) else str(path),
                title=title,
                score=score,
                matched_terms=hit_terms,
                service_match=service_match,
                headings=headings[:12],
                excerpt=excerpt[:300],
            )
        )
    matches.sort(key=lambda m: (-m.score, m.path))
    return matches[:limit]


def find_runbook(symptoms: str, service: str | None = None, repo: str | Path = ".") -> RunbookMatch | None:
    found = find_runbooks(symptoms, service, repo, limit=1)
    return found[0] if found else None
