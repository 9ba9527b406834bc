"""Compare desired, last applied and live specs of one resource. Pure: no I/O.

Both sides are first *normalised* through the schema's annotations (``FieldRules``): desired-only
fields dropped, unordered lists sorted canonically, ``lifecycle.ignore_changes`` paths removed and
sensitive values taken out (they are compared separately, through salted hashes kept in state,
because a platform never reads a secret back). An unchanged resource then costs one canonical
hash comparison; only a resource that differs goes through deepdiff for field-level changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from reconciler.model import Change, Lifecycle, Reason

SENSITIVE_MASK = "(sensitive value)"
HASH_PREFIX = "sha256:"

Path = tuple[str, ...]


@dataclass(frozen=True)
class FieldRules:
    """What the schema of one (provider type, kind) says about its spec fields.

    Paths are relative to ``spec``; ``toggles``, ``replace_on_change``, ``references``,
    ``desired_only`` and ``depends_on`` are about top-level fields only, as the annotations are
    defined. ``engine.rules_for`` fills it from ``reconciler.schema``, the one reader of them.
    """

    unordered: frozenset[Path] = frozenset()
    sensitive: frozenset[Path] = frozenset()
    toggles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    replace_on_change: frozenset[str] = frozenset()
    references: Mapping[str, str] = field(default_factory=dict)
    desired_only: frozenset[str] = frozenset()
    # field -> (kind, that kind's spec field) it names without a reference (``x-depends-on``)
    depends_on: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # desired-only flag -> the list field whose upgradable items it upgrades (``x-upgrades``)
    upgrades: Mapping[str, str] = field(default_factory=dict)
    order: int = 1  # among independent operations, lower kinds first (``x-order``)
    check: bool = False  # documents of this kind are smoke checks, never read live (``x-check``)


NO_RULES = FieldRules()
NO_LIFECYCLE = Lifecycle()


# --- canonical form ----------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Sorted-keys compact JSON: the one textual form hashes and sort keys are taken from."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def salted_hash(value: Any, salt: str) -> str:
    """How a sensitive value is remembered in state: never the value, only this digest."""
    digest = hashlib.sha256((salt + canonical_json(value)).encode()).hexdigest()
    return HASH_PREFIX + digest


def get_path(spec: Mapping[str, Any] | None, path: Iterable[str | int]) -> Any:
    """The value at ``path`` or None when any part is missing."""
    node: Any = spec
    for part in path:
        in_list = isinstance(node, list) and isinstance(part, int) and abs(part) < len(node)
        if not in_list and not (isinstance(node, Mapping) and part in node):
            return None
        node = node[part]
    return node


def _without(spec: Mapping[str, Any], paths: Iterable[Path]) -> dict[str, Any]:
    """A deep-enough copy of ``spec`` with the given paths removed."""
    result: dict[str, Any] = dict(spec)
    for path in paths:
        _remove(result, path)
    return result


def _remove(node: dict[str, Any], path: Path) -> None:
    head, *rest = path
    if head not in node:
        return
    if not rest:
        del node[head]
        return
    child = node[head]
    if isinstance(child, Mapping):
        node[head] = dict(child)
        _remove(node[head], tuple(rest))


def _sort_unordered(spec: dict[str, Any], paths: Iterable[Path]) -> dict[str, Any]:
    for path in paths:
        value = get_path(spec, path)
        if isinstance(value, list):
            _set_path(spec, path, sorted(value, key=canonical_json))
    return spec


def _set_path(node: dict[str, Any], path: Path, value: Any) -> None:
    *parents, last = path
    for part in parents:
        node[part] = dict(node[part])
        node = node[part]
    node[last] = value


def ignored_paths(lifecycle: Lifecycle) -> tuple[Path, ...]:
    """``lifecycle.ignore_changes`` entries (``spec.a.b``) as spec-relative paths."""
    paths = []
    for dotted in lifecycle.ignore_changes:
        parts = tuple(dotted.split("."))
        if parts and parts[0] == "spec":
            parts = parts[1:]
        if parts:
            paths.append(parts)
    return tuple(paths)


def comparable(
    spec: Mapping[str, Any], rules: FieldRules, ignore: Iterable[Path] = ()
) -> dict[str, Any]:
    """The part of a spec that is compared with live: no desired-only, sensitive or ignored
    fields, unordered lists sorted."""
    drop: list[Path] = [(name,) for name in rules.desired_only]
    drop.extend(rules.sensitive)
    drop.extend(ignore)
    return _sort_unordered(_without(spec, drop), rules.unordered)


def hashed_sensitive(spec: Mapping[str, Any], rules: FieldRules, salt: str) -> dict[str, str]:
    """Sensitive values of a spec as salted hashes, keyed by dotted path (absent ones left out)."""
    found = {}
    for path in sorted(rules.sensitive):
        value = get_path(spec, path)
        if value is not None and not _is_hash(value):
            found[".".join(path)] = salted_hash(value, salt)
        elif _is_hash(value):
            found[".".join(path)] = value
    return found


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


def for_state(spec: Mapping[str, Any], rules: FieldRules, salt: str) -> dict[str, Any]:
    """The spec as state keeps it: sensitive values replaced by their salted hash."""
    result = _without(spec, ())
    for path in rules.sensitive:
        value = get_path(result, path)
        if value is not None and not _is_hash(value):
            _set_path(result, path, salted_hash(value, salt))
    return json.loads(canonical_json(result))


def masked(spec: Mapping[str, Any] | None, rules: FieldRules) -> dict[str, Any] | None:
    """The spec as any output shows it: sensitive values replaced by a fixed mask."""
    if spec is None:
        return None
    result = _without(spec, [(name,) for name in rules.desired_only])
    for path in rules.sensitive:
        if get_path(result, path) is not None:
            _set_path(result, path, SENSITIVE_MASK)
    return result


# --- comparing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one resource's desired spec with its live projection."""

    changes: tuple[Change, ...]
    reason: Reason  # NONE when unchanged

    @property
    def changed(self) -> bool:
        return bool(self.changes)


UNCHANGED = Comparison((), Reason.NONE)


def compare(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    last_applied: Mapping[str, Any] | None,
    rules: FieldRules,
    lifecycle: Lifecycle = NO_LIFECYCLE,
    salt: str = "",
) -> Comparison:
    """Field-level changes turning ``live`` into ``desired``, and why they exist.

    ``last_applied`` is the state's snapshot (sensitive values as salted hashes) or None when the
    resource was never applied from this project; it tells apart a change made in git, drift made
    out of band, and a conflict where both moved.
    """
    ignore = ignored_paths(lifecycle)
    want = comparable(desired, rules, ignore)
    have = comparable(live, rules, ignore)
    changes: list[Change] = []
    if canonical_json(want) != canonical_json(have):
        changes.extend(_field_changes(have, want))
    changes.extend(_sensitive_changes(desired, last_applied, rules, salt, ignore))
    if not changes:
        return UNCHANGED
    return Comparison(tuple(changes), _reason(changes, desired, live, last_applied, rules, ignore))


def _field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """deepdiff between two normalised specs, as one Change per differing leaf or subtree."""
    tree = DeepDiff(before, after, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    found: dict[tuple[str | int, ...], Change] = {}
    for items in tree.values():
        for item in items:
            path = tuple(item.path(output_format="list"))
            old = None if _missing(item.t1) else item.t1
            new = None if _missing(item.t2) else item.t2
            found[path] = Change(path, old, new)
    return [found[p] for p in sorted(found, key=lambda p: [str(x) for x in p])]


def _missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def _sensitive_changes(
    desired: Mapping[str, Any],
    last_applied: Mapping[str, Any] | None,
    rules: FieldRules,
    salt: str,
    ignore: Iterable[Path],
) -> list[Change]:
    """A sensitive field changed when its salted hash differs from the one in state."""
    if not rules.sensitive:
        return []
    ignored = set(ignore)
    remembered = hashed_sensitive(last_applied or {}, rules, salt) if last_applied else {}
    changes = []
    for path in sorted(rules.sensitive):
        if path in ignored:
            continue
        value = get_path(desired, path)
        dotted = ".".join(path)
        now = salted_hash(value, salt) if value is not None else None
        if last_applied is None or now != remembered.get(dotted):
            if last_applied is None and value is None:
                continue
            changes.append(Change(path, SENSITIVE_MASK, SENSITIVE_MASK, sensitive=True))
    return changes


def _reason(
    changes: list[Change],
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    last_applied: Mapping[str, Any] | None,
    rules: FieldRules,
    ignore: Iterable[Path],
) -> Reason:
    """Why the resource differs: git moved, live moved (drift), or both on one field (conflict)."""
    if last_applied is None:
        return Reason.CHANGE_IN_GIT
    applied = comparable(last_applied, rules, ignore)
    want = comparable(desired, rules, ignore)
    have = comparable(live, rules, ignore)
    git_moved = live_moved = conflict = False
    for change in changes:
        if change.sensitive:
            git_moved = True
            continue
        top = change.path[:1]
        was = get_path(applied, top)
        in_git = get_path(want, top) != was
        in_live = get_path(have, top) != was
        git_moved |= in_git
        live_moved |= in_live
        conflict |= in_git and in_live
    if conflict:
        return Reason.CONFLICT
    if live_moved and not git_moved:
        return Reason.DRIFT
    if live_moved and git_moved:
        return Reason.CHANGE_IN_GIT_AND_DRIFT
    return Reason.CHANGE_IN_GIT


def fingerprint(items: Iterable[tuple[str, str, Mapping[str, Any]]]) -> str:
    """One digest over (identity, remote id, spec) triples: what a saved plan was computed from."""
    digest = hashlib.sha256()
    for identity, remote_id, spec in sorted(items, key=lambda t: (t[0], t[1])):
        digest.update(f"{identity}\0{remote_id}\0{canonical_json(spec)}\n".encode())
    return digest.hexdigest()
