"""Where things live: the data dir, the user config dir, the project's ``.devops/`` folder and the
team database.

Stdlib ``os.path`` only and plain ``str`` results: the guardrails hook imports this on every tool
call, and pathlib alone (with urllib.parse and ipaddress behind it) costs ~3 ms of that budget.
Every location can be overridden by an environment variable, which is what the tests do:

    DEVOPS_HOME         data dir (SQLite files, chroma folder, approval key)
    DEVOPS_CONFIG_DIR   user config dir (policy.toml, config.toml)
    DEVOPS_PROJECT_DIR  project root holding `.devops/` (default: found by walking up from cwd)
    DEVOPS_DATABASE_URL the team database (default: `[store] url` in config.toml; empty: embedded)
"""

from __future__ import annotations

import os

APP_NAME = "master-devops"
PROJECT_DIR_NAME = ".devops"


def data_dir() -> str:
    """``$DEVOPS_HOME`` or ``$XDG_DATA_HOME/master-devops`` (not created; see ``ensure_data_dir``)."""
    env = os.environ.get("DEVOPS_HOME")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, APP_NAME)


def ensure_data_dir() -> str:
    """The data dir, created when missing; StorageError (with the fix) when it cannot be."""
    path = data_dir()
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        from skill.errors import StorageError

        raise StorageError(
            f"cannot create the data dir {path}: {exc.strerror or exc}",
            hint="set DEVOPS_HOME to a writable folder",
        ) from exc
    return path


def db_path(name: str) -> str:
    """A named SQLite file in the (created) data dir: ``memory``, ``audit``, ``graph`` ..."""
    return os.path.join(ensure_data_dir(), f"{name}.db")


def user_config_dir() -> str:
    """``$DEVOPS_CONFIG_DIR`` or ``$XDG_CONFIG_HOME/master-devops``."""
    env = os.environ.get("DEVOPS_CONFIG_DIR")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, APP_NAME)


def project_root(start: str | os.PathLike | None = None) -> str | None:
    """The nearest folder at or above ``start`` holding ``.devops/`` or ``.git``; ``$DEVOPS_PROJECT_DIR`` wins."""
    env = os.environ.get("DEVOPS_PROJECT_DIR")
    if env:
        return os.path.expanduser(env)
    try:
        here = os.path.realpath(os.fspath(start) if start else os.getcwd())
    except OSError:
        return None
    while True:
        if os.path.isdir(os.path.join(here, PROJECT_DIR_NAME)) or os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def project_config_dir(start: str | os.PathLike | None = None) -> str | None:
    root = project_root(start)
    return os.path.join(root, PROJECT_DIR_NAME) if root else None


DATABASE_SCHEMES = ("postgresql://", "postgres://")


def database_url() -> str | None:
    """The team database URL, or None for the embedded SQLite files.

    ``$DEVOPS_DATABASE_URL`` wins over ``[store] url`` in config.toml; an empty value (or
    ``sqlite``) means embedded, so a test or one shell can opt out of a configured team database.
    Anything else that is not a postgresql:// URL, or a config.toml that cannot be read, is a
    ConfigError: never a silent fallback to this machine's files, where approvals and the audit
    would split from the team's. The one rule for the storage seam (skill.storage) and the gate's
    hook (skill.guardrails.audit); it lives here because the hook imports this module anyway, and
    config.toml is parsed only when a layer exists, so the hook's cold start stays os.path only.
    """
    url = os.environ.get("DEVOPS_DATABASE_URL")
    if url is None:
        layers = [d for d in (user_config_dir(), project_config_dir()) if d]
        if not os.environ.get("DEVOPS_CONFIG") and not any(
            os.path.isfile(os.path.join(d, "config.toml")) for d in layers
        ):
            return None  # no config.toml anywhere: embedded, without loading the parser
        from skill.config import load_settings

        url = load_settings("store").get("url") or ""
    url = str(url).strip()
    if not url or url == "sqlite":
        return None
    if not url.startswith(DATABASE_SCHEMES):
        from skill.errors import ConfigError

        raise ConfigError(
            "DEVOPS_DATABASE_URL ([store] url) must be a postgresql:// URL, or empty for the embedded SQLite files",
        )
    return url
