"""Agreement with dcg's expected verdicts on the shared peer corpus (core slice thresholds)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from skill.guardrails.classify import classify_command

EXCEPTIONS_FILE = Path(__file__).with_name("corpus_exceptions.toml")


def _rows(corpora: Path) -> list[dict]:
    path = corpora / "guardrails" / "peer_commands.dev.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _exceptions() -> list[dict]:
    with EXCEPTIONS_FILE.open("rb") as fh:
        return tomllib.load(fh)["exception"]


def _ours(command: str) -> str:
    return "block" if classify_command(command).tier >= 3 else "allow"


def _agreement(rows: list[dict], skip: set[str]) -> dict[str, tuple[int, int]]:
    out = {}
    for expected in ("block", "allow"):
        subset = [r for r in rows if r["expected"] == expected and r["command"] not in skip]
        good = sum(1 for r in subset if _ours(r["command"]) == expected)
        out[expected] = (good, len(subset))
    return out


def test_core_slice_meets_the_thresholds(corpora):
    rows = [r for r in _rows(corpora) if r["slice"] == "core"]
    skip = {e["command"] for e in _exceptions()}
    figures = _agreement(rows, skip)
    raw = _agreement(rows, set())
    for expected, (good, total) in figures.items():
        print(
            f"core {expected}: {good}/{total} = {good / total:.2%} (raw incl. exceptions {raw[expected][0]}/{raw[expected][1]})"
        )
    block_good, block_total = figures["block"]
    allow_good, allow_total = figures["allow"]
    assert block_total > 700 and allow_total > 500  # the corpus really was read
    assert block_good / block_total >= 0.99
    assert allow_good / allow_total >= 0.97


def test_long_tail_slice_figures(corpora):
    rows = [r for r in _rows(corpora) if r["slice"] == "long-tail"]
    figures = _agreement(rows, set())
    for expected, (good, total) in figures.items():
        print(f"long-tail {expected}: {good}/{total} = {good / total:.2%}")
    # No threshold is set for the long tail; guard against a collapse (e.g. every rule failing).
    assert figures["block"][0] / figures["block"][1] > 0.5
    assert figures["allow"][0] / figures["allow"][1] > 0.9


def test_exceptions_are_documented_and_still_disagree(corpora):
    rows = {r["command"]: r for r in _rows(corpora)}
    exceptions = _exceptions()
    assert 0 < len(exceptions) <= 20, "keep the exceptions list short"
    for entry in exceptions:
        assert entry["command"] in rows, f"not a corpus row: {entry['command']!r}"
        assert entry["expected"] == rows[entry["command"]]["expected"]
        assert entry["ours"] in ("allow", "block") and entry["ours"] != entry["expected"]
        assert len(entry["reason"]) > 40, "each exception needs a real reason"
        assert _ours(entry["command"]) == entry["ours"], (
            f"stale exception (we now agree): {entry['command']!r}"
        )


@pytest.mark.parametrize("slice_name", ["core", "long-tail"])
def test_every_corpus_row_gets_a_valid_verdict(corpora, slice_name):
    for row in _rows(corpora):
        if row["slice"] != slice_name:
            continue
        verdict = classify_command(row["command"])
        assert 1 <= verdict.tier <= 4
        assert verdict.parts or verdict.tier == 1
        assert not verdict.deny or verdict.tier == 4
