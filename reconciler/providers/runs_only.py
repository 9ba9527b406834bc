"""The Provider protocol for types that manage no objects and only start or report runs.

``datallog`` (smoke checks) and ``automation-runs`` (run health, the runs commands) read nothing
and are never asked to change anything; this is their shared answer to the protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from reconciler.errors import ProviderError
from reconciler.model import (
    ExecutionContext,
    LiveResource,
    Operation,
    OperationResult,
    Resource,
    ResourceId,
)
from reconciler.providers.http import UsesApiClient


class ManagesNothing(UsesApiClient):
    """Mixin: nothing to read, nothing to execute; requests go through ``self.client``."""

    type_name: ClassVar[str]

    async def read(
        self, desired: Sequence[Resource], known: Mapping[ResourceId, str]
    ) -> list[LiveResource]:
        """Nothing of this type is read live (checks never are)."""
        return []

    def describe(self, operation: Operation) -> tuple[str, ...]:
        """No API steps: nothing is changed through this type."""
        return ()

    async def execute(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Refuse: the planner never makes a changing operation for this type."""
        raise ProviderError(
            f"{operation.id}: provider type {self.type_name!r} changes nothing; "
            f"{operation.action} is not possible",
            platform=self.type_name,
        )
