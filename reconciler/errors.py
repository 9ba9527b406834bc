"""One error hierarchy: every error carries a message for people and the exit code to use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class ReconcilerError(Exception):
    """Root of every error the product reports to a user; never shown with a traceback."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(ReconcilerError):
    """The project file is missing, malformed, or names something that does not exist."""


class ManifestError(ReconcilerError):
    """A manifest file cannot be read or parsed (bad YAML, duplicate keys, escape attempts)."""


class ValidationError(ReconcilerError):
    """One or more documents broke a schema or cross-document rule; carries every problem."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ProviderError(ReconcilerError):
    """A platform call failed: carries platform, call, status, the platform's message and id."""

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        call: str = "",
        status: int | None = None,
        platform_message: str = "",
        correlation_id: str | None = None,
        code: str | None = None,
        details: object = None,
    ) -> None:
        super().__init__(message)
        self.platform = platform
        self.call = call
        self.status = status
        self.platform_message = platform_message
        self.correlation_id = correlation_id
        self.code = code
        self.details = details
        # set when a create of the failing operation had already made its object
        self.created: Created | None = None


@dataclass(frozen=True)
class Created:
    """What a failing operation had made: a create's object (``remote_id``) before a later step
    failed. ``spec`` is the object as the platform last showed it (spec shape, None when no
    answer showed it); ``left`` names the steps not carried out, the failing one first. The
    engine records the object in state as unfinished instead of losing track of it.
    """

    remote_id: str
    spec: Mapping[str, Any] | None = None
    left: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class NotConvergingError(ProviderError):
    """A field still differs from the desired spec after the call that sets it was made."""


class StateError(ReconcilerError):
    """The state store cannot be read or written."""


class StateLockError(StateError):
    """Another run holds the state lock; the message names the holder."""


class StateLeaseLostError(StateError):
    """This run's state lease expired or was ended by hand: it stops before its next write."""


class PlanError(ReconcilerError):
    """A plan cannot be made (e.g. prevent_destroy would be violated, unknown --target)."""


class PlanStaleError(PlanError):
    """A saved plan no longer matches live state or the state serial."""


class CheckFailedError(ReconcilerError):
    """A smoke check's run did not end as expected."""
