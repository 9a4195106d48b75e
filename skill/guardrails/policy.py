"""Policy as code: layered ``policy.toml`` files that re-tier, deny, freeze and allowlist.

Layers, lowest first (later layers are applied after earlier ones, so they win):

    built-in defaults  <  $DEVOPS_CONFIG_DIR/policy.toml  <  <project>/.devops/policy.toml
                       <  the file named by $DEVOPS_POLICY

Tables (``[settings]``, ``[actions.NAME]``) merge key by key; arrays of tables (``[[rules]]``,
``[[deny]]``, ``[[freeze]]``, ``[[allow]]``) add up. Every key is checked: a typo, a bad type, a
tier outside 1..4, an unparseable date or regex is a ConfigError naming the file, and the
engine turns that into a block (fail closed). The schema is documented in docs/guardrails.md.

Hot path: without policy files nothing here imports tomllib, datetime or compiles a regex
beyond the few built-in deny rules, and those compile only when their program matches.
"""

from __future__ import annotations

import os


def ConfigError(message: str):  # noqa: N802 - lazy: skill.errors stays off the no-policy hot path
    from skill.errors import ConfigError as _ConfigError

    return _ConfigError(message)


MATCH_KEYS = ("action", "command", "command_regex", "program", "rule_id", "target", "environment")
SETTINGS_DEFAULTS = {
    "hook_emit_allow": False,
    "default_environment": None,
    "unknown_action_tier": 3,
    "approval_ttl": "30m",
    "max_approval_ttl": "24h",
    # Honoured only from the user layer or $DEVOPS_TRUST_PROJECT_POLICY=1 (see _tighten_only).
    "trust_project_policy": False,
}
# Programs whose risky (T3+) invocations count as deploys or infrastructure changes for freezes.
FREEZE_PROGRAMS = (
    "terraform",
    "tofu",
    "terragrunt",
    "pulumi",
    "ansible",
    "ansible-playbook",
    "kubectl",
    "helm",
    "helmfile",
    "kustomize",
    "aws",
    "gcloud",
    "az",
    "kamal",
    "flyctl",
    "fly",
    "vercel",
    "netlify",
    "wrangler",
    "heroku",
    "argocd",
    "flux",
    "gh",
    "glab",
    "docker",
    "podman",
    "systemctl",
)
_DISK = r"/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|md|dm-|mapper/)"

# The built-in layer. Catastrophic commands are denied here as well as by the classifier, so a
# classifier regression alone cannot let them through.
BUILTIN = {
    "deny": [
        {
            "id": "deny.rm-root",
            "program": "rm",
            "command_regex": r"^rm\s(?=(?:.*\s)?-(?:[a-zA-Z]*[rR]|-recursive))(?:.*\s)?['\"]?(?:/|/\*|~|~/|~/\*|\$HOME|\$HOME/\*?)['\"]?(?:\s|$)",
            "reason": "recursive delete of / or the home directory",
        },
        {
            "id": "deny.mkfs-disk",
            "program": "mkfs*",
            "command_regex": r"\s" + _DISK,
            "reason": "formats a disk device",
        },
        {
            "id": "deny.dd-disk",
            "program": "dd",
            "command_regex": r"\bof=" + _DISK,
            "reason": "overwrites a disk device",
        },
    ],
}


class Subject:
    """What one rule is matched against: a named action, or one part of a shell command."""

    __slots__ = ("action", "target", "environment", "text", "program", "rule_ids", "whole")

    def __init__(
        self, *, action=None, target=None, environment=None, text=None, program=None, rule_ids=(), whole=None
    ):
        self.action = action
        self.target = target
        self.environment = environment
        self.text = text
        self.program = program
        self.rule_ids = rule_ids
        self.whole = whole


def _glob(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    if not any(c in pattern for c in "*?["):
        return value == pattern
    head = pattern[:-1]
    if pattern.endswith("*") and not any(c in head for c in "*?["):
        # "mkfs*" (a built-in deny rule, matched for every part) and "terraform apply *" are
        # prefix tests: fnmatch would import re (~3 ms of the hook's budget) to say the same.
        return value.startswith(head) or (pattern.endswith(" *") and value == pattern[:-2])
    from fnmatch import fnmatchcase

    if fnmatchcase(value, pattern):
        return True
    # "terraform apply *" should also match a bare "terraform apply".
    return pattern.endswith(" *") and fnmatchcase(value, pattern[:-2])


class Rule:
    """One ``[[rules]]``, ``[[deny]]`` or ``[[allow]]`` entry."""

    __slots__ = (
        "id",
        "match",
        "reason",
        "source",
        "tier",
        "min_tier",
        "max_tier",
        "expires",
        "_regex",
        "raw",
    )

    def __init__(self, raw: dict, *, section: str, index: int, source: str):
        self.raw = raw
        self.source = source
        self.id = raw.get("id") or f"policy.{section}.{index}"
        self.reason = raw.get("reason")
        self.match = {key: raw[key] for key in MATCH_KEYS if key in raw}
        self.tier = raw.get("tier")
        self.min_tier = raw.get("min_tier")
        self.max_tier = raw.get("max_tier")
        self.expires = raw.get("_expires_ts")
        self._regex = None

    def regex(self):
        if self._regex is None:
            import re

            self._regex = re.compile(self.match["command_regex"])
        return self._regex

    def matches(self, subject: Subject, *, whole: bool = False) -> bool:
        """Does this entry match? ``whole``: patterns may also match the entire command line,
        which only deny rules use (a glob like "make *" must not lower "make x && rm -rf y")."""
        m = self.match
        if "program" in m and not _any_glob(m["program"], subject.program):
            return False
        if "action" in m and not _any_glob(m["action"], subject.action):
            return False
        if "target" in m and not _any_glob(m["target"], subject.target):
            return False
        if "environment" in m:
            wanted = m["environment"] if isinstance(m["environment"], list) else [m["environment"]]
            env = subject.environment or "unknown"
            if "*" not in wanted and env not in wanted:
                return False
        if "rule_id" in m:
            patterns = m["rule_id"] if isinstance(m["rule_id"], list) else [m["rule_id"]]
            if not any(_glob(p, rid) for p in patterns for rid in subject.rule_ids):
                return False
        texts = [t for t in (subject.text, subject.whole if whole else None) if t]
        if "command" in m:
            patterns = m["command"] if isinstance(m["command"], list) else [m["command"]]
            if not any(_glob(p, t) for p in patterns for t in texts):
                return False
        if "command_regex" in m and not any(self.regex().search(t) for t in texts):
            return False
        return True

    def apply(self, tier: int) -> int:
        if self.tier is not None:
            tier = self.tier
        if self.min_tier is not None:
            tier = max(tier, self.min_tier)
        if self.max_tier is not None:
            tier = min(tier, self.max_tier)
        return tier

    def describe(self) -> str:
        return f"{self.id} ({self.source})"


def _any_glob(pattern, value) -> bool:
    patterns = pattern if isinstance(pattern, list) else [pattern]
    return any(_glob(p, value) for p in patterns)


class Freeze:
    __slots__ = (
        "name",
        "start",
        "end",
        "environments",
        "actions",
        "programs",
        "reason",
        "approvable",
        "source",
    )

    def __init__(self, raw: dict, index: int, source: str):
        self.name = raw.get("name") or f"freeze-{index}"
        self.start = raw["_start_ts"]
        self.end = raw["_end_ts"]
        envs = raw.get("environments", ["production"])
        self.environments = envs if isinstance(envs, list) else [envs]
        self.actions = raw.get("actions")
        self.programs = raw.get("programs")
        self.reason = raw.get("reason")
        self.approvable = bool(raw.get("approvable", False))
        self.source = source

    def active(self, now: float) -> bool:
        return self.start <= now < self.end

    def covers_environment(self, env: str | None) -> bool:
        # An unknown environment may be production: a freeze on production covers it.
        return "*" in self.environments or env in self.environments or env is None

    def covers_action(self, action: str, freeze_scoped: bool) -> bool:
        if self.actions is not None:
            return _any_glob(self.actions, action)
        return freeze_scoped

    def covers_program(self, program: str | None) -> bool:
        if self.programs is not None:
            return _any_glob(self.programs, program)
        return program in FREEZE_PROGRAMS


class Policy:
    def __init__(self):
        self.settings = dict(SETTINGS_DEFAULTS)
        self.actions: dict[str, dict] = {}
        self.rules: list[Rule] = []
        self.deny: list[Rule] = []
        self.freezes: list[Freeze] = []
        self.allow: list[Rule] = []
        self.layers: list[str] = []
        self.warnings: list[str] = []
        # [secrets]: more secret material (paths) and names that are not (allow), as globs
        self.secrets: dict[str, list[str]] = {"paths": [], "allow": []}

    def active_freezes(self, now: float) -> list[Freeze]:
        return [f for f in self.freezes if f.active(now)]

    def to_dict(self) -> dict:
        def entry(rule: Rule) -> dict:
            out = {k: v for k, v in rule.raw.items() if not k.startswith("_")}
            out["id"] = rule.id
            out["source"] = rule.source
            return out

        return {
            "layers": list(self.layers),
            "settings": dict(self.settings),
            "actions": {k: dict(v) for k, v in self.actions.items()},
            "rules": [entry(r) for r in self.rules],
            "deny": [entry(r) for r in self.deny],
            "freeze": [
                {
                    "name": f.name,
                    "start": _fmt_ts(f.start),
                    "end": _fmt_ts(f.end),
                    "environments": f.environments,
                    "actions": f.actions,
                    "programs": f.programs,
                    "reason": f.reason,
                    "approvable": f.approvable,
                    "source": f.source,
                }
                for f in self.freezes
            ],
            "allow": [entry(r) for r in self.allow],
            "secrets": {k: list(v) for k, v in self.secrets.items()},
            "warnings": list(self.warnings),
        }


def _fmt_ts(ts: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# ---------------------------------------------------------------- loading and validation


def policy_files(cwd: str | None = None) -> list[str]:
    """The policy files that exist, lowest layer first. A missing $DEVOPS_POLICY file is an error."""
    from skill.paths import project_config_dir, user_config_dir

    found = []
    user = os.path.join(user_config_dir(), "policy.toml")
    if os.path.isfile(user):
        found.append(user)
    project = project_config_dir(cwd)
    if project is not None:
        path = os.path.join(project, "policy.toml")
        if os.path.isfile(path) and path not in found:
            found.append(path)
    explicit = os.environ.get("DEVOPS_POLICY")
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ConfigError(f"policy file {path} (from $DEVOPS_POLICY) does not exist")
        if path not in found:
            found.append(path)
    return found


def load_policy(cwd: str | None = None, files: list[str] | None = None) -> Policy:
    """The effective policy for ``cwd``. Raises ConfigError for any broken layer."""
    policy = Policy()
    policy.layers.append("built-in")
    # The built-in layer is ours and tested: no validation (that would compile its regexes on
    # every hook call); its regexes compile only when a command's program matches.
    for i, raw in enumerate(BUILTIN["deny"]):
        policy.deny.append(Rule(raw, section="deny", index=i + 1, source="built-in"))
    from skill.paths import project_config_dir

    project_dir = project_config_dir(cwd)
    project_file = os.path.join(project_dir, "policy.toml") if project_dir is not None else None
    for path in policy_files(cwd) if files is None else files:
        data = read_policy_file(path)
        if path == project_file:
            if isinstance(data, dict) and isinstance(data.get("settings"), dict):
                if "trust_project_policy" in data["settings"]:
                    policy.warnings.append(
                        f"{path}: trust_project_policy is honoured only in the user policy"
                    )
                    data["settings"] = {
                        k: v for k, v in data["settings"].items() if k != "trust_project_policy"
                    }
            trusted = policy.settings.get("trust_project_policy") is True or (
                os.environ.get("DEVOPS_TRUST_PROJECT_POLICY") == "1"
            )
            if not trusted:
                data = _tighten_only(data, policy, path)
        _apply_layer(policy, data, path)
    return policy


_UNTRUSTED = "ignored: a project policy may only tighten the gate (trust it with `trust_project_policy = true` in your user policy)"


def _tighten_only(data, policy: Policy, source: str):
    """A project's policy.toml arrives with the repository, so whoever can push to it wrote it: a
    cloned repository must not be able to wave `terraform destroy` through. Unless the user trusts
    project policies, keep only what makes the gate stricter: deny rules, freezes, rules that raise
    tiers, higher action tiers, a higher unknown-action tier and the default environment."""
    if not isinstance(data, dict):
        return data  # _apply_layer reports the shape error
    from skill.guardrails.actions import CATALOGUE, normalize_action

    def ignored(what: str) -> None:
        policy.warnings.append(f"{source}: {what} {_UNTRUSTED}")

    out = dict(data)
    if out.get("allow"):
        ignored("[[allow]] entries")
        out.pop("allow")
    if isinstance(out.get("secrets"), dict) and out["secrets"].get("allow"):
        ignored("[secrets] allow")
        out["secrets"] = {k: v for k, v in out["secrets"].items() if k != "allow"}
    settings = out.get("settings")
    if isinstance(settings, dict):
        kept = {}
        for key, value in settings.items():
            if key == "default_environment" or (
                key == "unknown_action_tier" and isinstance(value, int) and value >= policy.settings[key]
            ):
                kept[key] = value
            else:
                ignored(f"setting {key!r}")
        out["settings"] = kept
    rules = out.get("rules")
    if isinstance(rules, list):
        tightened = []
        for raw in rules:
            if isinstance(raw, dict) and "max_tier" in raw:
                ignored(f"rule {raw.get('id', '?')!r} (max_tier)")
                continue
            if isinstance(raw, dict) and isinstance(raw.get("tier"), int):
                # "tier = N" may lower as well as raise; from an untrusted layer it only raises.
                floor = (
                    max(raw["tier"], raw["min_tier"]) if isinstance(raw.get("min_tier"), int) else raw["tier"]
                )
                raw = {**{k: v for k, v in raw.items() if k != "tier"}, "min_tier": floor}
            tightened.append(raw)
        out["rules"] = tightened
    actions = out.get("actions")
    if isinstance(actions, dict):
        stricter = {}
        for name, table in actions.items():
            if not isinstance(table, dict):
                stricter[name] = table
                continue
            table = dict(table)
            known = CATALOGUE.get(normalize_action(name))
            floors = (known[0], known[1]) if known else (policy.settings["unknown_action_tier"],) * 2
            for key, floor in zip(("tier", "production_tier"), floors, strict=True):
                if isinstance(table.get(key), int) and table[key] < floor:
                    ignored(f"[actions.{name}] {key} = {table[key]} (below {floor})")
                    table[key] = floor
            if "environment" in table:
                ignored(f"[actions.{name}] environment")
                table.pop("environment")
            if table.get("freeze") is False:
                ignored(f"[actions.{name}] freeze = false")
                table.pop("freeze")
            stricter[name] = table
        out["actions"] = stricter
    return out


def read_policy_file(path: str) -> dict:
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"policy file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"policy file {path} is not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read policy file {path}: {exc}") from exc


def _err(source: str, message: str):
    return ConfigError(f"policy {source}: {message}")


def _apply_layer(policy: Policy, data: dict, source: str) -> None:
    if not isinstance(data, dict):
        raise _err(source, "top level must be a table")
    policy.layers.append(source)
    known = {"settings", "actions", "rules", "deny", "freeze", "allow", "secrets"}
    for key in data:
        if key not in known:
            raise _err(source, f"unknown section {key!r} (expected one of {', '.join(sorted(known))})")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise _err(source, "[settings] must be a table")
    for key, value in settings.items():
        _check_setting(source, key, value)
        policy.settings[key] = value
    actions = data.get("actions", {})
    if not isinstance(actions, dict):
        raise _err(source, "[actions] must be a table of tables")
    for name, table in actions.items():
        from skill.guardrails.actions import normalize_action

        policy.actions[normalize_action(name)] = {
            **policy.actions.get(normalize_action(name), {}),
            **_check_action(source, name, table),
        }
    for section, target in (("rules", policy.rules), ("deny", policy.deny), ("allow", policy.allow)):
        entries = data.get(section, [])
        if not isinstance(entries, list):
            raise _err(source, f"[[{section}]] must be an array of tables")
        for i, raw in enumerate(entries):
            where = f"[[{section}]] #{i + 1}"
            checked = _check_entry(source, section, where, raw)
            if section == "allow" and checked.get("_expires_ts") is None:
                policy.warnings.append(f"{source} {where}: allow entry without 'expires' never expires")
            target.append(Rule(checked, section=section, index=len(target) + 1, source=source))
    _check_secrets(policy, data.get("secrets", {}), source)
    freezes = data.get("freeze", [])
    if not isinstance(freezes, list):
        raise _err(source, "[[freeze]] must be an array of tables")
    for i, raw in enumerate(freezes):
        checked = _check_freeze(source, f"[[freeze]] #{i + 1}", raw)
        policy.freezes.append(Freeze(checked, len(policy.freezes) + 1, source))


def _check_secrets(policy: Policy, table, source: str) -> None:
    """`[secrets] paths = [...]` adds secret material, `allow = [...]` exempts names (globs)."""
    if not isinstance(table, dict):
        raise _err(source, "[secrets] must be a table")
    for key, value in table.items():
        if key not in ("paths", "allow"):
            raise _err(source, f"[secrets] has unknown key {key!r} (expected paths, allow)")
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _err(source, f"secrets.{key} must be a list of non-empty path globs")
        policy.secrets[key].extend(value)


def _check_setting(source, key, value):
    if key not in SETTINGS_DEFAULTS:
        raise _err(source, f"unknown setting {key!r} (expected one of {', '.join(SETTINGS_DEFAULTS)})")
    if key == "hook_emit_allow" and not isinstance(value, bool):
        raise _err(source, "settings.hook_emit_allow must be true or false")
    if key == "unknown_action_tier":
        _check_tier(source, "settings.unknown_action_tier", value)
        if value < 3:
            raise _err(
                source, "settings.unknown_action_tier must be 3 or 4: unknown actions are never allowed"
            )
    if key == "default_environment" and not isinstance(value, str):
        raise _err(source, "settings.default_environment must be a string")
    if key in ("approval_ttl", "max_approval_ttl"):
        from skill.durations import parse_duration
        from skill.errors import UsageError

        if not isinstance(value, str):
            raise _err(source, f"settings.{key} must be a duration string such as '30m'")
        try:
            parse_duration(value)
        except UsageError as exc:
            raise _err(source, f"settings.{key}: {exc}") from exc


def _check_tier(source, where, value):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
        raise _err(source, f"{where} must be a tier from 1 to 4, got {value!r}")


def _check_action(source, name, table):
    if not isinstance(table, dict):
        raise _err(source, f"[actions.{name}] must be a table")
    allowed = {"tier", "production_tier", "freeze", "environment", "description"}
    for key, value in table.items():
        if key not in allowed:
            raise _err(
                source, f"[actions.{name}] unknown key {key!r} (expected {', '.join(sorted(allowed))})"
            )
        if key in ("tier", "production_tier"):
            _check_tier(source, f"actions.{name}.{key}", value)
        elif key == "freeze" and not isinstance(value, bool):
            raise _err(source, f"actions.{name}.freeze must be true or false")
        elif key in ("environment", "description") and not isinstance(value, str):
            raise _err(source, f"actions.{name}.{key} must be a string")
    return dict(table)


def _str_or_list(source, where, key, value):
    if isinstance(value, str):
        return
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return
    raise _err(source, f"{where}: {key} must be a string or a list of strings")


def _check_entry(source, section, where, raw):
    if not isinstance(raw, dict):
        raise _err(source, f"{where} must be a table")
    allowed = {"id", "reason", *MATCH_KEYS}
    if section == "rules":
        allowed |= {"tier", "min_tier", "max_tier"}
    if section == "allow":
        allowed |= {"expires"}
    out = dict(raw)
    for key, value in raw.items():
        if key not in allowed:
            raise _err(source, f"{where}: unknown key {key!r} (expected {', '.join(sorted(allowed))})")
        if key in ("id", "reason", "command_regex") and not isinstance(value, str):
            raise _err(source, f"{where}: {key} must be a string")
        if key in ("action", "command", "program", "rule_id", "target", "environment"):
            _str_or_list(source, where, key, value)
        if key in ("tier", "min_tier", "max_tier"):
            _check_tier(source, f"{where}: {key}", value)
    if not any(key in raw for key in MATCH_KEYS):
        raise _err(source, f"{where}: needs at least one match key ({', '.join(MATCH_KEYS)})")
    if section == "rules" and not any(key in raw for key in ("tier", "min_tier", "max_tier")):
        raise _err(source, f"{where}: needs tier, min_tier or max_tier")
    if "command_regex" in raw:
        import re

        try:
            re.compile(raw["command_regex"])
        except re.error as exc:
            raise _err(source, f"{where}: command_regex does not compile: {exc}") from exc
    if "environment" in raw:
        from skill.environments import normalize

        envs = raw["environment"] if isinstance(raw["environment"], list) else [raw["environment"]]
        out["environment"] = [e if e in ("*", "unknown") else normalize(e) for e in envs]
    if "action" in raw:
        from skill.guardrails.actions import normalize_action

        acts = raw["action"] if isinstance(raw["action"], list) else [raw["action"]]
        out["action"] = [normalize_action(a) for a in acts]
    if "expires" in raw:
        out["_expires_ts"] = _timestamp(source, f"{where}: expires", raw["expires"])
    return out


def _check_freeze(source, where, raw):
    if not isinstance(raw, dict):
        raise _err(source, f"{where} must be a table")
    allowed = {"name", "start", "end", "environments", "actions", "programs", "reason", "approvable"}
    for key, value in raw.items():
        if key not in allowed:
            raise _err(source, f"{where}: unknown key {key!r} (expected {', '.join(sorted(allowed))})")
        if key in ("name", "reason") and not isinstance(value, str):
            raise _err(source, f"{where}: {key} must be a string")
        if key in ("environments", "actions", "programs"):
            _str_or_list(source, where, key, value)
        if key == "approvable" and not isinstance(value, bool):
            raise _err(source, f"{where}: approvable must be true or false")
    for key in ("start", "end"):
        if key not in raw:
            raise _err(source, f"{where}: needs {key} (an ISO-8601 time)")
    out = dict(raw)
    out["_start_ts"] = _timestamp(source, f"{where}: start", raw["start"])
    out["_end_ts"] = _timestamp(source, f"{where}: end", raw["end"])
    if out["_end_ts"] <= out["_start_ts"]:
        raise _err(source, f"{where}: end must be after start")
    if "environments" in raw:
        from skill.environments import normalize

        envs = raw["environments"] if isinstance(raw["environments"], list) else [raw["environments"]]
        out["environments"] = [e if e == "*" else normalize(e) for e in envs]
    if "actions" in raw:
        from skill.guardrails.actions import normalize_action

        acts = raw["actions"] if isinstance(raw["actions"], list) else [raw["actions"]]
        out["actions"] = [normalize_action(a) for a in acts]
    return out


def _timestamp(source, where, value) -> float:
    from datetime import UTC, date, datetime

    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise _err(source, f"{where}: {value!r} is not an ISO-8601 time") from exc
    else:
        raise _err(source, f"{where} must be an ISO-8601 time, got {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
