"""The ``widgets`` provider type: Widgets kept as JSON files in a folder.

reconciler finds this package through its ``reconciler.providers`` entry point. Validating a
project reads only ``schemas/`` beside this file; the adapter is imported when a plan needs it.
"""

from reconciler_widgets.provider import WidgetsProvider

__all__ = ["WidgetsProvider"]
