"""Identity matching for adapters: remote id from state first, then natural key, else unmanaged.

A live object matched to nothing keeps a name derived from its natural key, made safe for
``metadata.name`` (lower case, ``[a-z0-9._-]``, at most 63 characters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Mapping, Sequence

from reconciler.model import Resource, ResourceId

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def derived_name(natural_key: str) -> str:
    """A ``metadata.name``-shaped name for an object nobody declared (accents dropped)."""
    plain = unicodedata.normalize("NFKD", natural_key)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    name = _UNSAFE.sub("-", plain.lower()).strip("-._")[:63].rstrip("-._")
    return name or "unnamed"


class Matcher:
    """Matches the live objects of one kind to identities, each desired resource at most once."""

    def __init__(self, provider: str, kind: str, desired: Sequence[Resource],
                 known: Mapping[ResourceId, str], natural_key: str) -> None:
        self.provider = provider
        self.kind = kind
        mine = [r for r in desired if r.id.kind == kind and r.id.provider == provider]
        self.by_key: dict[Hashable, Resource] = {}
        for resource in mine:
            self.by_key.setdefault(resource.spec.get(natural_key), resource)
        self.by_name = {r.id: r for r in mine}
        self.by_remote = {remote: rid for rid, remote in known.items()
                          if rid.kind == kind and rid.provider == provider}

    def match_all(
        self, objects: Sequence[tuple[str, str]]
    ) -> list[tuple[ResourceId, bool, Resource | None]]:
        """(identity, managed, desired resource or None) for each ``(remote_id, natural_key)``.

        Remote ids known from state are matched before any natural key, so an object recreated
        out of band under the same key is adopted only when state's object is gone.
        """
        claimed: set[ResourceId] = set()
        taken = set(self.by_name) | set(self.by_remote.values())
        found: list[tuple[ResourceId, bool, Resource | None] | None] = []
        for remote_id, _ in objects:
            rid = self.by_remote.get(remote_id)
            if rid is not None and rid not in claimed:
                claimed.add(rid)
                found.append((rid, True, self.by_name.get(rid)))
            else:
                found.append(None)
        # objects left unmatched are named in the order of their key and remote id, so the
        # same objects get the same names however the platform happens to list them
        left = sorted(range(len(objects)), key=lambda i: (str(objects[i][1]), str(objects[i][0])))
        for index in left:
            key = objects[index][1]
            if found[index] is not None:
                continue
            resource = self.by_key.get(key)
            if resource is not None and resource.id not in claimed:
                claimed.add(resource.id)
                found[index] = (resource.id, True, resource)
            else:
                found[index] = (self._unmanaged_id(key, taken), False, None)
        return [f for f in found if f is not None]

    def _unmanaged_id(self, key: str, taken: set[ResourceId]) -> ResourceId:
        """A derived identity no other object of this read uses."""
        base = derived_name(key)
        rid = ResourceId(self.provider, self.kind, base)
        counter = 2
        while rid in taken:
            rid = ResourceId(self.provider, self.kind, f"{base[:59]}-{counter}")
            counter += 1
        taken.add(rid)
        return rid
