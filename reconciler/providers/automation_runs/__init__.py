"""The ``automation-runs`` provider type: run health and run management."""

from reconciler.providers.automation_runs.provider import AutomationRunsProvider

__all__ = ["AutomationRunsProvider"]
