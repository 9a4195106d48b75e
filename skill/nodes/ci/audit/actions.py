"""Facts about well-known actions and commands, in one table the rules share.

The cache-poisoning and dependency-cache rules must agree on what restores a cache (setup-go
caches by default, ``lookup-only: true`` only looks, ``actions/cache/save`` never restores) and on
what publishes (``cargo publish --dry-run`` does not), so both read these facts instead of keeping
their own lists. The advisory list of compromised and archived actions is bundled and dated
(``data/advisories.json``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def action_name(uses: str) -> str:
    """``owner/repo[/path]`` in lower case, without the ref."""
    return uses.split("@", 1)[0].strip().lower()


@dataclass(frozen=True)
class CacheFact:
    default: bool  # caches when the input is absent
    switch: str | None = None  # the input that turns it on (opt-in) or off (opt-out)
    restores: bool = True  # False: only saves (actions/cache/save)


# How each action caches. For opt-in actions the switch's value names what to cache ("pip", "npm").
CACHES: dict[str, CacheFact] = {
    "actions/cache": CacheFact(True),
    "actions/cache/restore": CacheFact(True),
    "actions/cache/save": CacheFact(True, restores=False),
    "actions/setup-go": CacheFact(True, "cache"),  # on by default since v4
    "actions/setup-python": CacheFact(False, "cache"),
    "actions/setup-node": CacheFact(False, "cache"),
    "actions/setup-java": CacheFact(False, "cache"),
    "actions/setup-dotnet": CacheFact(False, "cache"),
    "astral-sh/setup-uv": CacheFact(True, "enable-cache"),  # "auto": on for GitHub-hosted runners
    "swatinem/rust-cache": CacheFact(True),
    "gradle/actions/setup-gradle": CacheFact(True, "cache-disabled"),
    "gradle/gradle-build-action": CacheFact(True, "cache-disabled"),
    "ruby/setup-ruby": CacheFact(False, "bundler-cache"),
    "jdx/mise-action": CacheFact(True, "cache"),
    "mozilla-actions/sccache-action": CacheFact(True),
    "hendrikmuhs/ccache-action": CacheFact(True),
    "pnpm/action-setup": CacheFact(False, "cache"),
    "oven-sh/setup-bun": CacheFact(False, "no-cache"),
}


def cache_use(action: str, with_: dict) -> tuple[bool, bool]:
    """(caches, restores) for one step: does it take part in caching, and does it restore a cache."""
    if action == "docker/build-push-action":
        src = str(with_.get("cache-from") or "")
        return bool(src.strip()), bool(src.strip())
    fact = CACHES.get(action)
    if fact is None:
        return False, False
    on = fact.default
    if fact.switch:
        value = with_.get(fact.switch)
        if fact.switch in ("cache-disabled", "no-cache"):  # opt-outs spelled positively
            on = not truthy(value)
        elif value is not None and str(value).strip():
            on = not falsy(value)
    if not on:
        return False, False
    restores = fact.restores and not truthy(with_.get("lookup-only"))
    return True, restores


# ---------------------------------------------------------------- publishing
_PUBLISH_CMD = re.compile(
    r"\b(npm publish|yarn (?:npm )?publish|pnpm publish|twine upload|uv publish|poetry publish|cargo publish|"
    r"gem push|docker push|docker buildx build[^\n;&|]*--push|goreleaser(?: release)?|gh release create|"
    r"mvn (?:-\S+ )*deploy|gradlew? publish\w*|flit publish|hatch publish)\b",
    re.I,
)
# Flags that make the command a rehearsal: nothing leaves the runner.
# A draft release is not public until a person publishes it.
_REHEARSAL = re.compile(
    r"(?:^|\s)(?:--dry-run(?:=true)?|-n|--snapshot|--skip[= ]publish|--skip-publish|--draft)(?=\s|$)"
)
_COMMAND_END = re.compile(r"&&|\|\||[;|\n]")
PUBLISH_ACTIONS = (
    "pypa/gh-action-pypi-publish",
    "softprops/action-gh-release",
    "goreleaser/goreleaser-action",
    "ncipollo/release-action",
    "jreleaser/release-action",
)


def publish_command(script: str) -> str | None:
    """The first command in ``script`` that publishes something (not a dry run), or None."""
    script = re.sub(r"\\\r?\n", " ", script)  # a command continued over several lines is one command
    for m in _PUBLISH_CMD.finditer(script):
        rest = _COMMAND_END.split(script[m.end() :], maxsplit=1)[0]
        line_start = script.rfind("\n", 0, m.start()) + 1
        if script[line_start : m.start()].lstrip().startswith("#"):
            continue
        if m.group(1).lower().startswith("goreleaser") and re.match(
            r"\s*(?:check|build|healthcheck)\b", rest
        ):
            continue
        if not _REHEARSAL.search(rest):
            return m.group(1)
    return None


def publish_step(action: str, with_: dict) -> bool:
    if action == "docker/build-push-action":
        return truthy(with_.get("push"))
    if action == "goreleaser/goreleaser-action":
        return not _REHEARSAL.search(" " + str(with_.get("args") or "release"))
    return action in PUBLISH_ACTIONS


# ---------------------------------------------------------------- code sinks and untrusted outputs
# Action inputs evaluated as code: ${{ }} in them is template injection just like in run:.
CODE_INPUTS: dict[str, tuple[str, ...]] = {
    "actions/github-script": ("script",),
    "azure/cli": ("inlinescript",),
    "azure/powershell": ("inlinescript",),
    "appleboy/ssh-action": ("script",),
    "addnab/docker-run-action": ("run",),
    "jannekem/run-python-script-action": ("script",),
    "cardinalby/js-eval-action": ("expression",),
    "mikefarah/yq": ("cmd",),
    "amadevus/pwsh-script": ("script",),
}
# Actions whose outputs carry text an outsider chooses (file names, branch names, comment bodies).
UNTRUSTED_OUTPUTS: dict[str, str] = {
    "tj-actions/changed-files": "changed file names",
    "tj-actions/branch-names": "the PR's branch name",
    "peter-evans/find-comment": "a comment's body",
    "xt0rted/pull-request-comment-branch": "the PR's branch name",
}
APP_TOKEN_ACTIONS = ("actions/create-github-app-token", "tibdex/github-app-token")


# ---------------------------------------------------------------- advisories
@cache
def advisories() -> dict:
    text = resources.files(__package__).joinpath("data/advisories.json").read_text(encoding="utf-8")
    return json.loads(text)


def _version(ref: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", ref.strip())
    return tuple(int(p) for p in m.groups() if p is not None) if m else None


def compromised(uses: str) -> tuple[str, str] | None:
    """(severity, message) when ``uses`` names an action with a published compromise that still applies."""
    name, _, ref = uses.partition("@")
    name = name.strip().lower()
    for entry in advisories()["compromised"]:
        if name != entry["action"]:
            continue
        what = f"{entry['action']} was compromised ({entry['advisory']}, {entry['when']}): {entry['what']}"
        if ref.lower() in entry["bad_shas"]:
            return "critical", f"pinned to the malicious commit {ref[:12]}: {what}"
        fixed = _version(entry["fixed"]) if entry.get("fixed") else None
        have = _version(ref)
        if fixed and have is not None and have[: len(fixed)] < fixed[: len(have)]:
            return "high", f"{uses} is older than the fixed {entry['fixed']}: {what}"
        if not re.fullmatch(r"[0-9a-f]{40}", ref.lower()):
            return "medium", f"{uses} follows a moving ref, and {what}: pin a reviewed commit SHA"
    return None


def archived(uses: str) -> str | None:
    name = action_name(uses)
    for entry in advisories()["archived"]:
        if name == entry["action"]:
            return (
                f"{entry['action']} is archived (no fixes, as of {advisories()['as_of']}): use {entry['use']}"
            )
    return None
