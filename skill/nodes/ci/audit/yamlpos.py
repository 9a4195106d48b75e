"""YAML loading that keeps line and column numbers for every key and value.

Findings must point at a line, and plain ``yaml.safe_load`` drops positions. We compose the
node graph (libyaml's C composer when available, so parsing stays close to safe_load speed) and
turn it into dict/list/str subclasses that remember where they came from. Unknown tags such as
GitLab's ``!reference`` are kept as plain data rather than failing the whole file.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C composer is ~10x faster; it yields the same node graph
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML builds
    _Loader = yaml.SafeLoader

Pos = tuple[int, int]  # 1-based (line, column)


class PDict(dict):
    """A mapping with the position of itself, of each key and of each value."""

    pos: Pos = (1, 1)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key_pos: dict[str, Pos] = {}
        self.value_pos: dict[str, Pos] = {}
        self.value_end: dict[str, Pos] = {}

    def kpos(self, key: str) -> Pos:
        return self.key_pos.get(key, self.pos)

    def vpos(self, key: str) -> Pos:
        return self.value_pos.get(key, self.kpos(key))


class PList(list):
    pos: Pos = (1, 1)
    item_pos: list[Pos]


class PStr(str):
    pos: Pos = (1, 1)
    end: Pos = (1, 1)
    style: str | None = None


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)


_constructor = yaml.SafeLoader("")  # only its scalar constructors are used


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag or ""
    if tag.startswith("tag:yaml.org,2002:") and not tag.endswith((":str", ":binary", ":timestamp")):
        try:
            return _constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            pass
    s = PStr(node.value)
    s.pos, s.end, s.style = _pos(node.start_mark), _pos(node.end_mark), node.style
    return s


def _convert(node: yaml.Node, seen: dict[int, Any]) -> Any:
    if id(node) in seen:  # aliases share the converted object
        return seen[id(node)]
    if isinstance(node, yaml.ScalarNode):
        value = _scalar(node)
        seen[id(node)] = value
        return value
    if isinstance(node, yaml.SequenceNode):
        out = PList()
        out.pos = _pos(node.start_mark)
        out.item_pos = []
        seen[id(node)] = out
        for item in node.value:
            out.append(_convert(item, seen))
            out.item_pos.append(_pos(item.start_mark))
        return out
    out = PDict()
    out.pos = _pos(node.start_mark)
    seen[id(node)] = out
    merges: list[PDict] = []
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else str(_convert(key_node, {}))
        if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
            merged = _convert(value_node, seen)
            merges.extend(
                [merged] if isinstance(merged, dict) else [m for m in merged if isinstance(m, dict)]
            )
            continue
        out[key] = _convert(value_node, seen)
        out.key_pos[key] = _pos(key_node.start_mark)
        out.value_pos[key] = _pos(value_node.start_mark)
        out.value_end[key] = _pos(value_node.end_mark)
    for src in merges:  # explicit keys win over merged ones
        for k, v in src.items():
            if k not in out:
                out[k] = v
                out.key_pos[k] = src.kpos(k) if isinstance(src, PDict) else out.pos
                out.value_pos[k] = src.vpos(k) if isinstance(src, PDict) else out.pos
    return out


def load(text: str) -> Any:
    """Parse one YAML document keeping positions; raises yaml.YAMLError on bad YAML."""
    node = yaml.compose(text, Loader=_Loader)
    if node is None:
        return None
    return _convert(node, {})


def pos_of(value: Any, default: Pos = (1, 1)) -> Pos:
    return getattr(value, "pos", default)
