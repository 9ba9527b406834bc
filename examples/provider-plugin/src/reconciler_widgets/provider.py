"""The adapter: read Widgets from a folder of JSON files and write them back.

The platform is a folder (``folder`` in the provider's settings) holding one ``<id>.json`` per
widget: ``{"id", "slug", "title", "color", "size", "tags", "enabled"}``. Anything that edits
those files behind reconciler's back is drift, exactly as an edit in a platform's web UI.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from reconciler.errors import ProviderError
from reconciler.model import (
    Action,
    ExecutionContext,
    LiveResource,
    Operation,
    OperationResult,
    Resource,
    ResourceId,
)

if TYPE_CHECKING:
    import httpx

    from reconciler.config import ProviderConfig

KIND = "Widget"
FIELDS = ("slug", "title", "color", "size", "tags", "enabled")  # the spec, as the schema says


class WidgetsProvider:
    """One ``widgets`` provider instance: a folder of widget files."""

    type_name: ClassVar[str] = "widgets"
    kinds: ClassVar[frozenset[str]] = frozenset({KIND})

    def __init__(
        self, config: ProviderConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        # no HTTP here, so ``transport`` is not used; the setting is resolved now (``${env:…}``)
        self.config = config
        self.folder = Path(str(config.get_required("folder")))
        self._counts: Counter[str] = Counter()

    # -- facts ---------------------------------------------------------------------------------

    async def read(
        self, desired: Sequence[Resource], known: Mapping[ResourceId, str]
    ) -> list[LiveResource]:
        """Every widget file, matched by remote id (from state), then by slug (natural key)."""
        by_remote_id = {remote_id: rid for rid, remote_id in known.items()}
        by_slug = {str(r.spec.get("slug")): r.id for r in desired if r.id.kind == KIND}
        live = []
        for path in self._files():
            widget = self._load(path)
            remote_id = str(widget.get("id") or path.stem)
            spec = {name: widget[name] for name in FIELDS if name in widget}
            rid = by_remote_id.get(remote_id) or by_slug.get(str(spec.get("slug")))
            managed = rid is not None
            if rid is None:
                rid = ResourceId(self.config.name, KIND, str(spec.get("slug") or remote_id))
            live.append(LiveResource(rid, remote_id, spec, raw=widget, managed=managed))
        return live

    # -- operations ----------------------------------------------------------------------------

    def describe(self, operation: Operation) -> tuple[str, ...]:
        """The file steps ``execute`` takes, for the plan (no I/O)."""
        file = f"{self.folder.name}/<id>.json"
        write, delete = f"write {file}", f"delete {file}"
        if operation.action is Action.REMOVE:
            return (delete,)
        if operation.action is Action.REPLACE:
            return (delete, write)
        return (write,)

    async def execute(self, operation: Operation, context: ExecutionContext) -> OperationResult:
        """Carry out one operation on the folder; each write replaces the file atomically."""
        calls: list[str] = []
        live_id = operation.live.remote_id if operation.live is not None else None
        if operation.action in (Action.REMOVE, Action.REPLACE) and live_id:
            self._delete(live_id)
            calls.append("delete")
        if operation.action is Action.REMOVE:
            return OperationResult(remote_id=None, calls=tuple(calls))
        if operation.resource is None:
            raise ProviderError(f"{operation.id}: nothing to write", platform=self.type_name)
        keep_id = live_id if operation.action is not Action.REPLACE else None
        remote_id = keep_id or secrets.token_hex(6)
        widget = {"id": remote_id, **{k: operation.resource.spec[k] for k in FIELDS
                                      if k in operation.resource.spec}}
        self._write(remote_id, widget)
        calls.append("write")
        return OperationResult(remote_id=remote_id, calls=tuple(calls))

    def request_counts(self) -> Mapping[str, int]:
        """File operations made so far (``write``, ``delete``, ``list``)."""
        return dict(self._counts)

    async def aclose(self) -> None:
        """Nothing to close: no connection is kept."""

    # -- the platform --------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        self._counts["list"] += 1
        if not self.folder.is_dir():
            raise ProviderError(
                f"providers.{self.config.name}.folder: {self.folder} is not a folder",
                platform=self.type_name,
            )
        return sorted(self.folder.glob("*.json"))

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProviderError(
                f"{path}: not a widget file ({exc})", platform=self.type_name
            ) from None
        if not isinstance(loaded, dict):
            raise ProviderError(f"{path}: not a widget file (not an object)",
                                platform=self.type_name)
        return loaded

    def _write(self, remote_id: str, widget: Mapping[str, Any]) -> None:
        self._counts["write"] += 1
        target = self.folder / f"{remote_id}.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(widget, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, target)  # never a half-written widget

    def _delete(self, remote_id: str) -> None:
        self._counts["delete"] += 1
        (self.folder / f"{remote_id}.json").unlink(missing_ok=True)
