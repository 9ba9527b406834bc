"""The ``datallog`` provider type: smoke runs started through Datallog's start-automation call."""

from reconciler.providers.datallog.provider import DatallogProvider

__all__ = ["DatallogProvider"]
