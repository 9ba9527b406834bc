"""Strict YAML: every node keeps its line and column, and what YAML silently accepts is refused.

PyYAML happily takes duplicate mapping keys (last one wins), expands aliases without limit
(the "billion laughs" document) and reads ``no`` as False. A manifest that means something other
than what it says is worse than one that fails, so this loader composes the node graph with
libyaml's C parser when present, then builds plain Python values itself while recording
positions and refusing duplicates, runaway alias expansion (by node count and by expanded
size) and non-mapping documents.
Booleans follow YAML 1.2: only ``true`` and ``false`` (any case) are booleans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
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
# A document whose text, with every alias expanded, is larger than this is refused: one long
# anchored string referenced thousands of times is small on disk and gigabytes once used.
MAX_EXPANDED_CHARS = 8 * 1024 * 1024


class YAMLProblem(Exception):
    """A file that cannot be read as strict YAML; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class YAMLDocument:
    """One document of a stream: its value, and its node graph for positions.

    Positions are looked up only when a problem is reported, by composing the document again
    and walking its node graph along a JSON path. The common case (a valid document) pays
    nothing for them, and no node graph stays in memory.
    """

    value: Any
    line: int
    column: int
    text: str = field(default="", repr=False, compare=False)  # the whole stream
    index: int = 0  # 0-based position of this document in the stream
    # a number JSON cannot carry (.nan, .inf) is somewhere in it: validation finds where
    non_finite: bool = False

    def mark(self, path: Path_, *, key: bool = False) -> Mark:
        """Where ``path`` sits (its key's position with ``key=True``); the closest ancestor's
        position when the path goes beyond what the document holds."""
        roots = _compose_all(self.text)
        if self.index >= len(roots):
            return (self.line, self.column)
        node = roots[self.index]
        found = node.start_mark
        for part in path:
            child, key_node = _child(node, part)
            if child is None:
                break
            node = child
            found = key_node.start_mark if key and key_node is not None else child.start_mark
        return (found.line + 1, found.column + 1)


@lru_cache(maxsize=4)
def _compose_all(text: str) -> list[yaml.Node]:
    """The node graphs of a stream (only called for streams known to read cleanly)."""
    loader = _Loader(text)
    try:
        roots: list[yaml.Node] = []
        while loader.check_node():
            roots.append(loader.get_node())  # type: ignore[arg-type]
        return roots
    except yaml.YAMLError:  # cannot happen for a stream that was read; positions degrade
        return []
    finally:
        loader.dispose()


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(value node, key node) of ``part`` under ``node``; the last duplicate wins like the data."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in reversed(node.value):
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                return value_node, key_node
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part], None
    return None, None


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


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

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        # Called by the parser for every node. No path resolvers are registered, so only a
        # plain scalar's text decides its tag; manifests repeat the same words thousands of
        # times and PyYAML's resolver is pure Python, so remember the answers.
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = _plain_tag(value)
                if len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                    _PLAIN_TAGS[value] = tag
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP


def _plain_tag(value: str) -> str:
    resolvers = _StrictResolver.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(value[:1], []) + resolvers.get(None, []):
        if regexp.match(value):
            return str(tag)
    return _STR


_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 50_000


def read_documents(text: str) -> Iterator[YAMLDocument]:
    """Parse a YAML stream into documents; raises YAMLProblem at the first unreadable spot."""
    loader = _Loader(text)
    index = 0
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
            yield _Builder(loader).document(node, text, index)
            index += 1
    finally:
        loader.dispose()


class _Builder:
    """Turns a composed node graph into plain values, refusing duplicates and alias bombs."""

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self._constructors = loader.yaml_constructors
        self._seen: set[int] = set()
        self._alias_budget = MAX_ALIAS_NODES
        self._size_budget = MAX_EXPANDED_CHARS
        self._non_finite = False

    def document(self, node: yaml.Node, text: str, index: int) -> YAMLDocument:
        start = node.start_mark
        value = self._build(node)
        return YAMLDocument(value, start.line + 1, start.column + 1, text, index,
                            non_finite=self._non_finite)

    def _build(self, node: yaml.Node) -> Any:
        if type(node) is yaml.ScalarNode:
            self._size_budget -= len(node.value)
            if self._size_budget < 0:
                raise YAMLProblem(
                    f"the document is larger than {MAX_EXPANDED_CHARS // (1024 * 1024)} MB of "
                    "text once its aliases are expanded (a long anchored value used many times "
                    "is refused)",
                    *_where(node),
                )
            if node.tag == _STR:
                return node.value
            return self._scalar(node)
        if id(node) in self._seen:
            # The composer hands back the same node object for each alias: count what expands.
            self._alias_budget -= _count_nodes(node, self._alias_budget + 1)
            if self._alias_budget < 0:
                raise YAMLProblem(
                    f"alias expansion exceeds {MAX_ALIAS_NODES} nodes (recursive or runaway "
                    "aliases are refused)",
                    *_where(node),
                )
        self._seen.add(id(node))
        if type(node) is yaml.MappingNode and node.tag == _MAP:
            return self._mapping(node)
        if type(node) is yaml.SequenceNode and node.tag == _SEQ:
            return [self._build(item) for item in node.value]
        raise YAMLProblem(f"unsupported tag {node.tag}", *_where(node))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        constructor = self._constructors.get(node.tag)
        if constructor is None:
            raise YAMLProblem(f"unsupported tag {node.tag}", *_where(node))
        try:
            value = constructor(self._loader, node)
        except (yaml.YAMLError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or "cannot read this value"
            raise YAMLProblem(f"invalid value: {problem}", *_where(node)) from None
        if type(value) is float and not math.isfinite(value):
            self._non_finite = True
        return value

    def _mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode or key_node.tag == _MERGE:
                if key_node.tag == _MERGE:
                    raise YAMLProblem(
                        "merge keys (<<) are not supported; write the fields out",
                        *_where(key_node),
                    )
                raise YAMLProblem("mapping keys must be plain strings", *_where(key_node))
            key = key_node.value
            if key in result:
                first = next(k for k, _v in node.value if k.value == key)
                raise YAMLProblem(
                    f"duplicate key {key!r} (first defined at line {first.start_mark.line + 1})",
                    *_where(key_node),
                )
            result[key] = self._build(value_node)
        return result


def _where(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


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
