"""Which version strings may be deployed: immutable ones only.

A rollback plan is only as good as the version it returns to. ``latest`` or ``main`` name a
different build tomorrow, so they can neither be deployed nor rolled back to. Accepted:
git SHAs (7-40 hex), semantic versions (``v1.2.3``, ``1.2.3-rc.1+build.5``) and image
digests (``sha256:<64 hex>``, optionally prefixed ``name@``).
"""

from __future__ import annotations

import re
from typing import Literal

from skill.errors import UsageError

VersionKind = Literal["sha", "semver", "digest"]

_SHA = re.compile(r"[0-9a-f]{7,40}")
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_DIGEST = re.compile(r"(?:[\w./-]+@)?sha(?:256:[0-9a-f]{64}|512:[0-9a-f]{128})")

# Names that move: tags re-pointed on every build and branch names.
_MUTABLE = {
    "latest",
    "stable",
    "edge",
    "nightly",
    "head",
    "main",
    "master",
    "develop",
    "development",
    "dev",
    "trunk",
    "release",
    "prod",
    "production",
    "staging",
    "current",
    "snapshot",
}
_MUTABLE_PREFIXES = (
    "release/",
    "release-",
    "releases/",
    "feature/",
    "hotfix/",
    "bugfix/",
    "refs/",
    "origin/",
)


def classify_version(version: str) -> VersionKind:
    """The kind of an immutable version; raises UsageError for a mutable or malformed one."""
    raw = (version or "").strip()
    if not raw:
        raise UsageError("no version given", hint="pass a git SHA, a semver tag or an image digest")
    lowered = raw.lower()
    if lowered in _MUTABLE or lowered.startswith(_MUTABLE_PREFIXES) or lowered.endswith("-latest"):
        raise UsageError(
            f"refusing mutable version {raw!r}: it names a different build over time, so it cannot be "
            "verified or rolled back to",
            hint="deploy a git SHA (7-40 hex), a semver tag like v1.2.3, or an image digest sha256:...",
        )
    if _DIGEST.fullmatch(lowered):
        return "digest"
    if _SHA.fullmatch(lowered):
        return "sha"
    if _SEMVER.fullmatch(raw):
        return "semver"
    raise UsageError(
        f"refusing version {raw!r}: not a git SHA, a semver tag or an image digest",
        hint="branch names and free-form tags are mutable; use e.g. 3f2a9c1, v1.4.0 or sha256:<64 hex>",
    )


def is_immutable(version: str) -> bool:
    try:
        classify_version(version)
    except UsageError:
        return False
    return True
