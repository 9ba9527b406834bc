"""Workspace automations as the platform keeps them: a list of immutable revisions per automation.

Drafts are ``0.1``, ``0.2``, …; publishing makes the next major (``1.0``); a fork of a published
version starts its minor line (``1.1``). The latest revision is what ``GET`` shows.
"""

from __future__ import annotations

import secrets
import string
from datetime import timedelta
from typing import Any

from reconciler.sandbox import settings
from reconciler.sandbox.http import workspace_error
from reconciler.sandbox.store import Store, now, timestamp

AUTOMATION = "ws_automation"
CONNECTION = "ws_connection"
SANDBOX_USER = "sandbox-user"
DRAFT = "AUTOMATION_STAGE_DRAFT"
PUBLISHED = "AUTOMATION_STAGE_PUBLISHED"
UNSPECIFIED = "AUTOMATION_ACTIVATION_STATE_UNSPECIFIED"
ACTIVE = "AUTOMATION_ACTIVATION_STATE_ACTIVE"
DEACTIVATED = "AUTOMATION_ACTIVATION_STATE_DEACTIVATED"
ACTIVATION_STATES = (UNSPECIFIED, ACTIVE, DEACTIVATED)
EDITABLE = ("display_name", "description", "code", "english_code", "marked_outputs")
PURGE_AFTER = timedelta(days=30)
_NANO_ALPHABET = string.ascii_letters + string.digits + "_-"


def nano_id() -> str:
    """A 21-character URL-safe id like the platform's."""
    return "".join(secrets.choice(_NANO_ALPHABET) for _ in range(21))


def base_name(org: str, workspace: str) -> str:
    return f"organizations/{org}/workspaces/{workspace}"


def latest(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["revisions"][-1]


def latest_published(doc: dict[str, Any]) -> dict[str, Any] | None:
    for revision in reversed(doc["revisions"]):
        if revision["stage"] == "PUBLISHED":
            return revision
    return None


def latest_draft(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The draft being edited: only when the latest revision is a draft."""
    revision = latest(doc)
    return revision if revision["stage"] == "DRAFT" else None


def stage_revision(doc: dict[str, Any], stage: str) -> dict[str, Any]:
    """The revision a stage names, or NOT_FOUND."""
    revision = latest_draft(doc) if stage == DRAFT else latest_published(doc)
    if revision is None:
        label = "draft" if stage == DRAFT else "published"
        raise workspace_error("NOT_FOUND", f"automation {doc['id']} has no {label} version")
    return revision


def render(doc: dict[str, Any], base: str, revision: dict[str, Any] | None = None) -> dict:
    """The documented Automation object (every field present; unset timestamps are null)."""
    revision = revision or latest(doc)
    published = latest_published(doc)
    fields = revision["fields"]
    return {
        "name": f"{base}/automations/{doc['id']}",
        "display_name": fields["display_name"],
        "english_code": fields["english_code"],
        "code": fields["code"],
        "create_time": doc["create_time"],
        "version": revision["version"],
        "update_time": doc["update_time"] if revision is latest(doc) else revision["create_time"],
        "update_user_id": SANDBOX_USER,
        "delete_time": doc["delete_time"],
        "purge_time": doc["purge_time"],
        "description": fields["description"],
        "latest_published_version": published["version"] if published else "",
        "author_id": doc["author_id"],
        "restore_time": None,
        "restore_version": "",
        "restore_user_id": "",
        "publish_time": doc["publish_time"],
        "publish_user_id": SANDBOX_USER if doc["publish_time"] else "",
        "activation_state": doc["activation_state"],
        "marked_outputs": list(fields["marked_outputs"]),
    }


def new_automation(fields: dict[str, Any]) -> dict[str, Any]:
    """A fresh automation holding draft 0.1."""
    moment = timestamp()
    return {
        "id": nano_id(),
        "create_time": moment,
        "update_time": moment,
        "author_id": SANDBOX_USER,
        "activation_state": UNSPECIFIED,
        "delete_time": None,
        "purge_time": None,
        "publish_time": None,
        "revisions": [
            {"version": "0.1", "stage": "DRAFT", "create_time": moment, "fields": fields,
             "connections": []}
        ],
        "inputs_history": [],
    }


def _split(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def add_revision(
    doc: dict[str, Any],
    stage: str,
    version: str,
    fields: dict[str, Any],
    connections: list[dict[str, Any]],
) -> dict[str, Any]:
    """Append an immutable snapshot and make it the latest."""
    moment = timestamp()
    revision = {"version": version, "stage": stage, "create_time": moment,
                "fields": dict(fields), "connections": [dict(c) for c in connections]}
    doc["revisions"].append(revision)
    doc["update_time"] = moment
    return revision


def require_draft(doc: dict[str, Any]) -> dict[str, Any]:
    """The draft being edited, or FAILED_PRECONDITION naming the published version."""
    draft = latest_draft(doc)
    if draft is None:
        raise workspace_error(
            "FAILED_PRECONDITION",
            f"automation {doc['id']} has no draft: the latest version {latest(doc)['version']} "
            "is published and immutable (call :forkPublished first)",
        )
    return draft


def edit_draft(
    doc: dict[str, Any], fields: dict[str, Any] | None = None,
    connections: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Change the draft: a new draft revision with the minor version bumped once."""
    draft = require_draft(doc)
    major, minor = _split(draft["version"])
    merged = {**draft["fields"], **(fields or {})}
    return add_revision(doc, "DRAFT", f"{major}.{minor + 1}", merged,
                        draft["connections"] if connections is None else connections)


def publish(store: Store, doc: dict[str, Any]) -> dict[str, Any]:
    """The draft becomes the next major version."""
    draft = latest_draft(doc)
    if draft is None:
        raise workspace_error("FAILED_PRECONDITION",
                              f"automation {doc['id']} has no draft to publish")
    unresolved = [c["connection_id"] for c in draft["connections"]
                  if store.get(CONNECTION, c["connection_id"]) is None]
    if unresolved:
        raise workspace_error(
            "FAILED_PRECONDITION",
            f"automation {doc['id']} has unresolved connection references: {', '.join(unresolved)}",
        )
    published = latest_published(doc)
    major = _split(published["version"])[0] + 1 if published else 1
    revision = add_revision(doc, "PUBLISHED", f"{major}.0", draft["fields"], draft["connections"])
    doc["publish_time"] = revision["create_time"]
    if published is None:  # the contract does not say what the first publish does: a setting
        choice = settings.current(store).first_publish_activation
        doc["activation_state"] = {"active": ACTIVE, "deactivated": DEACTIVATED}.get(
            choice, doc["activation_state"])
    return revision


def fork(doc: dict[str, Any]) -> dict[str, Any]:
    """A new draft from the latest published version."""
    published = latest_published(doc)
    if published is None:
        raise workspace_error("FAILED_PRECONDITION", f"automation {doc['id']} was never published")
    if latest(doc) is not published:
        raise workspace_error(
            "FAILED_PRECONDITION",
            f"automation {doc['id']} already has draft {latest(doc)['version']} newer than "
            f"published {published['version']}",
        )
    major = _split(published["version"])[0]
    return add_revision(doc, "DRAFT", f"{major}.1", published["fields"], published["connections"])


def soft_delete(doc: dict[str, Any]) -> None:
    moment = now()
    doc["delete_time"] = timestamp(moment)
    doc["purge_time"] = timestamp(moment + PURGE_AFTER)
    doc["update_time"] = doc["delete_time"]


def live_automations(store: Store) -> list[dict[str, Any]]:
    """Automations not deleted."""
    return [d for d in store.all(AUTOMATION) if d["delete_time"] is None]


def find_by_display_name(store: Store, display_name: str) -> dict[str, Any] | None:
    """A fresh copy (safe to change and put back) of the live automation with that name."""
    for doc in live_automations(store):
        if latest(doc)["fields"]["display_name"] == display_name:
            return store.get(AUTOMATION, doc["id"])
    return None


def check_display_name_free(store: Store, display_name: str, own_id: str | None = None) -> None:
    other = find_by_display_name(store, display_name)
    if other is not None and other["id"] != own_id:
        raise workspace_error(
            "ALREADY_EXISTS",
            f"an automation named {display_name!r} already exists ({other['id']})",
        )


def connection_ids(revision: dict[str, Any] | None) -> set[str]:
    return {c["connection_id"] for c in revision["connections"]} if revision else set()
