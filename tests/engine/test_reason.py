"""Every reason the planner gives is a ``Reason`` member that renders as the plain text it was."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from reconciler.model import Reason

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"

# the texts plans have always shown (text, markdown, github) and carried in plan JSON
SHOWN = {
    "": Reason.NONE,
    "new": Reason.NEW,
    "change in git": Reason.CHANGE_IN_GIT,
    "drift": Reason.DRIFT,
    "conflict": Reason.CONFLICT,
    "change in git and drift": Reason.CHANGE_IN_GIT_AND_DRIFT,
    "deleted out of band": Reason.DELETED_OUT_OF_BAND,
    "upgradable": Reason.UPGRADABLE,
    "state records another remote id": Reason.ADOPT_OTHER_REMOTE_ID,
    "matched live, not in state": Reason.ADOPT_NOT_IN_STATE,
    "claimed: the platform cannot show it, taken as declared": Reason.ADOPT_CLAIM,
    "left unfinished by a failed apply": Reason.UNFINISHED,
    "new check": Reason.NEW_CHECK,
    "check changed": Reason.CHECK_CHANGED,
    "automation changed": Reason.AUTOMATION_CHANGED,
    "orphan": Reason.ORPHAN,
    "destroy": Reason.DESTROY,
    "removed from the manifests; lifecycle.on_remove: keep": Reason.REMOVED_KEEP,
    "removed from the manifests; lifecycle.on_remove: deactivate": Reason.REMOVED_DEACTIVATE,
    "removed from the manifests; lifecycle.on_remove: deactivate; already off":
        Reason.REMOVED_ALREADY_OFF,
}


@pytest.mark.parametrize("text", sorted(SHOWN))
def test_a_reason_renders_exactly_as_its_old_text(text: str) -> None:
    reason = Reason(text)
    assert reason is SHOWN[text]
    assert str(reason) == f"{reason}" == text
    assert json.dumps({"reason": reason}) == json.dumps({"reason": text})


def _reason_values(path: Path) -> list[tuple[int, ast.expr]]:
    """Expressions given as an operation's or comparison's reason in one module."""
    tree = ast.parse(path.read_text())
    found: list[tuple[int, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "reason":
            found.append((node.value.lineno, node.value))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in ("reason", "why") for t in node.targets
        ):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.FunctionDef) and node.name == "_reason":
            found += [(r.lineno, r.value) for r in ast.walk(node)
                      if isinstance(r, ast.Return) and r.value is not None]
    return found


@pytest.mark.parametrize("module", ["diff.py", "plan.py"])
def test_the_planner_gives_only_reason_members(module: str) -> None:
    """A reason written as a bare string would escape the enum (and the drift grouping)."""
    loose = [
        line for line, value in _reason_values(PACKAGE / module)
        if any(isinstance(n, ast.JoinedStr)
               or (isinstance(n, ast.Constant) and isinstance(n.value, str))
               for n in ast.walk(value))
    ]
    assert _reason_values(PACKAGE / module), "the scan found no reasons at all"
    assert loose == [], f"{module}: reasons given as strings on lines {loose}"
