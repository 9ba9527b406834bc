"""A saved plan (``plan --out FILE``): the plan document plus what ``apply FILE`` checks.

The file is the JSON plan document (docs/plan-json.md) with one more key, ``saved``:
``{"salt", "desired_fingerprint", "operations": [[address, action], ...]}`` (and
``"allow_remove_all": true`` for a plan made with ``--allow-remove-all``). ``SavedPlan``
is that file as typed data; ``from_json`` checks its shape, so a damaged or hand-edited file
is refused with a message naming the file and the field rather than failing somewhere later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from reconciler.errors import PlanError
from reconciler.render.json import FORMAT_VERSION


@dataclass(frozen=True)
class SavedPlan:
    """What ``apply FILE`` needs to refuse a stale plan, and the plan document it came with.

    ``operations`` are ``(address, action)`` pairs in plan order; ``desired_fingerprint`` is
    a digest of the desired specs salted with ``salt`` (no value is kept in the file).
    """

    state_lineage: str
    state_serial: int
    live_fingerprint: str
    salt: str
    desired_fingerprint: str
    operations: tuple[tuple[str, str], ...]
    refreshed: bool = True
    allow_remove_all: bool = False
    document: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The file's JSON form: the plan document with its ``saved`` object."""
        document = {
            **self.document,
            "state": {"lineage": self.state_lineage, "serial": self.state_serial},
            "live_fingerprint": self.live_fingerprint,
        }
        if not self.refreshed:
            document["refreshed"] = False
        return {
            **document,
            "saved": {
                "salt": self.salt,
                "desired_fingerprint": self.desired_fingerprint,
                "operations": [list(pair) for pair in self.operations],
                **({"allow_remove_all": True} if self.allow_remove_all else {}),
            },
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> SavedPlan:
        """The saved plan in ``data`` (parsed JSON); PlanError naming ``source`` and the field
        when it is not one, or not in the shape ``plan --out`` writes."""
        saved = data.get("saved") if isinstance(data, Mapping) else None
        if not isinstance(saved, Mapping) or data.get("format_version") != FORMAT_VERSION:
            raise PlanError(f"{source}: not a plan saved by `reconciler plan --out`")
        state = _field(data, "state", Mapping, source)
        refreshed = data.get("refreshed", True)
        if not isinstance(refreshed, bool):
            _malformed(source, "refreshed", "true or false")
        allow_remove_all = saved.get("allow_remove_all", False)
        if not isinstance(allow_remove_all, bool):
            _malformed(source, "saved.allow_remove_all", "true or false")
        return cls(
            state_lineage=_field(state, "lineage", str, source, "state."),
            state_serial=_serial(state, source),
            live_fingerprint=_field(data, "live_fingerprint", str, source),
            salt=_field(saved, "salt", str, source, "saved."),
            desired_fingerprint=_field(saved, "desired_fingerprint", str, source, "saved."),
            operations=_operations(saved, source),
            refreshed=refreshed,
            allow_remove_all=allow_remove_all,
            document={key: value for key, value in data.items() if key != "saved"},
        )


def read_saved_plan(path: Path) -> SavedPlan:
    """The saved plan in the file at ``path``; PlanError when it cannot be read or is not one."""
    return SavedPlan.from_json(read_plan_document(path), str(path))


def read_plan_document(path: Path) -> Any:
    """The parsed JSON of a plan file; PlanError naming the file when it cannot be read."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PlanError(f"{path}: cannot read the saved plan: {exc}") from None


def _field(
    data: Mapping[str, Any], key: str, kind: type, source: str, prefix: str = ""
) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        expected = "an object" if kind is Mapping else "a string"
        _malformed(source, prefix + key, expected)
    return value


def _serial(state: Mapping[str, Any], source: str) -> int:
    serial = state.get("serial")
    if not isinstance(serial, int) or isinstance(serial, bool):
        _malformed(source, "state.serial", "a whole number")
    return int(serial)


def _operations(saved: Mapping[str, Any], source: str) -> tuple[tuple[str, str], ...]:
    items = saved.get("operations")
    if not isinstance(items, list):
        _malformed(source, "saved.operations", "a list of [address, action] pairs")
    pairs = []
    for index, item in enumerate(items):
        if not (isinstance(item, list) and len(item) == 2
                and all(isinstance(part, str) for part in item)):
            _malformed(source, f"saved.operations[{index}]", "an [address, action] pair")
        pairs.append((item[0], item[1]))
    return tuple(pairs)


def _malformed(source: str, where: str, expected: str) -> NoReturn:
    raise PlanError(
        f"{source}: malformed saved plan: `{where}` should be {expected}; "
        "make the plan again with `reconciler plan --out FILE`"
    )
