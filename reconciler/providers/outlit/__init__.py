"""The ``outlit`` provider type: Outlit automations with their signals and destinations."""

from reconciler.providers.outlit.provider import OutlitProvider

__all__ = ["OutlitProvider"]
