"""Triage: for a symptom, what changed recently (deployments, notes) and which past incidents match strongly."""

from __future__ import annotations

from skill.durations import iso, parse_duration, utcnow
from skill.errors import UsageError
from skill.memory import search as S
from skill.memory.context import MemoryContext
from skill.memory.deployments import Deployments
from skill.memory.incidents import Incidents
from skill.memory.models import Deployment, MemoryRecord, SimilarIncident, TriageReport
from skill.memory.recall import Recall
from skill.memory.records import Records
from skill.redact import redact


class Triage:
    def __init__(
        self,
        ctx: MemoryContext,
        records: Records,
        recall: Recall,
        deployments: Deployments,
        incidents: Incidents,
    ) -> None:
        self.ctx = ctx
        self.records = records
        self.recall = recall
        self.deployments = deployments
        self.incidents = incidents

    def triage(self, symptom: str, *, service=None, window: str = "24h", limit: int = 5) -> TriageReport:
        """Service and time window first (SQL), then similarity: what changed, what helped before."""
        if not symptom or not symptom.strip():
            raise UsageError("triage needs a symptom")
        span = parse_duration(window)
        since_dt = utcnow() - span
        since = iso(since_dt)
        self.ctx.warnings = []
        recent_deploys = self.deployments.list(service=service, since=since, limit=50)
        recent_changes = [
            m
            for m in self.records.list(service=service, since=since, limit=50)
            if m.kind in ("deployment", "ci_failure", "note")
        ]
        ranked, no_match = self.similar_incidents(symptom, service, limit)
        last_good = None
        if service:
            envs = [d.env for d in recent_deploys] or [
                d.env for d in self.deployments.list(service=service, limit=1)
            ]
            if envs:
                current = self.deployments.list(service=service, env=envs[0], limit=1)
                newest = current[0] if current else None
                before = newest.version if newest and newest.started >= since else None
                last_good = self.deployments.last_good_version(service, envs[0], before_version=before)
        suggestion = _suggest(service, recent_deploys, ranked, last_good, window, no_match)
        return TriageReport(
            symptom=redact(symptom),
            service=service,
            window=window,
            since=since,
            similar_incidents=ranked,
            recent_deploys=recent_deploys,
            recent_changes=recent_changes,
            last_good_version=last_good,
            suggestion=suggestion,
            no_strong_match=no_match,
            warnings=list(self.ctx.warnings),
        )

    def similar_incidents(
        self, symptom: str, service, limit: int
    ) -> tuple[list[SimilarIncident], str | None]:
        """Past incidents that match strongly: the service's own first, then other services' only
        above the stronger threshold, labelled; never padded with weak matches."""

        def same(m: MemoryRecord) -> bool:
            return bool(service and m.service and m.service.casefold() == service.casefold())

        pool = self.recall.recall(symptom, service=service, limit=limit * 4) if service else []
        seen = {h.memory.id for h in pool}
        pool += [h for h in self.recall.recall(symptom, limit=limit * 6) if h.memory.id not in seen]
        similar: dict[str, SimilarIncident] = {}
        best = 0.0
        for h in pool:
            m = h.memory
            if m.kind not in ("incident", "resolution"):
                continue
            best = max(best, S.match_strength(h.parts))
            other = bool(service) and not same(m)
            if not S.is_strong(h.parts, other_service=other):
                continue
            iid = (m.metadata or {}).get("incident_id")
            inc = self.incidents.row(iid) if iid else None
            key = iid or m.id
            inc_service = (inc or {}).get("service") or m.service
            if service and inc_service and inc_service.casefold() == service.casefold():
                match = "same service"
            elif service:
                match = "other service"
            else:
                match = "any service"
            resolution = (inc or {}).get("resolution") or (m.metadata or {}).get("resolution")
            score = h.score + (S.RESOLUTION_BONUS if resolution else 0.0)
            if key in similar and similar[key].score >= score:
                continue
            similar[key] = SimilarIncident(
                id=key,
                title=(inc or {}).get("title"),
                service=inc_service,
                status=(inc or {}).get("status"),
                severity=(inc or {}).get("severity"),
                started=(inc or {}).get("started") or m.created_at,
                resolution=resolution,
                root_cause=(inc or {}).get("root_cause"),
                text=m.text,
                score=round(score, 4),
                memory_id=m.id,
                relevance=round(S.match_strength(h.parts), 4),
                match=match,
            )
        ranked = sorted(similar.values(), key=lambda s: (s.match == "other service", -s.score))[:limit]
        no_match = None
        if not ranked:
            no_match = (
                f"no strong match among past incidents (best relevance {best:.2f}; a match needs "
                f"{S.MATCH_THRESHOLD:.2f}"
                + (f", {S.OTHER_SERVICE_THRESHOLD:.2f} on another service)" if service else ")")
            )
        return ranked, no_match


def _suggest(
    service,
    deploys: list[Deployment],
    similar: list[SimilarIncident],
    last_good,
    window: str,
    no_match: str | None = None,
) -> str:
    parts = []
    if deploys:
        d = deploys[0]
        if d.rolled_back_from:
            parts.append(
                f"{d.service} was rolled back from {d.rolled_back_from} to {d.version} in {d.env} at {d.started}: "
                "if the symptom persists, look beyond that release"
            )
        else:
            parts.append(
                f"{d.service} {d.version} was deployed to {d.env} at {d.started} (inside the {window} window): "
                "suspect the change first"
            )
            if last_good and last_good != d.version:
                parts.append(f"roll back to {last_good} if the symptom started after that deploy")
    elif service:
        parts.append(f"no deploys to {service} in the last {window}: look at config, dependencies and load")
    # Only strong matches reach here; the first one decides what is said, so a weaker incident's
    # resolution is never put ahead of the best match (which may not be resolved yet).
    if similar:
        top = similar[0]
        where = f" on another service ({top.service})" if top.match == "other service" else ""
        if top.resolution:
            parts.append(f"similar past incident {top.id}{where} was resolved by: {top.resolution}")
        else:
            parts.append(f"closest past incident: {top.id}{where} (no resolution recorded)")
    elif no_match:
        parts.append(no_match)
    if not parts:
        parts.append("no similar incidents or recent changes on record: investigate from the symptom")
    return "; ".join(parts) + "."
