"""Label selectors (``-l/--selector``): limit a command to the resources whose
``metadata.labels`` match, as ``kubectl -l`` does.

``key=value`` (or ``key==value``) needs the label to have that value; ``key!=value`` needs it
to have another value or none. Requirements are ANDed, whether written in one option
(``-l team=ops,tier!=test``) or repeated (``-l team=ops -l tier!=test``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.model import Resource, ResourceId


class SelectorSyntaxError(ValueError):
    """A requirement that is not ``key=value`` or ``key!=value``."""


@dataclass(frozen=True)
class Requirement:
    """One ``key=value`` or ``key!=value``."""

    key: str
    value: str
    equal: bool = True

    def matches(self, labels: Mapping[str, str]) -> bool:
        return (labels.get(self.key) == self.value) is self.equal

    def __str__(self) -> str:
        return f"{self.key}{'=' if self.equal else '!='}{self.value}"


@dataclass(frozen=True)
class Selector:
    """Requirements that must all hold; an empty selector selects everything."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Selector:
        """From option values; SelectorSyntaxError names the requirement that is wrong."""
        found = []
        for text in texts:
            for part in text.split(","):
                found.append(_requirement(part.strip(), text))
        return cls(tuple(found))

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def select(self, resources: Sequence[Resource]) -> list[ResourceId]:
        """The identities of the resources whose labels match, in the order given."""
        return [r.id for r in resources if self.matches(r.labels)]


def _requirement(part: str, text: str) -> Requirement:
    for operator, equal in (("!=", False), ("==", True), ("=", True)):
        key, found, value = part.partition(operator)
        if found:
            key, value = key.strip(), value.strip()
            if key and not any(mark in key for mark in "=!"):
                return Requirement(key, value, equal)
            break
    raise SelectorSyntaxError(
        f"{part or text!r} is not a label requirement (expected key=value or key!=value)"
    )
