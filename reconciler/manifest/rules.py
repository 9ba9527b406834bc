"""Rules across documents: duplicate identities and natural keys, dangling references, cycles.

References (``x-reference``) point at another document's ``metadata.name`` of the named kind
within the same provider instance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from reconciler.manifest.documents import Checked
from reconciler.manifest.problems import Problem, closest, dotted
from reconciler.model import ResourceId
from reconciler.schema import natural_key_field, reference_fields


def cross_document_problems(checked: Sequence[Checked], complete: bool = True) -> list[Problem]:
    """Every cross-document problem among documents that passed their own checks.

    ``complete`` is False when some file could not be read or parsed: what it declares is
    unknown, so a reference is not reported as pointing at nothing.
    """
    problems = _duplicate_identities(checked)
    problems += _duplicate_natural_keys(checked)
    if complete:
        problems += _dangling_references(checked)
    problems += _cycles(checked)
    return problems


def _problem(item: Checked, path: tuple[str, ...], message: str, **extra: str) -> Problem:
    line, column = item.document.yaml.mark(path)
    return Problem(
        item.document.file, line, column, message, str(item.resource.id), dotted(path), **extra
    )


def _duplicate_identities(checked: Sequence[Checked]) -> list[Problem]:
    first: dict[ResourceId, Checked] = {}
    problems = []
    for item in checked:
        rid = item.resource.id
        if rid in first:
            earlier = first[rid].resource.source
            problems.append(
                _problem(
                    item,
                    ("metadata", "name"),
                    f"duplicate identity {rid} (first declared at {earlier})",
                    expected="a unique (provider, kind, name)",
                )
            )
        else:
            first[rid] = item
    return problems


def _duplicate_natural_keys(checked: Sequence[Checked]) -> list[Problem]:
    """Two documents matching the same remote object would fight over it on every apply."""
    seen: dict[tuple[str, str, str, str], Checked] = {}
    problems = []
    for item in checked:
        resource = item.resource
        field = natural_key_field(resource.provider_type, resource.id.kind)
        if field is None:
            continue
        key = (resource.id.provider, resource.id.kind, field, str(resource.spec.get(field)))
        other = seen.setdefault(key, item)
        if other is not item and other.resource.id != resource.id:
            problems.append(
                _problem(
                    item,
                    ("spec", field),
                    f"{field} {resource.spec.get(field)!r} is already used by {other.resource.id} "
                    f"({other.resource.source}); both would manage the same remote object",
                    expected=f"a unique {field} per provider",
                )
            )
    return problems


def _dangling_references(checked: Sequence[Checked]) -> list[Problem]:
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in checked:
        names[(item.resource.id.provider, item.resource.id.kind)].add(item.resource.id.name)
    problems = []
    for item in checked:
        resource = item.resource
        for field, kind in reference_fields(resource.provider_type, resource.id.kind).items():
            target = resource.spec.get(field)
            if not isinstance(target, str):
                continue
            candidates = names.get((resource.id.provider, kind), set())
            if target not in candidates:
                problems.append(
                    _problem(
                        item,
                        ("spec", field),
                        f"refers to {kind} {target!r}, which no document of provider "
                        f"{resource.id.provider!r} declares",
                        expected=f"the metadata.name of a document of kind {kind} "
                        f"in provider {resource.id.provider!r}",
                        suggestion=closest(target, candidates),
                    )
                )
    return problems


def _cycles(checked: Sequence[Checked]) -> list[Problem]:
    """Reference cycles make an apply order impossible; report each cycle once."""
    by_id = {item.resource.id: item for item in checked}
    edges: dict[ResourceId, list[ResourceId]] = {}
    for item in checked:
        resource = item.resource
        targets = []
        for field, kind in reference_fields(resource.provider_type, resource.id.kind).items():
            target = ResourceId(resource.id.provider, kind, str(resource.spec.get(field)))
            if target in by_id:
                targets.append(target)
        edges[resource.id] = targets
    problems = []
    state: dict[ResourceId, int] = {}  # 1 visiting, 2 done
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[ResourceId, int]] = [(start, 0)]
        trail: list[ResourceId] = []
        while stack:
            node, position = stack.pop()
            if position == 0:
                state[node] = 1
                trail.append(node)
            targets = edges.get(node, [])
            if position < len(targets):
                stack.append((node, position + 1))
                nxt = targets[position]
                if state.get(nxt) == 1:
                    cycle = trail[trail.index(nxt) :] + [nxt]
                    item = by_id[node]
                    problems.append(
                        _problem(
                            item,
                            ("spec",),
                            "reference cycle: " + " -> ".join(str(r) for r in cycle),
                            expected="references without cycles",
                        )
                    )
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                trail.pop()
    return problems
