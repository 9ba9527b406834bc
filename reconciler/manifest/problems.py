"""A validation problem: what is wrong, where, what was expected, and the likely intended spelling.

Every stage of loading and validation reports ``Problem`` values instead of raising at the first
one, so a run shows all of them together.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the project. ``line``/``column`` are 1-based."""

    file: str
    line: int
    column: int
    message: str
    identity: str = ""  # "studio/<Kind>/nightly" or "document 2" when the name is unknown
    path: str = ""  # JSON path inside the document, e.g. "spec.cron"
    expected: str = ""
    suggestion: str = ""  # the closest valid spelling, for unknown names and values

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}:{self.column}:"]
        if self.identity:
            parts.append(f"{self.identity}:")
        if self.path:
            parts.append(f"{self.path}:")
        text = " ".join(parts) + " " + self.message
        if self.expected:
            text += f" (expected {self.expected})"
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--format json``."""
        return asdict(self)


def closest(word: object, candidates: Iterable[object]) -> str:
    """The candidate most like ``word`` (difflib), or "" when none is close."""
    options = [str(c) for c in candidates]
    found = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if not found:  # case slips (a kind written in lower case) fall below the ratio cutoff
        lowered = {o.lower(): o for o in options}
        return lowered.get(str(word).lower(), "")
    return found[0]


_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def type_name(value: Any) -> str:
    """The YAML/JSON word for a value's type: ``mapping``, ``list``, ``string``, ..."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def one_of(options: Iterable[object]) -> str:
    """``one of a, b`` (or just ``a`` for a single option); options come already worded."""
    shown = [str(o) for o in options]
    return ("one of " if len(shown) > 1 else "") + ", ".join(shown)


def dotted(path: Sequence[str | int]) -> str:
    """``("spec", "end", 0)`` -> ``spec.end[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def summary(problems: Sequence[Problem]) -> str:
    """Every problem on its own line, then a count."""
    lines = [str(p) for p in sorted(problems)]
    count = len(problems)
    lines.append(f"{count} problem{'s' if count != 1 else ''} found")
    return "\n".join(lines)
