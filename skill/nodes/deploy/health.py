"""HTTP health gates: a timeout on every request, retries with exponential backoff and jitter.

A step passes when the health URL answers 2xx and, when the gate names a version, the
version URL (or the health body) reports exactly that version. A freshly rolled pod often
needs a few seconds, hence the retries; the backoff keeps a struggling service from being
hammered (wait n = min(initial * 2**n + uniform(0, jitter), max), as tenacity computes it).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable

from skill.nodes.deploy.models import HealthGate, HealthResult


@functools.lru_cache(maxsize=1)
def _tls_context():
    # Building a verifying TLS context costs ~0.1 s (loading the CA bundle); build it once per
    # process instead of once per health check or analysis run.
    import ssl

    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()


def http_client(timeout: float):
    """An httpx client with a timeout on every request, no proxies from the environment."""
    import httpx

    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context())


class _NotHealthy(Exception):
    def __init__(self, message: str, status_code: int | None = None, version: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.version = version


def _reported_version(response) -> str | None:
    text = response.text.strip()
    if not text:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return text.splitlines()[0].strip()
    if isinstance(body, dict):
        for key in ("version", "app_version", "build", "commit", "sha"):
            if body.get(key):
                return str(body[key])
        return None
    return str(body)


_HEX = re.compile(r"[0-9a-f]{7,64}")


def same_version(expected: str, reported: str | None) -> bool:
    """Whether the service reports the version that was deployed.

    Services report versions their own way: ``1.4.0`` for the tag ``v1.4.0``, the full 40-hex
    commit for a 7-hex short SHA, or ``name@sha256:...`` for a digest. Those count as the same;
    anything else (another version, nothing) does not.
    """
    if reported is None:
        return False
    want, got = expected.strip(), reported.strip()
    if want == got:
        return True
    if want.lower().lstrip("v") == got.lower().lstrip("v") and want[:1].lower() in "v0123456789":
        return True
    w, g = want.lower(), got.lower()
    if _HEX.fullmatch(w) and _HEX.fullmatch(g):
        return w.startswith(g) or g.startswith(w)
    if "sha256:" in w or "sha512:" in w:
        return w.split("@")[-1] == g.split("@")[-1]
    return False


def check_health(gate: HealthGate, *, sleep: Callable[[float], None] = time.sleep) -> HealthResult:
    """Probe ``gate.url`` until healthy or out of attempts; never raises for an unhealthy service."""
    import httpx
    from tenacity import (
        RetryError,
        Retrying,
        retry_if_exception_type,
        stop_after_attempt,
        wait_exponential_jitter,
    )

    waits: list[float] = []
    attempts = 0
    last: dict = {}

    def recording_sleep(seconds: float) -> None:
        waits.append(round(seconds, 4))
        sleep(seconds)

    def probe(client: httpx.Client) -> HealthResult:
        nonlocal attempts
        attempts += 1
        try:
            response = client.get(gate.url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            last.update(error=f"{type(exc).__name__}: {exc}" or type(exc).__name__, status_code=None)
            raise _NotHealthy(last["error"]) from exc
        last.update(status_code=response.status_code)
        if not response.is_success:
            last["error"] = f"HTTP {response.status_code} from {gate.url}"
            raise _NotHealthy(last["error"], response.status_code)
        version = None
        if gate.expect_version:
            if gate.version_url:
                try:
                    vresp = client.get(gate.version_url)
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    last["error"] = f"version check: {type(exc).__name__}: {exc}"
                    raise _NotHealthy(last["error"], response.status_code) from exc
                version = _reported_version(vresp) if vresp.is_success else None
            else:
                version = _reported_version(response)
            last["version"] = version
            if not same_version(gate.expect_version, version):
                last["error"] = f"serving version {version!r}, expected {gate.expect_version!r}"
                raise _NotHealthy(last["error"], response.status_code, version)
        last["error"] = None
        return HealthResult(
            url=gate.url, ok=True, attempts=attempts, status_code=response.status_code, version=version
        )

    retrying = Retrying(
        stop=stop_after_attempt(max(1, gate.attempts)),
        wait=wait_exponential_jitter(
            multiplier=gate.backoff_initial, max=gate.backoff_max, jitter=gate.jitter
        ),
        retry=retry_if_exception_type(_NotHealthy),
        sleep=recording_sleep,
        reraise=False,
    )
    with http_client(gate.timeout) as client:
        try:
            result = retrying(probe, client)
        except RetryError:
            return HealthResult(
                url=gate.url,
                ok=False,
                attempts=attempts,
                status_code=last.get("status_code"),
                version=last.get("version"),
                error=last.get("error") or "unhealthy",
                waits=waits,
            )
    result.waits = waits
    return result
