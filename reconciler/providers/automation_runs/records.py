"""The automation runs API's answers read into the neutral run records (``run_records``).

Each reader checks the shape of what the API answered (a run is a JSON object, a text field is
not an object or a list, steps are a list of objects) and names what it was reading when it is
not; the record keeps the object as it came (``raw``) for ``--format json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ProviderError
from reconciler.run_records import Run, RunEvent, RunList, RunStep, RunSteps


def read_run(data: Any, source: str) -> Run:
    """The run in ``data``; ProviderError naming ``source`` when it is not one."""
    item = _object(data, source, "a run")
    return Run(
        id=_text(item, "id", source),
        automation_id=_text(item, "automationId", source),
        status=_text(item, "status", source),
        trigger_type=_text(item, "triggerType", source),
        created_at=_text(item, "createdAt", source),
        started_at=_text(item, "startedAt", source),
        completed_at=_text(item, "completedAt", source),
        duration_seconds=_number(item, "durationSeconds", source),
        error=item.get("error"),
        raw=item,
    )


def read_run_list(items: Any, total: int | None, source: str, offset: int = 0) -> RunList:
    """The runs of one page (``offset`` runs after the first); ProviderError naming ``source``
    and the run's place in the whole list when one is not a run."""
    if not isinstance(items, list | tuple):
        raise _shape(source, "a list of runs", items)
    return RunList(
        tuple(
            read_run(item, f"{source}, run {offset + n + 1}") for n, item in enumerate(items)
        ),
        total,
    )


def read_step(data: Any, source: str) -> RunStep:
    """The step in ``data``; ProviderError naming ``source`` when it is not one."""
    item = _object(data, source, "a step")
    depends = item.get("dependsOn") or ()
    if not isinstance(depends, list | tuple):
        raise _shape(source, "`dependsOn` as a list of step keys", depends)
    return RunStep(
        key=_text(item, "key", source),
        name=_text(item, "name", source),
        status=_text(item, "status", source),
        depends_on=tuple(str(d) for d in depends),
        duration_seconds=_number(item, "durationSeconds", source),
        error=item.get("error"),
    )


def read_steps(data: Any, source: str) -> RunSteps:
    """The steps answer in ``data``; ProviderError naming ``source`` when it is not one."""
    item = _object(data, source, "the run's steps")
    steps = item.get("steps") or []
    if not isinstance(steps, list):
        raise _shape(source, "`steps` as a list", steps)
    return RunSteps(
        steps=tuple(read_step(step, f"{source}, step {n + 1}") for n, step in enumerate(steps)),
        completed=_count(item, "completedCount", source),
        failed=_count(item, "failedCount", source),
        running=_count(item, "runningCount", source),
        pending=_count(item, "pendingCount", source),
        raw=item,
    )


def read_event(event: Mapping[str, Any]) -> RunEvent:
    """One event of the stream (already a JSON object): its time, name or type, step, status
    and message, each the platform's words joined when it gives more than one."""

    def words(*keys: str) -> str:
        return " ".join(str(event[key]) for key in keys if event.get(key) not in (None, ""))

    return RunEvent(
        at=words("at", "timestamp"),
        kind=words("event", "type"),
        step=words("stepKey"),
        status=words("status"),
        message=words("message"),
        raw=event,
    )


def _object(data: Any, source: str, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _shape(source, f"{what} (a JSON object)", data)
    return data


def _text(item: Mapping[str, Any], key: str, source: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        raise _shape(source, f"`{key}` as text", value)
    return str(value)


def _number(item: Mapping[str, Any], key: str, source: str) -> float | str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, Mapping | list):
        raise _shape(source, f"`{key}` as a number of seconds", value)
    return value if isinstance(value, int | float | str) else str(value)


def _count(item: Mapping[str, Any], key: str, source: str) -> int:
    value = item.get(key) or 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise _shape(source, f"`{key}` as a whole number", value)
    return value


def _shape(source: str, expected: str, got: Any) -> ProviderError:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    kind = next((word for t, word in kinds.items() if isinstance(got, t)), "a number")
    return ProviderError(f"{source}: the runs API answered {kind} where {expected} was expected")
