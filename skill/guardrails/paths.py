"""Where the gate keeps and finds things, resolved with os.path only.

Same answers as skill.config (data_dir, user_config_dir, project_config_dir; the test
tests/guardrails/test_policy.py keeps them equal) but without importing pathlib, which pulls in
urllib.parse and ipaddress: ~3 ms of the hook's ~28 ms budget on every tool call.
"""

from __future__ import annotations

import os

APP_NAME = "master-devops"
PROJECT_DIR_NAME = ".devops"


def data_dir() -> str:
    env = os.environ.get("DEVOPS_HOME")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, APP_NAME)


def user_config_dir() -> str:
    env = os.environ.get("DEVOPS_CONFIG_DIR")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, APP_NAME)


def project_root(start: str | None = None) -> str | None:
    env = os.environ.get("DEVOPS_PROJECT_DIR")
    if env:
        return os.path.expanduser(env)
    try:
        here = os.path.realpath(start or os.getcwd())
    except OSError:
        return None
    while True:
        if os.path.isdir(os.path.join(here, PROJECT_DIR_NAME)) or os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def project_config_dir(start: str | None = None) -> str | None:
    root = project_root(start)
    return os.path.join(root, PROJECT_DIR_NAME) if root else None
