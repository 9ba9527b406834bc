"""Find provider classes through the ``reconciler.providers`` entry-point group and open instances.

A third party adds a platform by publishing a package with an entry point in that group; the
engine never imports a concrete adapter.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from reconciler.config import SANDBOX_BASE_URL
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig
    from reconciler.providers.base import Provider

ENTRY_POINT_GROUP = "reconciler.providers"


@cache
def provider_types() -> dict[str, type[Provider]]:
    """Every installed provider type, by type name."""
    found: dict[str, type[Provider]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    return found


def provider_class(type_name: str) -> type[Provider]:
    """The class registered for ``type_name``, or a ConfigError listing what is installed."""
    types = provider_types()
    try:
        return types[type_name]
    except KeyError:
        known = ", ".join(sorted(types)) or "none"
        raise ConfigError(
            f"unknown provider type {type_name!r} (installed: {known})"
        ) from None


def open_provider(
    config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> Provider:
    """Build a provider instance; ``base_url: sandbox`` talks to the embedded sandbox in-process."""
    cls = provider_class(config.type)
    if transport is None and config.base_url == SANDBOX_BASE_URL:
        from reconciler.sandbox import in_process_transport

        transport = in_process_transport(config.sandbox_db)
    return cls(config, transport=transport)
