"""Provider adapters: one package per provider type, found through ``reconciler.providers`` entry
points. Each owns its kinds' schemas (``<package>/schemas/``), its contract and its adapter.

The engine imports only :mod:`reconciler.providers.base`, :mod:`reconciler.providers.registry`
and the shared HTTP layer :mod:`reconciler.providers.http`.
"""
