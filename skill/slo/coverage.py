"""Which SLOs declared in a repository have burn-rate alerts (for readiness ``repo.slo``/``repo.slo-alerts``).

Works on already parsed YAML documents (the readiness scan's), so a half-written spec never
stops a review: a declaration is recognised by its shape, not validated.

An SLO counts as covered when its alerts are generated for it by an operator (Sloth's
``PrometheusServiceLevel``, Pyrra's ``ServiceLevelObjective``) or an alerting rule in the
repository belongs to it: labelled with its id (``slo_id``, as ``devops slo generate`` writes;
``sloth_id``/``sloth_service`` + ``sloth_slo`` as ``sloth generate`` writes), named as its
spec names the alert, or a burn-rate expression over the service's own series.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BURN_EXPR = re.compile(r"slo:sli_error|burn[_ -]?rate|error_budget", re.IGNORECASE)


@dataclass
class DeclaredSLO:
    service: str
    name: str
    file: str
    line: int
    alert_names: set[str] = field(default_factory=set)
    generated: bool = False  # an operator generates its alerts at deploy time

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def label(self) -> str:
        return f"{self.service}/{self.name}"


def _line(obj: Any, key: str | None = None) -> int:
    if key is not None and hasattr(obj, "line_of"):
        return obj.line_of(key)
    return getattr(obj, "line", 1) or 1


def _entries(doc: dict, file: str, service: Any, slos: Any, generated: bool) -> list[DeclaredSLO]:
    from skill.slo.rules import default_alert_name

    out = []
    for item in slos if isinstance(slos, list) else []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        svc = str(item.get("service") or service or "")
        name = str(item["name"])
        alerting = item.get("alerting") if isinstance(item.get("alerting"), dict) else {}
        names = {str(alerting["name"])} if alerting.get("name") else {default_alert_name(svc, name)}
        out.append(DeclaredSLO(svc, name, file, _line(item), names, generated))
    return out


def declared_slos(docs: Iterable[tuple[str, Any]]) -> list[DeclaredSLO]:
    """SLOs declared in YAML documents: ours, Sloth (file and object), OpenSLO, Pyrra."""
    out: list[DeclaredSLO] = []
    for file, doc in docs:
        if not isinstance(doc, dict):
            continue
        api, kind = str(doc.get("apiVersion") or ""), str(doc.get("kind") or "")
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        if api.startswith("openslo/") and kind == "SLO":
            out.append(
                DeclaredSLO(str(spec.get("service") or ""), str(meta.get("name") or ""), file, _line(doc))
            )
        elif api.startswith("pyrra.dev") and kind == "ServiceLevelObjective":
            out.append(
                DeclaredSLO(
                    str(meta.get("namespace") or ""),
                    str(meta.get("name") or ""),
                    file,
                    _line(doc),
                    generated=True,
                )
            )
        elif api.startswith("sloth.slok.dev"):
            out += _entries(doc, file, spec.get("service"), spec.get("slos"), generated=True)
        elif str(doc.get("version") or "").startswith("prometheus/v"):
            out += _entries(doc, file, doc.get("service"), doc.get("slos"), generated=False)
        elif not api and not kind and isinstance(doc.get("slos"), list):
            out += _entries(doc, file, doc.get("service"), doc.get("slos"), generated=False)
    return out


def covers(slo: DeclaredSLO, rule: dict) -> bool:
    labels = rule.get("labels") if isinstance(rule.get("labels"), dict) else {}
    if labels.get("slo_id") == slo.id or labels.get("sloth_id") == slo.id:
        return True
    if labels.get("sloth_service") == slo.service and labels.get("sloth_slo") == slo.name:
        return True
    if str(rule.get("alert") or "") in slo.alert_names:
        return True
    expr = str(rule.get("expr") or "")
    return (
        bool(slo.service)
        and bool(BURN_EXPR.search(expr))
        and bool(re.search(r"[\"']" + re.escape(slo.service) + r"[\"']", expr))
    )


def uncovered(slos: list[DeclaredSLO], rules: list[dict]) -> list[DeclaredSLO]:
    """The declared SLOs no rule or operator alerts on."""
    return [s for s in slos if not s.generated and not any(covers(s, r) for r in rules)]
