"""Incidents: opened, updated and resolved, every change kept as an incident event.

An incident is a row (its current state), its events (every change, so nothing is lost) and
memories (so recall and triage see its history and what resolved it).
"""

from __future__ import annotations

import uuid
from typing import Any

from skill.durations import iso, utcnow
from skill.errors import NotFoundError, UsageError
from skill.memory import search as S
from skill.memory.models import SEVERITIES, Incident
from skill.memory.records import OverRecords, prepare
from skill.memory.store import dumps, loads, scope_of, timestamp_of
from skill.redact import redact


class Incidents(OverRecords):
    @staticmethod
    def to_model(row: dict) -> Incident:
        return Incident(**{k: v for k, v in row.items() if k != "started_ts"})

    def row(self, incident_id: str) -> dict | None:
        rows = self.store.q("SELECT * FROM incidents WHERE id = ?", (incident_id,))
        return rows[0] if rows else None

    def next_id(self) -> str:
        # People number incidents INC-1, INC-42 ...; a generated id carries the date and a random
        # suffix, a form nobody types by hand, so it cannot take a number someone will use later.
        day = utcnow().strftime("%Y%m%d")
        while True:
            iid = f"INC-{day}-{uuid.uuid4().hex[:4]}"
            if not self.row(iid):
                return iid

    def check_line(self, prepared: dict) -> None:
        """Refuse a protocol line that names an existing incident but is about something else.

        Also fills in the service: the incident's own for an update, else ``service=`` in the line,
        else a known service (one with deployments or incidents) the text names.
        """
        rec, d = prepared["rec"], (prepared["side"].get("incident") or {})
        if d.get("_imported"):
            return
        existing = self.row(d["id"]) if d.get("id") else None
        if existing is not None:
            line_terms = _content_terms(" ".join(filter(None, (d.get("summary"), rec["service"]))))
            known = " ".join(
                filter(
                    None,
                    [existing[k] for k in ("title", "summary", "root_cause", "resolution", "service")]
                    + [
                        r["text"]
                        for r in self.store.q(
                            f"SELECT text FROM memories WHERE {self.store.json_text('metadata', 'incident_id')} = ?",
                            (d["id"],),
                        )
                    ],
                )
            )
            if line_terms and not line_terms & _content_terms(known):
                raise UsageError(
                    f"incident {d['id']} already exists and is about something else "
                    f"({existing['title']!r}); nothing was changed",
                    hint=f"to update it, name what it is about or use `incidents update {d['id']}`; "
                    "for a new incident use another id",
                )
            if not rec["service"] and existing["service"]:
                self.set_service(prepared, existing["service"], None)
            return
        if rec["service"]:
            return
        services = self.known_services_in(rec["text"])
        if len(services) == 1:
            self.set_service(
                prepared, services[0], f"service {services[0]} inferred from the text (a known service)"
            )
        elif len(services) > 1:
            prepared["notices"].append(
                f"no service recorded: the text names several known services ({', '.join(services)}); "
                "add service=NAME to the line"
            )
        else:
            prepared["notices"].append(
                "no service recorded: the text names no known service; add service=NAME to the line"
            )

    @staticmethod
    def set_service(prepared: dict, service: str, notice: str | None) -> None:
        prepared["rec"]["service"] = service
        prepared["rec"]["scope"] = scope_of(prepared["rec"]["kind"], service)
        if notice:
            prepared["notices"].append(notice)

    def known_services_in(self, text: str) -> list[str]:
        known = {
            r["service"].casefold(): r["service"]
            for r in self.store.q(
                "SELECT DISTINCT service FROM deployments WHERE retracted_at IS NULL "
                "UNION SELECT DISTINCT service FROM incidents WHERE service IS NOT NULL"
            )
            if r["service"]
        }
        words = {w.casefold() for w in S.query_terms(text)}
        found = sorted({known[w] for w in words if w in known})
        # "payments-api" also names "payments" when both are known: keep the most specific.
        return [f for f in found if not any(o != f and f.casefold() in o.casefold() for o in found)]

    def upsert_from_memory(self, rec: dict, d: dict) -> Incident:
        iid = d.get("id") or self.next_id()
        existing = self.row(iid)
        if existing is not None and d.get("_imported"):
            # An exported incident snapshot never rewrites an incident this home already has.
            return self.to_model(existing)
        now = iso(utcnow())
        if existing is None:
            inc = {
                "id": iid,
                "title": d.get("title") or d.get("summary") or rec["text"][:120],
                "severity": d.get("severity") or "SEV3",
                "service": rec["service"],
                "status": d.get("status") or ("resolved" if d.get("resolution") else "open"),
                "started": d.get("started") or rec["created_at"],
                "started_ts": timestamp_of(d.get("started")) or rec["created_ts"],
                "resolved": d.get("resolved") or (now if d.get("resolution") else None),
                "summary": d.get("summary"),
                "root_cause": d.get("root_cause"),
                "resolution": d.get("resolution"),
                "memory_id": rec["id"],
                "updated_at": now,
            }
            self.store.execute(
                f"INSERT INTO incidents ({', '.join(inc)}) VALUES ({', '.join('?' * len(inc))})",
                tuple(inc.values()),
            )
            self.event(iid, {"opened": {k: v for k, v in inc.items() if v is not None}})
        else:
            change = {k: v for k, v in d.items() if k in ("summary", "resolution", "root_cause") and v}
            if rec["service"] and not existing["service"]:
                change["service"] = rec["service"]
            if change.get("resolution"):
                change.setdefault("status", "resolved")
                change["resolved"] = now
            change["memory_id"] = rec["id"]
            self.apply_change(iid, change)
        if rec["kind"] == "incident":
            meta = loads(rec["metadata"], {})
            meta.setdefault("incident_id", iid)
            if not d.get("_imported"):
                # An exported incident's memory already carries its metadata as it was.
                meta.update({"incident_id": iid, "resolution": d.get("resolution")})
            meta = {k: v for k, v in meta.items() if v is not None}
            rec["metadata"] = dumps(meta)
            self.store.execute("UPDATE memories SET metadata = ? WHERE id = ?", (rec["metadata"], rec["id"]))
        return self.to_model(self.row(iid))

    def event(self, iid: str, change: dict) -> None:
        self.store.execute(
            "INSERT INTO incident_events(incident_id, at, change) VALUES (?, ?, ?)",
            (iid, iso(utcnow()), dumps(change)),
        )

    def apply_change(self, iid: str, change: dict) -> None:
        cols = ", ".join(f"{k} = ?" for k in change)
        self.store.execute(
            f"UPDATE incidents SET {cols}, updated_at = ? WHERE id = ?",
            (*change.values(), iso(utcnow()), iid),
        )
        self.event(iid, change)

    def open(
        self, title: str, *, severity: str = "SEV3", service=None, summary=None, id=None, started=None
    ) -> Incident:  # noqa: A002
        if not title or not title.strip():
            raise UsageError("an incident needs a title")
        severity = (severity or "SEV3").upper()
        if severity not in SEVERITIES:
            raise UsageError(f"unknown severity {severity!r}", hint=", ".join(SEVERITIES))
        if id and self.row(id):
            raise UsageError(f"incident {id} already exists", hint="use `incidents update`")
        iid = id or self.next_id()
        text = f"Incident {iid} ({severity}): {redact(title.strip())}"
        if summary:
            text += f". {summary}"
        prepared = prepare(
            text,
            kind="incident",
            service=service,
            importance=0.9 if severity in ("SEV1", "SEV2") else 0.7,
            source="incidents",
            metadata={"severity": severity},
            created_at=started,
            extra={
                "incident": {
                    "id": iid,
                    "title": redact(title.strip()),
                    "severity": severity,
                    "summary": redact(summary) if summary else None,
                    "started": started,
                }
            },
        )
        res = self.records.store_prepared([prepared])[0]
        if res.incident is None:
            raise UsageError(f"the same incident text is already remembered as {res.duplicate_of}")
        return res.incident

    def get(self, incident_id: str) -> Incident:
        row = self.row(incident_id)
        if not row:
            raise NotFoundError(f"no incident {incident_id!r}")
        return self.to_model(row)

    def update(self, id: str, **fields: Any) -> Incident:  # noqa: A002
        allowed = {"title", "severity", "service", "status", "summary", "root_cause", "resolution"}
        unknown = set(fields) - allowed
        if unknown:
            raise UsageError(f"cannot update incident field(s): {', '.join(sorted(unknown))}")
        self.get(id)
        change = {k: redact(str(v)) for k, v in fields.items() if v is not None}
        if "severity" in change:
            change["severity"] = change["severity"].upper()
            if change["severity"] not in SEVERITIES:
                raise UsageError(f"unknown severity {change['severity']!r}")
        if "status" in change and change["status"] not in ("open", "mitigated", "resolved"):
            raise UsageError(
                f"unknown incident status {change['status']!r}", hint="open, mitigated, resolved"
            )
        if not change:
            return self.get(id)
        self.store.write(lambda: self.apply_change(id, change))
        # The change itself is remembered, so recall and triage see the incident's history.
        text = f"Incident {id} update: " + "; ".join(f"{k}={v}" for k, v in change.items())
        inc = self.get(id)
        self.records.remember(
            text, kind="incident", service=inc.service, source="incidents", metadata={"incident_id": id}
        )
        return self.get(id)

    def resolve(self, id: str, *, resolution: str, root_cause: str | None = None) -> Incident:  # noqa: A002
        if not resolution or not resolution.strip():
            raise UsageError("resolving an incident needs a resolution")
        inc = self.get(id)
        change = {"status": "resolved", "resolved": iso(utcnow()), "resolution": redact(resolution.strip())}
        if root_cause:
            change["root_cause"] = redact(root_cause)
        self.store.write(lambda: self.apply_change(id, change))
        text = f"Incident {id} resolved: {inc.title}. Resolution: {change['resolution']}"
        if root_cause:
            text += f". Root cause: {change['root_cause']}"
        self.records.remember(
            text,
            kind="resolution",
            service=inc.service,
            importance=0.9,
            source="incidents",
            metadata={"incident_id": id, "resolution": change["resolution"]},
        )
        return self.get(id)

    def list(self, status=None, service=None, limit: int = 50) -> list[Incident]:
        where, params = ["TRUE"], []
        if status:
            where.append("status = ?")
            params.append(status)
        if service:
            where.append("lower(service) = lower(?)")
            params.append(service)
        rows = self.store.q(
            f"SELECT * FROM incidents WHERE {' AND '.join(where)} ORDER BY started_ts DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [self.to_model(r) for r in rows]


_INCIDENT_WORDS = frozenset(
    """incident issue outage problem update updated resolved resolve mitigated mitigate fixed fix closed
    close open opened reopened investigating ongoing still now rolled rollback back restarted restart
    postmortem sev1 sev2 sev3 sev4 status monitoring recovered""".split()
)


def _content_terms(text: str) -> set[str]:
    """A text's content words, crudely stemmed (errors -> error), without incident-status words."""
    out = set()
    for term in S.query_terms(text):
        if term in _INCIDENT_WORDS:
            continue
        out.add(term[:-1] if len(term) > 3 and term.endswith("s") else term)
    return out
