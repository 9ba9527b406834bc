"""Which project a state belongs to, so one project's state never drives another project.

State records the project's name and, per provider instance, what identifies the platform
account it manages: its type and the settings the provider type marks ``x-identity`` (an
organization or account id). base_url is left out on purpose: one account is
reached through several URLs (a proxy, a regional or renamed host, a sandbox served on another
port), and remote ids belong to the account, not to the URL. The binding is set on the first
write, and every write keeps it current. A state whose recorded binding differs from the
project reading it is refused before anything is planned: its entries would otherwise look
like removed manifests and be planned for removal. ``reconciler state rebind`` records the new
binding when a project was renamed or moved on purpose. A state written before bindings
existed is bound on its next write.

A provider instance added to the project, or one state has never recorded, is no conflict:
the binding grows. Only an instance recorded with another identity, or another name, is.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.errors import StateError

if TYPE_CHECKING:
    from reconciler.config import Project, ProviderConfig
    from reconciler.model import ResourceId
    from reconciler.state.model import Lease, State, StateBackend, StateEntry


class StateBindingError(StateError):
    """The state belongs to another project (another name or other platform accounts)."""


@dataclass(frozen=True)
class Binding:
    """A project's name and, per provider instance, the identity of its platform account."""

    name: str
    providers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name,
                "providers": {k: dict(v) for k, v in sorted(self.providers.items())}}

    @classmethod
    def from_json(cls, data: Any) -> Binding | None:
        """The binding as stored; None for a state written before bindings. A binding of the
        wrong shape is StateShapeError naming its path: read as "not bound", the next write
        would bind the state to whichever project read it."""
        from reconciler.state.model import StateShapeError, json_kind

        if data is None:
            return None
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            found = json_kind(data.get("name")) if isinstance(data, Mapping) else json_kind(data)
            where = "project.name" if isinstance(data, Mapping) else "project"
            expected = "a string" if isinstance(data, Mapping) else "an object"
            raise StateShapeError(f"{where}: expected {expected}, found {found}")
        providers = data.get("providers", {})
        if not isinstance(providers, Mapping) or not all(
            isinstance(v, Mapping) for v in providers.values()
        ):
            raise StateShapeError("project.providers: expected an object of objects")
        return cls(
            name=data["name"],
            providers={str(k): {str(a): str(b) for a, b in v.items()}
                       for k, v in providers.items()},
        )

    def describe(self, instances: set[str] | None = None) -> str:
        """``project 'alpha' (ops: acme account_id=a1)``."""
        shown = [
            f"{name}: " + " ".join(
                [identity.get("type", "?")]
                + [f"{k}={v}" for k, v in sorted(identity.items()) if k != "type"]
            )
            for name, identity in sorted(self.providers.items())
            if instances is None or name in instances
        ]
        return f"project {self.name!r}" + (f" ({'; '.join(shown)})" if shown else "")


def project_binding(project: Project) -> Binding:
    """The binding of ``project`` as its project file says now."""
    return Binding(
        name=project.name,
        providers={name: provider_identity(config) for name, config in project.providers.items()},
    )


def provider_identity(config: ProviderConfig) -> dict[str, str]:
    """Type and the ``x-identity`` settings: what names the platform account an instance
    manages. Never a secret."""
    from reconciler.schema import identity_settings

    identity = {"type": config.type}
    for key in sorted(identity_settings(config.type)):
        value = config.get(key)
        if value not in (None, ""):
            identity[key] = str(value)
    return identity


def conflict(stored: Binding, current: Binding) -> tuple[list[str], set[str]]:
    """How ``stored`` differs from ``current`` (the name, an instance's identity), and the
    instances whose identity differs."""
    reasons = []
    if stored.name != current.name:
        reasons.append("the project name differs")
    moved = set()
    for name in sorted(set(stored.providers) & set(current.providers)):
        was, now = stored.providers[name], current.providers[name]
        if was != now:
            moved.add(name)
            changed = ", ".join(
                f"{key} {was.get(key, '(none)')} -> {now.get(key, '(none)')}"
                for key in sorted(set(was) | set(now)) if was.get(key) != now.get(key)
            )
            reasons.append(f"provider instance {name!r} points elsewhere ({changed})")
    return reasons, moved


def check_binding(state: State, current: Binding, where: str) -> None:
    """StateBindingError when ``state`` belongs to another project; otherwise record
    ``current`` in it (kept by the next write): the name, the project's instances, and the
    recorded instances state still has entries for."""
    stored = state.project
    if stored is not None:
        reasons, moved = conflict(stored, current)
        if reasons:
            raise StateBindingError(
                refusal(where, stored, current, reasons, moved, len(state.entries))
            )
    state.project = merged(stored, current, state)


def merged(stored: Binding | None, current: Binding, state: State) -> Binding:
    """``current``, plus the recorded instances the project dropped but state still names."""
    providers = dict(current.providers)
    if stored is not None:
        still_named = {rid.provider for rid in state.entries}
        for name, identity in stored.providers.items():
            if name not in providers and name in still_named:
                providers[name] = identity
    return Binding(current.name, providers)


def refusal(where: str, stored: Binding, current: Binding, reasons: list[str],
            moved: set[str], entries: int) -> str:
    """The message that says what happened and what to do."""
    return (
        f"{where} belongs to {stored.describe(moved)}; this is {current.describe(moved)}: "
        f"{'; '.join(reasons)}. Refusing to use it: its {entries} entries would be taken for "
        "this project's, and what they name that this project does not declare would be "
        "removed. If the state was copied here by mistake, restore this project's own state "
        "(or point state.path or state.key at it). If this project was renamed or moved to "
        "these accounts on purpose, run `reconciler state rebind` to bind the state to it."
    )


class BoundBackend:
    """A backend as a project uses it: a read refuses a state bound to another project and
    binds any other to this one (the next write keeps the binding)."""

    def __init__(self, inner: StateBackend, binding: Binding) -> None:
        self.inner = inner
        self.binding = binding

    @property
    def where(self) -> str:
        """The state, for messages: its file, or its key and database."""
        return str(getattr(self.inner, "where", "") or f"state {getattr(self.inner, 'path', '')}")

    def lock(self, timeout: float, command: str = "") -> AbstractContextManager[Lease]:
        """The backend's lock or lease."""
        return self.inner.lock(timeout, command)

    def read(self) -> State:
        """The state, refused (StateBindingError) when it belongs to another project."""
        state = self.inner.read()
        check_binding(state, self.binding, self.where)
        return state

    def write(self, state: State) -> None:
        """As the backend writes."""
        self.inner.write(state)

    def record(self, state: State, changes: Mapping[ResourceId, StateEntry | None]) -> None:
        """As the backend records."""
        self.inner.record(state, changes)

    def settle(self, state: State) -> None:
        """As the backend settles."""
        self.inner.settle(state)
