"""World settings: the sandbox's choice wherever the platforms' references leave a behaviour
unsaid, so the tests can run under every value a conforming platform might pick.

Settings live with the world (in the db), are changed through ``PUT /_sandbox/settings`` or a
world file's ``settings:`` section, and return to their defaults on reset.

``first_publish_activation``
    What the first publish of a workspace automation does to ``activation_state``. The
    platform's reference says only that UNSPECIFIED "is used when automation has no published
    version":
    ``deactivated`` (default; what an independent implementation of the contract does),
    ``active``, or ``unspecified`` (left as it was).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from reconciler.sandbox.store import Store

SETTINGS = "settings"
FIRST_PUBLISH_ACTIVATION = ("deactivated", "active", "unspecified")
CHOICES: dict[str, tuple[str, ...]] = {"first_publish_activation": FIRST_PUBLISH_ACTIVATION}


@dataclass(frozen=True)
class WorldSettings:
    """The sandbox's answer to each behaviour the contract does not state."""

    first_publish_activation: str = "deactivated"

    @classmethod
    def from_mapping(cls, values: Any) -> WorldSettings:
        """Settings from JSON/YAML values; a ValueError names an unknown setting or value."""
        if not isinstance(values, dict):
            raise ValueError("settings must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})")
        for name, value in values.items():
            if value not in CHOICES[name]:
                raise ValueError(f"setting {name} must be one of {', '.join(CHOICES[name])}, "
                                 f"got {value!r}")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def current(store: Store) -> WorldSettings:
    """The world's settings (defaults when none were set)."""
    text = store.meta(SETTINGS)
    return WorldSettings(**json.loads(text)) if text else WorldSettings()


def change(store: Store, values: Any) -> WorldSettings:
    """Merge ``values`` into the world's settings and store them."""
    given = WorldSettings.from_mapping(values or {})  # validates before anything is merged
    merged = WorldSettings(**{**current(store).as_dict(),
                              **{k: getattr(given, k) for k in dict(values or {})}})
    store.set_meta(SETTINGS, json.dumps(merged.as_dict()))
    return merged
