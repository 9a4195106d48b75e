"""The layered ``config.toml`` settings: user, then project ``.devops/``, then ``$DEVOPS_CONFIG``.

Locations come from skill.paths (the one module that knows where things live).
"""

from __future__ import annotations

import os
from pathlib import Path

from skill.paths import project_config_dir, user_config_dir


def _read_toml(path: Path) -> dict:
    import tomllib

    from skill.errors import ConfigError

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


# Settings a repository's `.devops/config.toml` may not choose for whoever works in it, as a
# project policy may not loosen the gate: where the approvals, audit and runs live (a database
# the repository names could hold forged approvals), where memory goes, where Claude requests
# and the API key go, and the webhook secrets (a secret the repository knows is no secret).
# They come from the user's config.toml, $DEVOPS_CONFIG or the environment; a project layer's
# value is ignored (`devops doctor` says so).
USER_ONLY: dict[str, frozenset[str]] = {
    "store": frozenset({"url"}),
    "memory": frozenset({"chroma_url", "db"}),
    "llm": frozenset({"base_url"}),
    "server": frozenset({"github_secret", "gitlab_token", "pagerduty_secret", "token"}),
}


def settings_files(start: str | os.PathLike | None = None) -> list[Path]:
    """The ``config.toml`` layers, lowest first: user, project ``.devops/``, then ``$DEVOPS_CONFIG``."""
    files = [Path(user_config_dir()) / "config.toml"]
    project = project_config_dir(start)
    if project:
        files.append(Path(project) / "config.toml")
    if os.environ.get("DEVOPS_CONFIG"):
        files.append(Path(os.environ["DEVOPS_CONFIG"]).expanduser())
    return files


def load_settings(section: str, defaults: dict | None = None, start: str | os.PathLike | None = None) -> dict:
    """One ``[section]`` of the layered ``config.toml`` files merged over ``defaults``.

    Settings (deploy driver, chroma server URL, LLM model ...) live in ``config.toml``; the
    guardrails policy has its own ``policy.toml`` layers (skill.guardrails.policy).
    A broken file raises ConfigError naming the file.
    """
    merged = dict(defaults or {})
    project = _project_file(start)
    for path in settings_files(start):
        if path.is_file():
            layer = _read_toml(path).get(section, {}) or {}
            if path == project and section in USER_ONLY and isinstance(layer, dict):
                layer = {k: v for k, v in layer.items() if k not in USER_ONLY[section]}
            merged = _merge(merged, layer)
    return merged


def _project_file(start: str | os.PathLike | None = None) -> Path | None:
    project = project_config_dir(start)
    return Path(project) / "config.toml" if project else None


def ignored_project_settings(start: str | os.PathLike | None = None) -> list[str]:
    """The user-only settings the project's config.toml sets ("[store] url"), which are ignored."""
    path = _project_file(start)
    if path is None or not path.is_file():
        return []
    data = _read_toml(path)
    return [
        f"[{section}] {key}"
        for section, keys in USER_ONLY.items()
        if isinstance(data.get(section), dict)
        for key in sorted(keys & data[section].keys())
    ]
