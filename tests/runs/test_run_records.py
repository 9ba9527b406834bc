"""Runs read from the automation runs API into the neutral run records: shape checked by the
provider, JSON given back as it came."""

from __future__ import annotations

import pytest

from reconciler.errors import ProviderError
from reconciler.providers.automation_runs.records import read_run, read_run_list, read_steps

RUN = {
    "id": "r1",
    "automationId": "a1",
    "status": "failed",
    "triggerType": "schedule",
    "createdAt": "2026-01-01T00:00:00Z",
    "durationSeconds": 1.5,
    "error": {"message": "quota exceeded"},
    "somethingNew": {"the platform": "added this"},
}


def test_a_run_reads_its_fields_and_gives_back_the_platform_object_unchanged():
    run = read_run(RUN, "run r1")
    assert (run.id, run.automation_id, run.status, run.trigger_type) == (
        "r1", "a1", "failed", "schedule")
    assert run.started_at == "" and run.duration_seconds == 1.5
    assert run.to_json() == RUN  # fields the records do not know are kept for --format json


def test_a_list_and_steps_give_back_what_the_commands_printed_before():
    page = read_run_list([RUN], 7, "runs list")
    assert page.to_json() == {"items": [RUN], "total": 7}
    answer = {"steps": [{"key": "k", "name": "n", "status": "failed", "dependsOn": ["j"]}],
              "completedCount": 1, "failedCount": 1}
    steps = read_steps(answer, "run r1 steps")
    assert steps.steps[0].depends_on == ("j",) and (steps.completed, steps.pending) == (1, 0)
    assert steps.to_json() == answer


@pytest.mark.parametrize(
    ("read", "words"),
    [
        (lambda: read_run(["r1"], "run r1"), "run r1: the runs API answered a list where"),
        (lambda: read_run({**RUN, "status": {"x": 1}}, "run r1"), "`status` as text"),
        (lambda: read_run_list([RUN, "r2"], None, "runs list"), "runs list, run 2:"),
        (lambda: read_run_list(["r1001"], None, "runs list", 1000), "runs list, run 1001:"),
        (lambda: read_steps({"steps": {"a": 1}}, "run r1 steps"), "`steps` as a list"),
        (lambda: read_steps({"steps": [], "failedCount": "2"}, "s"), "`failedCount`"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_provider_error_naming_what_was_read(read, words):
    with pytest.raises(ProviderError) as caught:
        read()
    assert words in str(caught.value)


def test_an_event_reads_into_the_neutral_shape_the_events_line_prints():
    from reconciler.providers.automation_runs.records import read_event
    from reconciler.runs_view import event_line

    sent = {"event": "step", "stepKey": "tool", "status": "failed", "message": "boom",
            "at": "2026-01-01T00:00:00Z", "runId": "r1"}
    event = read_event(sent)
    assert (event.kind, event.step, event.status) == ("step", "tool", "failed")
    assert event_line(event) == "2026-01-01T00:00:00Z step tool failed boom"
    assert event.to_json() == sent
    assert event_line(read_event({"runId": "r1"})) == '{"runId": "r1"}'
