"""Where things live: data dir, user config dir, project config dir.

Stdlib only (the guardrails hook imports this on every call). Every location can be
overridden by an environment variable, which is what the tests do:

    DEVOPS_HOME         data dir (SQLite files, chroma folder, approval key)
    DEVOPS_CONFIG_DIR   user config dir (policy.toml, config.toml)
    DEVOPS_PROJECT_DIR  project root holding `.devops/` (default: found by walking up from cwd)
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "master-devops"
PROJECT_DIR_NAME = ".devops"


def data_dir(create: bool = True) -> Path:
    """The data dir: ``$DEVOPS_HOME`` or ``$XDG_DATA_HOME/master-devops``."""
    env = os.environ.get("DEVOPS_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        path = Path(base) / APP_NAME
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from .errors import StorageError

            raise StorageError(
                f"cannot create the data dir {path}: {exc.strerror or exc}",
                hint="set DEVOPS_HOME to a writable folder",
            ) from exc
    return path


def user_config_dir() -> Path:
    """The user config dir: ``$DEVOPS_CONFIG_DIR`` or ``$XDG_CONFIG_HOME/master-devops``."""
    env = os.environ.get("DEVOPS_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / APP_NAME


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest directory at or above ``start`` that holds a ``.devops/`` folder or a ``.git``.

    ``$DEVOPS_PROJECT_DIR`` wins when set.
    """
    env = os.environ.get("DEVOPS_PROJECT_DIR")
    if env:
        return Path(env).expanduser()
    try:
        here = Path(start or os.getcwd()).resolve()
    except OSError:
        return None
    for candidate in (here, *here.parents):
        if (candidate / PROJECT_DIR_NAME).is_dir() or (candidate / ".git").exists():
            return candidate
    return None


def project_config_dir(start: str | os.PathLike | None = None) -> Path | None:
    root = project_root(start)
    return root / PROJECT_DIR_NAME if root else None


def db_path(name: str) -> Path:
    """Path of a named SQLite file in the data dir (``memory``, ``audit``, ``graph`` ...)."""
    return data_dir() / f"{name}.db"


def _read_toml(path: Path) -> dict:
    import tomllib

    from .errors import ConfigError

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
    files = [user_config_dir() / "config.toml"]
    project = project_config_dir(start)
    if project:
        files.append(project / "config.toml")
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
