"""A small Prometheus HTTP API client that batches many SLO expressions into few queries.

Prometheus has no multi-query endpoint, but ``or`` of vectors whose label sets differ keeps
every element: each expression gets a ``label_replace`` tag (``devops_batch``) naming it, and
one instant or range query returns them all. Queries are POSTed (form encoded), so long batches
are not limited by URL length, and a few run at once (Prometheus evaluates each on one core).
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from skill.errors import ToolFailedError

TAG = "devops_batch"
BATCH_SIZE = 40  # expressions per query: keeps one query's cost and size bounded
PARALLEL = 4  # batches in flight at once: Prometheus evaluates each query on one core


class PrometheusError(ToolFailedError):
    """Prometheus could not be reached or answered something that is not its API."""


def _number(raw) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


@dataclass
class Prometheus:
    url: str
    timeout: float = 10.0
    queries: int = 0
    _client: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise PrometheusError(f"Prometheus URL {self.url!r} is not an http(s) URL")

    def _http(self):
        if self._client is None:
            from skill.nodes.deploy.health import http_client

            self._client = http_client(self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Prometheus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, path: str, params: dict) -> dict:
        import httpx

        with self._lock:
            self.queries += 1
        try:
            response = self._http().post(self.url + path, data=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise PrometheusError(f"Prometheus at {self.url}: HTTP {response.status_code}, not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            if isinstance(body, dict) and body.get("status") == "error":
                raise PrometheusError(
                    f"Prometheus at {self.url}: {body.get('errorType')}: {body.get('error')}"
                )
            raise PrometheusError(f"Prometheus at {self.url}: HTTP {response.status_code}, not its API")
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus at {self.url}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[tuple[dict, float | None]]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._call("/api/v1/query", params)
        if data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
            raise PrometheusError(
                f"Prometheus at {self.url}: expected a vector, got {data.get('resultType')}"
            )
        return [
            (item.get("metric") or {}, _number((item.get("value") or [None, None])[1]))
            for item in data["result"]
        ]

    def query_range(self, expr: str, start: float, end: float, step: int) -> list[tuple[dict, list]]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)}
        data = self._call("/api/v1/query_range", params)
        if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
            raise PrometheusError(
                f"Prometheus at {self.url}: expected a matrix, got {data.get('resultType')}"
            )
        return [
            (item.get("metric") or {}, [(float(t), _number(v)) for t, v in item.get("values") or []])
            for item in data["result"]
        ]


def tagged(expr: str, tag: str) -> str:
    return f'label_replace({expr}, "{TAG}", "{tag}", "", "")'


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in_parallel(fn, chunks: list) -> list:
    if len(chunks) <= 1:
        return [fn(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(chunks))) as pool:
        return list(pool.map(fn, chunks))


def _joined(chunk: list[tuple[str, str]]) -> str:
    return "\nor\n".join(tagged(f"({expr})", name) for name, expr in chunk)


def batch_query(
    prom: Prometheus, exprs: dict[str, str] | list[dict[str, str]], at: float | None = None
) -> dict[str, float | None]:
    """{name: value}: the worst (highest) value of each expression; None when it has no data.

    ``exprs`` may come in groups that are never mixed in one query: Prometheus loads the data of
    every selector in a query over the widest range any of them asks for, so a 5m rate batched
    with a 30d one would read 30 days. Group expressions by range window.
    """
    groups = exprs if isinstance(exprs, list) else [exprs]
    out: dict[str, float | None] = {name: None for group in groups for name in group}
    chunks = [chunk for group in groups for chunk in _chunks(list(group.items()), BATCH_SIZE)]
    answers = _in_parallel(lambda chunk: prom.query(_joined(chunk), at), chunks)
    for result in answers:
        for labels, value in result:
            name = labels.get(TAG)
            if name in out and value is not None:
                out[name] = value if out[name] is None else max(out[name], value)
    return out


def batch_range(
    prom: Prometheus, exprs: dict[str, str], start: float, end: float, step: int
) -> dict[str, dict[float, float]]:
    """{name: {timestamp: worst value}} over the range."""
    out: dict[str, dict[float, float]] = {name: {} for name in exprs}
    chunks = list(_chunks(list(exprs.items()), BATCH_SIZE))
    for result in _in_parallel(lambda chunk: prom.query_range(_joined(chunk), start, end, step), chunks):
        for labels, values in result:
            series = out.get(labels.get(TAG))
            if series is None:
                continue
            for t, v in values:
                if v is not None:
                    series[t] = max(series.get(t, v), v)
    return out
