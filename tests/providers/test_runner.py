"""The one step runner both adapters execute with: steps in order, read-back, lost answers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.errors import NotConvergingError
from reconciler.model import Action, Lifecycle
from reconciler.providers import runner
from reconciler.providers.http import OutcomeUnknown
from reconciler.providers.runner import OperationRun, send_verb_once

from .conftest import context, operation, resource

pytestmark = pytest.mark.anyio


async def test_read_back_names_the_call_that_set_the_field_and_skips_ignored_ones(workspace):
    wanted = replace(resource("Schedule", "nightly", automation="digest", cron="0 6 * * *"),
                     lifecycle=Lifecycle(ignore_changes=("spec.timezone",)))
    run = OperationRun(workspace.client, operation(Action.UPDATE, wanted, None), "workspace")
    run.did("PATCH W/automations/{automation_id}/schedule", ("cron", "timezone"))
    run.converge({"cron": "0 6 * * *", "timezone": "UTC"},
                 {"cron": "0 6 * * *", "timezone": "Europe/Paris"}, ("cron", "timezone"))
    with pytest.raises(NotConvergingError, match=r"cron did not converge: after PATCH W/"):
        run.converge({"cron": "0 6 * * *"}, {"cron": "0 7 * * *"}, ("cron",))


async def test_a_verb_whose_answer_was_lost_is_sent_again_only_if_it_did_not_act():
    sent: list[str] = []

    async def lose_first() -> None:
        sent.append("verb")
        if len(sent) == 1:
            raise OutcomeUnknown("studio: POST ...:publish: no answer")

    async def acted() -> bool:
        return True

    await send_verb_once(lose_first, acted)
    assert sent == ["verb"]  # read back: it acted, so it is not repeated

    sent.clear()

    async def did_not_act() -> bool:
        return False

    await send_verb_once(lose_first, did_not_act)
    assert sent == ["verb", "verb"]


async def test_both_adapters_execute_through_the_one_runner(workspace, outlit, monkeypatch):
    ran: list[str] = []
    real = runner.run_steps

    async def counting(run, steps):
        ran.append(type(run).__module__.split(".")[2])
        return await real(run, steps)

    monkeypatch.setattr("reconciler.providers.workspace.provider.run_steps", counting)
    monkeypatch.setattr("reconciler.providers.outlit.provider.run_steps", counting)
    conn = resource("Connection", "slack", connection_id="slack", connector="slack")
    result = await workspace.execute(operation(Action.CREATE, conn, None), context())
    assert result.remote_id == "slack" and result.calls == ()
    welcome = resource("Automation", "welcome", type_name="outlit", key="welcome", name="W",
                       signals=["signup-completed"], destinations=["slack-growth"])
    result = await outlit.execute(operation(Action.CREATE, welcome, None), context())
    assert result.calls[0] == "POST /api/automations"
    assert ran == ["workspace", "outlit"]
