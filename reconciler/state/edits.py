"""Edits of state that are not an apply: forget one entry, rebind to the project.

Each takes the backend's lock, reads, checks, then writes one change; the commands only parse
their arguments and print what happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.errors import StateError

if TYPE_CHECKING:
    from reconciler.config import Project
    from reconciler.model import ResourceId
    from reconciler.state.binding import Binding
    from reconciler.state.model import StateBackend


def forget(backend: StateBackend, rid: ResourceId, *, force: bool, lock_timeout: float) -> None:
    """Forget ``rid`` in state, leaving the live object as it is.

    An entry with lifecycle.prevent_destroy is refused without ``force``: forgetting it would
    also forget its protection.
    """
    with backend.lock(lock_timeout, "reconciler state rm"):
        state = backend.read()
        entry = state.entries.get(rid)
        if entry is None:
            raise StateError(f"{rid}: not in state (see `reconciler state list`)")
        if entry.prevent_destroy and not force:
            raise StateError(
                f"{rid}: has lifecycle.prevent_destroy; forgetting it would drop its "
                "protection with it. Nothing was changed (pass --force to forget it anyway: "
                "the live object then becomes unmanaged and is never removed)"
            )
        del state.entries[rid]
        backend.record(state.stamped(), {rid: None})
        backend.settle(state)


def rebind(
    project: Project, backend: StateBackend, *, lock_timeout: float
) -> tuple[Binding | None, Binding]:
    """Bind the state in ``backend`` (opened unbound) to ``project``: (before, after)."""
    from reconciler.state.binding import merged, project_binding

    binding = project_binding(project)
    with backend.lock(lock_timeout, "reconciler state rebind"):
        state = backend.read()
        if not state.lineage:
            raise StateError("the state is empty: nothing to rebind (the first apply binds it)")
        before = state.project
        state.project = merged(before, binding, state)
        backend.write(state.stamped())
    return before, state.project
