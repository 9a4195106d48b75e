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
    for path in settings_files(start):
        if path.is_file():
            merged = _merge(merged, _read_toml(path).get(section, {}) or {})
    return merged
