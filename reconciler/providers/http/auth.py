"""Credentials as request headers, in the schemes several platforms share.

With ``base_url: sandbox`` (or a server on loopback) and no credential configured, the builders
send the placeholder ``sandbox`` in the platform's own scheme. A platform with a scheme of its
own builds it in its provider package from ``credential``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from reconciler.config import SANDBOX_BASE_URL
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.config import ProviderConfig

SANDBOX_CREDENTIAL = "sandbox"

Auth = Mapping[str, str]


def credential(config: ProviderConfig, key: str) -> str:
    """The secret setting ``key``, checked to be usable in a header (no value in errors)."""
    value = config.secret(key)
    if value:
        # A stray newline (common in files piped into variables) would make the HTTP library
        # refuse the header with an error that quotes it: refuse here, naming only the setting.
        if value != value.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ConfigError(
                f"{config.position}: providers.{config.name}.{key}: the value has surrounding "
                "white space or a control character (a trailing newline?); remove it from the "
                "environment variable"
            )
        return value
    if config.base_url == SANDBOX_BASE_URL or config.on_loopback:
        # the embedded sandbox, in process or served on 127.0.0.1, takes any credential
        return SANDBOX_CREDENTIAL
    raise ConfigError(config.missing(key))


def bearer_auth(config: ProviderConfig, key: str = "token") -> Auth:
    """``Authorization: Bearer <token>`` (workspace, outlit)."""
    return {"Authorization": f"Bearer {credential(config, key)}"}


def api_key_auth(config: ProviderConfig, key: str = "api_key") -> Auth:
    """``X-API-Key: <key>`` (automation-runs)."""
    return {"X-API-Key": credential(config, key)}
