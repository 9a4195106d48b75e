"""What the SLO numbers must be, computed here from the synthetic samples, not by Prometheus.

Both counters of a service share their timestamps and start far from zero, so Prometheus'
``rate()`` extrapolates them by the same factor: the error ratio over a window is exactly
Δerrors / Δrequests between the first and last sample inside (at - window, at].
"""

from __future__ import annotations

from skill.slo.local_prometheus import SyntheticService


def error_ratio(service: SyntheticService, end: int, at: float, window_s: int) -> float | None:
    inside = [(t, r, e) for t, r, e in service.samples(end) if at - window_s < t <= at]
    if len(inside) < 2:
        return None
    requests = inside[-1][1] - inside[0][1]
    errors = inside[-1][2] - inside[0][2]
    return None if requests == 0 else errors / requests
