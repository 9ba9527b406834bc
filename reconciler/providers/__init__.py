"""Provider adapters: one module per platform, found through ``reconciler.providers`` entry points.

The engine imports only :mod:`reconciler.providers.base` and :mod:`reconciler.providers.registry`.
"""
