"""Find provider classes through the ``reconciler.providers`` entry-point group and open instances.

A third party adds a platform by publishing a package with an entry point in that group; the
engine never imports a concrete adapter.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig
    from reconciler.providers.base import Provider

ENTRY_POINT_GROUP = "reconciler.providers"
SCHEMAS_FOLDER = "schemas"  # inside a provider's package: <kind>.schema.json, settings.schema.json


@cache
def provider_schema_folders() -> dict[str, Path]:
    """Every installed provider type -> the ``schemas`` folder of its package, by type name.

    Found from the entry point's module without importing it (``find_spec`` imports parent
    packages only), so validating a project never loads an adapter or its HTTP stack. A type
    whose package has no such folder maps to a folder that does not exist: it manages no kinds
    and takes only the common settings.
    """
    found: dict[str, Path] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = find_spec(ep.module)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise ConfigError(
                f"provider type {ep.name!r}: its module {ep.module!r} cannot be found "
                f"(entry point {ep.value!r} in the {ENTRY_POINT_GROUP} group)"
            )
        if spec.submodule_search_locations:
            package = Path(next(iter(spec.submodule_search_locations)))
        else:
            package = Path(spec.origin or ".").parent
        found[ep.name] = package / SCHEMAS_FOLDER
    return found


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
    """Build a provider instance.

    What ``base_url`` means is the provider's own business: the HTTP layer of the built-in
    providers (``providers.http.ApiClient``) is the one place that serves ``base_url: sandbox``
    in-process from the embedded sandbox.
    """
    return provider_class(config.type)(config, transport=transport)
