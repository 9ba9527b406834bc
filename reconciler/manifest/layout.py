"""The canonical layout of a manifest file (``reconciler fmt``), through ruamel.yaml's round trip.

ruamel.yaml is used here and nowhere else: it keeps comments, quoting and block scalars as
written, which a load-and-dump through PyYAML would lose. Canonical means:

- the envelope's keys in the order ``apiVersion``, ``kind``, ``metadata``, ``spec`` (any other
  key after them, as written), and ``metadata``'s as ``name``, ``provider``, ``labels``,
  ``lifecycle``; keys inside ``spec`` keep the author's order;
- two spaces per level, sequence items indented under their key (``  - item``);
- block style for every non-empty mapping and sequence (``[a, b]`` becomes two ``- `` lines;
  ``{}`` and ``[]`` stay as they are);
- documents separated by ``---`` lines, none before the first document, no ``...``;
- comments, quotes and ``|``/``>`` block scalars as written (an end-of-line comment keeps its
  column); lines are never wrapped;
- one newline at the end of the file.

A layout never changes meaning: the result is read back with the manifest reader and compared
with the original, and a file whose values or comments would change is left alone.
"""

from __future__ import annotations

import io
from typing import Any

from reconciler.manifest.yaml_source import YAMLProblem, decode, read_documents

ENVELOPE_ORDER = ("apiVersion", "kind", "metadata", "spec")
METADATA_ORDER = ("name", "provider", "labels", "lifecycle")
NEVER_WRAP = 1_000_000  # columns: a long description stays on its line


class LayoutError(YAMLProblem):
    """The file cannot be laid out (it does not parse, or the layout would change it)."""


def canonical(text: str) -> str:
    """``text`` in the canonical layout; LayoutError when it cannot be laid out safely."""
    values = _values(text)
    documents = [doc for doc in _load_all(text) if doc is not None]
    for document in documents:
        _order(document, ENVELOPE_ORDER)
        metadata = document.get("metadata") if hasattr(document, "get") else None
        if metadata is not None:
            _order(metadata, METADATA_ORDER)
        _block_style(document)
    if not documents:
        return text  # nothing but comments (or nothing at all): as written
    stream = io.StringIO()
    _yaml().dump_all(documents, stream)
    result = _leading_comments(text, stream.getvalue())
    if not result.endswith("\n"):
        result += "\n"
    _same_meaning(text, result, values)
    return result


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = NEVER_WRAP
    yaml.allow_duplicate_keys = False
    return yaml


def _load_all(text: str) -> list[Any]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return list(_yaml().load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise LayoutError(f"cannot lay out: {exc.problem or exc}", line, column) from None
    except YAMLError as exc:
        raise LayoutError(f"cannot lay out: {exc}") from None


def _values(text: str) -> list[Any]:
    """The documents' values as the manifest reader sees them (the meaning to keep)."""
    try:
        return [doc.value for doc in read_documents(decode(text.encode())) if doc.value is not None]
    except YAMLProblem as exc:
        raise LayoutError(exc.message, exc.line, exc.column) from None


def _order(node: Any, order: tuple[str, ...]) -> None:
    """Put the keys named in ``order`` first, in that order; the others after, as written."""
    if not hasattr(node, "move_to_end"):
        return
    keys = list(node)
    wanted = [key for key in order if key in node] + [key for key in keys if key not in order]
    if wanted == keys:
        return  # already in order: leave comments exactly where they are
    for key in wanted:
        node.move_to_end(key)


def _block_style(node: Any) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        if node:
            node.fa.set_block_style()
        for value in node.values():
            _block_style(value)
    elif isinstance(node, CommentedSeq):
        if node:
            node.fa.set_block_style()
        for value in node:
            _block_style(value)


def _leading_comments(original: str, laid_out: str) -> str:
    """Comments above a leading ``---`` are dropped by ruamel (they belong to no document);
    keep them, in front of the first document."""
    head = []
    for line in original.splitlines():
        stripped = line.strip()
        if stripped.startswith("---"):
            break
        if stripped and not stripped.startswith("#"):
            return laid_out  # the first document starts without ---: ruamel kept its comments
        head.append(line.rstrip())
    else:
        return laid_out
    block = "\n".join(head).strip("\n")
    if not block or laid_out.startswith(block):
        return laid_out
    return block + "\n" + laid_out


def _same_meaning(original: str, laid_out: str, values: list[Any]) -> None:
    """LayoutError unless the result reads as the same values and keeps every comment line."""
    try:
        after = _values(laid_out)
    except LayoutError as exc:
        raise LayoutError(
            f"the layout would not read back ({exc.message}); left as it is"
        ) from None
    if after != values:
        raise LayoutError("the layout would change what the file means; left as it is")
    kept = _comment_lines(laid_out)
    for number, comment in _numbered_comment_lines(original):
        if comment not in kept:
            raise LayoutError(
                f"the layout would drop the comment {comment!r}; left as it is", number
            )


def _numbered_comment_lines(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip().startswith("#")
    ]


def _comment_lines(text: str) -> set[str]:
    return {comment for _, comment in _numbered_comment_lines(text)}
