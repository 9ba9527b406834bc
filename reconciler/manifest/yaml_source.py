"""Strict YAML: every node keeps its line and column, and what YAML silently accepts is refused.

PyYAML happily takes duplicate mapping keys (last one wins), expands aliases without limit
(the "billion laughs" document) and reads ``no`` as False. A manifest that means something other
than what it says is worse than one that fails, so this loader composes the node graph with
libyaml's C parser when present, then builds plain Python values itself while recording
positions and refusing duplicates, runaway alias expansion and non-mapping documents.
Booleans follow YAML 1.2: only ``true`` and ``false`` (any case) are booleans.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml's parser is several times faster; fall back quietly where it is not built
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line, column

# Alias expansion beyond this many nodes per document is refused (a real manifest needs a few).
MAX_ALIAS_NODES = 10_000


class YAMLProblem(Exception):
    """A file that cannot be read as strict YAML; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class YAMLDocument:
    """One document of a stream: its value and where each node sits.

    ``positions`` maps a JSON path (tuple of keys and indices) to its value's mark;
    ``key_positions`` maps a mapping entry's path to the mark of its key.
    """

    value: Any
    line: int
    column: int
    positions: dict[Path_, Mark] = field(default_factory=dict)
    key_positions: dict[Path_, Mark] = field(default_factory=dict)

    def mark(self, path: Path_, *, key: bool = False) -> Mark:
        """The closest known position for ``path`` (falling back to an ancestor's)."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (self.line, self.column))


class _StrictResolver(yaml.resolver.Resolver):
    """YAML 1.2 booleans (``yes``/``no``/``on``/``off`` stay strings); timestamps stay strings."""


_DROPPED_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}


_StrictResolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Loader(_BaseLoader, _StrictResolver):  # type: ignore[misc, valid-type]
    """The fast parser with our resolver; construction is done by ``_Builder``."""


def read_documents(text: str) -> Iterator[YAMLDocument]:
    """Parse a YAML stream into documents; raises YAMLProblem at the first unreadable spot."""
    loader = _Loader(text)
    try:
        while True:
            try:
                node = loader.get_node() if loader.check_node() else None
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                problem = exc.problem or exc.context or "invalid YAML"
                raise YAMLProblem(f"invalid YAML: {problem}", line, column) from None
            except yaml.YAMLError as exc:
                raise YAMLProblem(f"invalid YAML: {exc}") from None
            if node is None:
                return
            yield _Builder(loader).document(node)
    finally:
        loader.dispose()


class _Builder:
    """Turns a composed node graph into plain values, recording positions on the way."""

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self._seen: set[int] = set()
        self._alias_budget = MAX_ALIAS_NODES

    def document(self, node: yaml.Node) -> YAMLDocument:
        start = node.start_mark
        doc = YAMLDocument(value=None, line=start.line + 1, column=start.column + 1)
        doc.value = self._build(node, (), doc)
        return doc

    def _build(self, node: yaml.Node, path: Path_, doc: YAMLDocument) -> Any:
        mark = node.start_mark
        doc.positions[path] = (mark.line + 1, mark.column + 1)
        if id(node) in self._seen and not isinstance(node, yaml.ScalarNode):
            # The composer hands back the same node object for each alias: count what expands.
            self._alias_budget -= _count_nodes(node, self._alias_budget + 1)
            if self._alias_budget < 0:
                raise YAMLProblem(
                    f"alias expansion exceeds {MAX_ALIAS_NODES} nodes (recursive or runaway "
                    "aliases are refused)",
                    mark.line + 1,
                    mark.column + 1,
                )
        self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, doc)
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, (*path, i), doc) for i, item in enumerate(node.value)]
        try:
            return self._loader.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            problem = exc.problem or "cannot read this value"
            raise YAMLProblem(f"invalid value: {problem}", mark.line + 1, mark.column + 1) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, doc: YAMLDocument) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if node.tag != "tag:yaml.org,2002:map":
            mark = node.start_mark
            raise YAMLProblem(f"unsupported tag {node.tag}", mark.line + 1, mark.column + 1)
        for key_node, value_node in node.value:
            kmark = key_node.start_mark
            where = (kmark.line + 1, kmark.column + 1)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YAMLProblem("merge keys (<<) are not supported; write the fields out", *where)
            if not isinstance(key_node, yaml.ScalarNode):
                raise YAMLProblem("mapping keys must be plain strings", *where)
            key = key_node.value
            if key in result:
                first = doc.key_positions.get((*path, key), where)
                raise YAMLProblem(
                    f"duplicate key {key!r} (first defined at line {first[0]})", *where
                )
            doc.key_positions[(*path, key)] = where
            result[key] = self._build(value_node, (*path, key), doc)
        return result


def _count_nodes(node: yaml.Node, limit: int) -> int:
    """Nodes under ``node`` (itself included), stopping once ``limit`` is reached."""
    count = 0
    stack = [node]
    while stack and count < limit:
        current = stack.pop()
        count += 1
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return count


def decode(data: bytes) -> str:
    """Bytes as UTF-8 text (a BOM is allowed); raises YAMLProblem naming line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YAMLProblem(
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column
        ) from None
