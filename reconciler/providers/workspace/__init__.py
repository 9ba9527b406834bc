"""The ``workspace`` provider type: workspace automations, schedules, triggers, connections."""

from reconciler.providers.workspace.provider import WorkspaceProvider

__all__ = ["WorkspaceProvider"]
