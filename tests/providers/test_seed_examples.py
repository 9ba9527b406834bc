"""The published example bodies (copied from the platforms' references) parse into our shapes."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.providers.outlit.provider import project_automation
from reconciler.providers.workspace.provider import run_status

EXAMPLES = Path(__file__).parent / "seed_examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_outlit_enable_envelope_projects_into_the_automation_spec():
    envelope = example("outlit_enable_response.json")
    automation = envelope["result"]["data"]["automation"]
    spec = project_automation(automation)
    assert spec == {"key": "<string>", "name": "<string>", "description": "<string>",
                    "trigger": {}, "audience_filter": {}, "signals": ["<string>"],
                    "destinations": ["<string>"], "enabled": True}
    assert envelope["result"]["warnings"] == ["<string>"]


def test_workspace_run_example_maps_to_a_run_status():
    run = example("workspace_run.json")
    status = run_status(run["id"], run)
    assert (status.status, status.terminal, status.succeeded) == ("NEW", False, None)
    assert [(s.name, s.status) for s in status.steps] == [("<string>", "NEW")]
    finished = run_status(run["id"], {**run, "status": "FINISHED"})
    failed = run_status(run["id"], {**run, "status": "FAILED"})
    assert (finished.succeeded, failed.succeeded) == (True, False)
    assert failed.error == "<string>"
