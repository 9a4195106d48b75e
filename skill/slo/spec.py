"""Reading SLO specs: ``.devops/slo.yaml`` (our format), Sloth ``prometheus/v1`` (and its
``sloth.slok.dev/v1`` PrometheusServiceLevel object), and OpenSLO ``v1`` SLO + SLI documents.

Every format becomes the same :class:`~skill.slo.models.SLO`. Anything malformed is an
``InputError`` naming the file and the SLO, never a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from skill.errors import InputError
from skill.slo.models import SLO, WINDOW_RX, window_seconds

OWN_SPEC = (".devops/slo.yaml", ".devops/slo.yml")
# a file worth parsing when looking for SLOs in a repository
_MARKERS = re.compile(r"openslo/v1|prometheus/v1|sloth\.slok\.dev")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "vendor", "__pycache__", ".terraform", "dist", "build"}
_SELECTOR = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*(\{[^{}]*\})?$")
_MAX_BYTES = 2_000_000


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _build(data: dict[str, Any], source: str) -> SLO:
    label = f"{data.get('service', '?')}/{data.get('name', '?')}"
    try:
        return SLO.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise InputError(f"{source}: SLO {label}: {_first_error(exc)}") from exc


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def _snake_keys(value: Any) -> Any:
    """Sloth's Kubernetes object spells the file format's keys in camelCase (labels stay as written)."""
    if isinstance(value, dict):
        return {
            _snake(str(k)): v if k in ("labels", "annotations") else _snake_keys(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float | bool)}


def _own(doc: dict[str, Any], source: str, window: str | None) -> list[SLO]:
    items = doc.get("slos")
    if not isinstance(items, list):
        raise InputError(f"{source}: 'slos' must be a list of SLOs")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise InputError(f"{source}: every entry of 'slos' is a mapping, got {item!r}")
        data = {"service": doc.get("service"), "window": window or doc.get("window") or "30d", **item}
        if data.get("service") is None:
            data.pop("service")
        out.append(_build(data, source))
    return out


def _sloth(doc: dict[str, Any], source: str, window: str | None) -> list[SLO]:
    spec = doc.get("spec") if str(doc.get("apiVersion", "")).startswith("sloth.slok.dev") else doc
    spec = _snake_keys(spec or {})
    service, labels = spec.get("service"), _str_map(spec.get("labels"))
    if not isinstance(spec.get("slos"), list):
        raise InputError(f"{source}: a Sloth spec needs a 'slos' list")
    out = []
    for slo in spec["slos"]:
        if not isinstance(slo, dict):
            raise InputError(f"{source}: every Sloth SLO is a mapping")
        sli = slo.get("sli") or {}
        if "events" in sli:
            events = sli["events"] or {}
            sli_data = {"errors": events.get("error_query"), "total": events.get("total_query")}
        elif "raw" in sli:
            sli_data = {"error_ratio": (sli["raw"] or {}).get("error_ratio_query")}
        else:
            raise InputError(
                f"{source}: SLO {service}/{slo.get('name')}: only 'events' and 'raw' SLIs are supported"
            )
        alerting = slo.get("alerting") or {}
        page, ticket = alerting.get("page_alert") or {}, alerting.get("ticket_alert") or {}
        data = {
            "service": service,
            "name": slo.get("name"),
            "objective": slo.get("objective"),
            "description": slo.get("description") or "",
            "window": window or "30d",
            "labels": {**labels, **_str_map(slo.get("labels"))},
            "sli": sli_data,
            "alerting": {
                "name": alerting.get("name"),
                "labels": _str_map(alerting.get("labels")),
                "annotations": _str_map(alerting.get("annotations")),
                "page_labels": _str_map(page.get("labels")),
                "ticket_labels": _str_map(ticket.get("labels")),
                "disabled": bool(page.get("disable")) and bool(ticket.get("disable")),
            },
        }
        out.append(_build(data, source))
    return out


def _openslo_query(part: Any, what: str, counter: bool) -> str | None:
    if part is None:
        return None
    source = (part or {}).get("metricSource") or {}
    kind = str(source.get("type") or "Prometheus")
    query = (source.get("spec") or {}).get("query")
    if kind.lower() not in ("prometheus", "thanos", "mimir", "victoriametrics", "cortex"):
        raise ValueError(f"the {what} metric source {kind!r} is not Prometheus")
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"the {what} metric has no query")
    query = query.strip()
    if WINDOW_RX.search(query):
        return query
    # a bare counter selector (OpenSLO's counter: true) becomes its rate over each window
    if counter and _SELECTOR.match(query):
        return f"sum(rate({query}[{{{{.window}}}}]))"
    raise ValueError(f"the {what} query is neither a counter selector nor has a {{{{.window}}}} placeholder")


def _openslo(docs: list[tuple[dict[str, Any], str]], window: str | None) -> list[SLO]:
    indicators = {}
    for doc, source in docs:
        if doc.get("kind") == "SLI":
            indicators[str((doc.get("metadata") or {}).get("name"))] = (doc.get("spec") or {}, source)
    out = []
    for doc, source in docs:
        if doc.get("kind") != "SLO":
            continue
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        name = str(meta.get("name") or "")
        label = f"{spec.get('service', '?')}/{name or '?'}"
        if isinstance(spec.get("indicator"), dict):
            indicator, _ = (spec["indicator"].get("spec") or {}), source
        elif spec.get("indicatorRef") in indicators:
            indicator, _ = indicators[spec["indicatorRef"]]
        else:
            raise InputError(f"{source}: SLO {label}: indicator {spec.get('indicatorRef')!r} not found")
        ratio = indicator.get("ratioMetric")
        if not isinstance(ratio, dict):
            raise InputError(f"{source}: SLO {label}: only ratioMetric SLIs are supported")
        counter = bool(ratio.get("counter", True))
        try:
            sli = {
                "errors": _openslo_query(ratio.get("bad"), "bad", counter),
                "good": _openslo_query(ratio.get("good"), "good", counter),
                "total": _openslo_query(ratio.get("total"), "total", counter),
            }
        except ValueError as exc:
            raise InputError(f"{source}: SLO {label}: {exc}") from exc
        windows = spec.get("timeWindow") or [{}]
        slo_window = window or str((windows[0] or {}).get("duration") or "30d")
        objectives = spec.get("objectives") or []
        if not objectives:
            raise InputError(f"{source}: SLO {label}: no objectives")
        for n, objective in enumerate(objectives):
            if "targetPercent" in objective:
                target = objective["targetPercent"]
            elif isinstance(objective.get("target"), int | float):
                target = objective["target"] * 100
            else:
                raise InputError(f"{source}: SLO {label}: objective needs a target (0-1) or targetPercent")
            suffix = "" if len(objectives) == 1 else f"-{objective.get('displayName') or n + 1}"
            data = {
                "service": spec.get("service"),
                "name": re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{name}{suffix}"),
                "objective": target,
                "window": slo_window,
                "description": str(spec.get("description") or meta.get("displayName") or ""),
                "sli": {k: v for k, v in sli.items() if v},
            }
            out.append(_build(data, source))
    return out


def _documents(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}:{where} not valid YAML ({getattr(exc, 'problem', None) or exc})") from exc
    for doc in docs:
        if not isinstance(doc, dict):
            raise InputError(f"{path}: expected a mapping at the top, got {type(doc).__name__}")
    return docs


def parse_file(path: str | os.PathLike, *, window: str | None = None) -> list[SLO]:
    """The SLOs of one spec file, whatever its format."""
    path = Path(path)
    if window is not None:
        try:
            window_seconds(window)
        except ValueError as exc:
            raise InputError(f"--window: {exc}") from exc
    out, openslo = [], []
    for doc in _documents(path):
        api = str(doc.get("apiVersion") or "")
        if api.startswith("openslo/"):
            if api != "openslo/v1":
                raise InputError(f"{path}: {api} is not supported (openslo/v1 is)")
            openslo.append((doc, str(path)))
        elif str(doc.get("version") or "").startswith("prometheus/v") or api.startswith("sloth.slok.dev"):
            out += _sloth(doc, str(path), window)
        elif "slos" in doc:
            out += _own(doc, str(path), window)
        else:
            raise InputError(f"{path}: not an SLO spec (.devops/slo.yaml, Sloth prometheus/v1 or OpenSLO v1)")
    return out + _openslo(openslo, window)


def spec_files(root: str | os.PathLike) -> list[Path]:
    """Spec files in a repository: .devops/slo.yaml and any YAML carrying a Sloth/OpenSLO marker."""
    root = Path(root)
    found = [root / p for p in OWN_SPEC if (root / p).is_file()]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not name.endswith((".yaml", ".yml")) or path in found:
                continue
            try:
                if path.stat().st_size > _MAX_BYTES:
                    continue
                head = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if _MARKERS.search(head) and re.search(r"^\s*(slos|kind:\s*SLO)", head, re.MULTILINE):
                found.append(path)
    return found


def load_slos(path: str | os.PathLike = ".", *, window: str | None = None) -> list[SLO]:
    """Every SLO under ``path`` (a spec file or a repository folder); duplicates are an error."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    files = [path] if path.is_file() else spec_files(path)
    slos: dict[str, SLO] = {}
    for file in files:
        for slo in parse_file(file, window=window):
            if slo.id in slos:
                raise InputError(
                    f"{file}: SLO {slo.service}/{slo.name} is also defined in {slos[slo.id].source}"
                )
            slos[slo.id] = slo
    return list(slos.values())


def select(slos: list[SLO], service: str | None) -> list[SLO]:
    if not service:
        return slos
    chosen = [s for s in slos if s.service == service or s.id == service]
    if not chosen:
        known = ", ".join(sorted({s.service for s in slos})) or "none"
        raise InputError(f"no SLO for service {service!r} (services with SLOs: {known})")
    return chosen
