"""Whatever a damaged plan holds, the review answers or raises InputError: never a crash."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.errors import InputError
from skill.nodes.iac import review_plan

PLANS = Path(__file__).resolve().parents[2] / "fixtures" / "iac" / "plans"
BASES = [
    json.loads((PLANS / n).read_text())
    for n in ("mixed.json", "sensitive.json", "drift.json", "deferred.json")
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _set(doc, path, value):
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(range(len(BASES))),
    picks=st.lists(st.integers(min_value=0), min_size=1, max_size=3),
    values=st.lists(json_values, min_size=3, max_size=3),
)
def test_damaged_plans_never_crash(base, picks, values):
    doc = copy.deepcopy(BASES[base])
    for pick, value in zip(picks, values, strict=False):
        paths = [p for p in _paths(doc) if p]
        _set(doc, paths[pick % len(paths)], value)
    try:
        review = review_plan(doc)
    except InputError:
        return
    assert 1 <= review.tier <= 4
    json.dumps(review.model_dump(mode="json"))
