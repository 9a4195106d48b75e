"""The one environment vocabulary: which environment a name, a target or a host points at.

The gate, routing, deploys, memory and the IaC checks all use it, so ``qa`` means staging
everywhere. Stdlib only (it is on the hook's hot path). Production is matched on whole name segments so that ``product-api``
or ``reproduce`` do not count as production, while ``prod``, ``api-prod``, ``prd-eu-1``,
``live`` and ``production.us-east-1`` do.
"""

from __future__ import annotations

PRODUCTION = "production"
STAGING = "staging"
DEVELOPMENT = "development"

# Whole-segment aliases, most severe first: a name mentioning both prod and staging is production.
_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (PRODUCTION, ("production", "prod", "prd", "live", "prod1", "prod2", "prodeu", "produs")),
    (STAGING, ("staging", "stage", "stg", "preprod", "pre-prod", "uat", "qa", "preview", "canary-staging")),
    (
        DEVELOPMENT,
        (
            "development",
            "dev",
            "develop",
            "sandbox",
            "sbx",
            "test",
            "testing",
            "local",
            "localhost",
            "ci",
            "minikube",
            "kind",
            "docker-desktop",
            "k3d",
            "scratch",
            "tmp",
            "demo",
            "lab",
        ),
    ),
)
# The aliases a free-text request may use for an environment ("deploy api to qa"). Words such as
# "ci", "local", "kind" or "lab" name environments in a kube context but are ordinary words in prose.
PROSE_WORDS: tuple[str, ...] = (
    "production",
    "prod",
    "prd",
    "live",
    "staging",
    "stage",
    "stg",
    "preprod",
    "uat",
    "qa",
    "development",
    "dev",
    "sandbox",
    "test",
)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_LOOKUP = {alias: env for env, aliases in _ALIASES for alias in aliases if "-" not in alias}


def normalize(env: str | None) -> str | None:
    """Map a user-given environment name (``prod``, ``PRD``, ``stage``) to its canonical name."""
    if not env:
        return None
    found = infer_environment(env)
    return found or env.strip().lower()


def infer_environment(*texts: str | None) -> str | None:
    """The most severe environment named by any of ``texts`` (targets, contexts, hosts, profiles).

    Returns ``production``, ``staging``, ``development`` or None when nothing is recognised.
    """
    best: str | None = None
    rank = {PRODUCTION: 3, STAGING: 2, DEVELOPMENT: 1}
    for text in texts:
        if not text:
            continue
        lowered = text.lower()
        if "pre-prod" in lowered or "preprod" in lowered:
            candidates = {STAGING}
        else:
            candidates = set()
        # ASCII letter/digit runs; a plain loop, not `re`, which costs ~2 ms to import on the hot path
        for segment in "".join(c if c in _ALNUM else " " for c in lowered).split():
            env = _LOOKUP.get(segment)
            if env is None:
                # "prod1", "prodeu", "useast1prod" style segments
                if segment.startswith("prod") and segment[4:].isalnum() and not segment.startswith("product"):
                    env = PRODUCTION
                elif segment.endswith("prod") and len(segment) <= 12 and segment != "preprod":
                    env = PRODUCTION
            if env:
                candidates.add(env)
        for env in candidates:
            if best is None or rank[env] > rank[best]:
                best = env
    return best


def is_known(env: str | None) -> bool:
    """True when ``env`` names production, staging or development (directly or by an alias)."""
    return normalize(env) in (PRODUCTION, STAGING, DEVELOPMENT)


def require_known(env: str | None) -> str | None:
    """``env`` unchanged when it is not given or names a known environment; else a UsageError.

    For options where a typo must not pass as "some environment" (``--env marsbase`` would
    otherwise be reviewed as if it were not production).
    """
    if env is None or is_known(env):
        return env
    from skill.errors import UsageError

    raise UsageError(
        f"unknown environment {env!r}",
        hint="use production, staging or development (or an alias such as prod, stg, dev)",
    )


def is_production(env: str | None) -> bool:
    return normalize(env) == PRODUCTION
