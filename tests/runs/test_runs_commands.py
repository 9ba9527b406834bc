"""``reconciler runs ...`` against the automation-runs API of the loopback sandbox."""

from __future__ import annotations

import json
import uuid

import pytest

FAILED_RUN = "6f0c3f2e-1b7a-4d55-9a53-2f3c44e1b001"
OLD_RUN = "6f0c3f2e-1b7a-4d55-9a53-2f3c44e1b002"


@pytest.fixture
def two_past_runs(seed_runs):
    seed_runs(
        {
            "id": OLD_RUN,
            "automationId": "auto-old",
            "status": "succeeded",
            "createdAt": "2026-01-01T00:00:00Z",
        },
        {
            "id": FAILED_RUN,
            "automationId": "auto-fail",
            "status": "failed",
            "createdAt": "2026-01-02T00:00:00Z",
            "error": "upstream timed out",
        },
    )


def start_datallog_run(runs_project, seed: dict | None = None) -> str:
    """A fresh run (it advances over ~1 s): started through Datallog, which records one."""
    runs_project.write_manifest(
        "dl.yaml",
        f"""\
        apiVersion: reconciler/v1
        kind: Check
        metadata: {{name: live-run, provider: etl}}
        spec: {{project: analytics, automation: daily-load, seed: {json.dumps(seed or {})}}}
        """,
    )
    result = runs_project.cli("check", "live-run", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)[0]["run"]["run_id"]


def test_list_shows_runs_newest_first_with_total(runs_project, two_past_runs):
    result = runs_project.cli("runs", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.index(FAILED_RUN) < result.stdout.index(OLD_RUN)
    assert "upstream" not in result.stdout  # the list stays one line per run

    data = json.loads(runs_project.cli("runs", "list", "--format", "json").stdout)
    assert data["total"] == 2
    assert [item["id"] for item in data["items"]] == [FAILED_RUN, OLD_RUN]


def test_list_filters_by_status_limit_offset_and_automation(runs_project, two_past_runs):
    def ids(*args: str) -> list[str]:
        result = runs_project.cli("runs", "list", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        return [item["id"] for item in json.loads(result.stdout)["items"]]

    assert ids("--status", "failed") == [FAILED_RUN]
    assert ids("--limit", "1") == [FAILED_RUN]
    assert ids("--limit", "1", "--offset", "1") == [OLD_RUN]
    assert ids("--automation", "auto-old") == [OLD_RUN]
    assert ids("--automation", "nothing-like-it") == []


@pytest.mark.parametrize(
    ("option", "value", "loc", "message"),
    [
        ("--limit", "5000", "query.limit", "greater than the maximum of 1000"),
        ("--limit", "-1", "query.limit", "less than the minimum of 0"),
        ("--offset", "-3", "query.offset", "less than the minimum of 0"),
    ],
)
def test_out_of_range_limit_or_offset_shows_the_platform_validation_error(
    runs_project, sandbox_server, option, value, loc, message
):
    result = runs_project.cli("runs", "list", option, value)
    assert result.exit_code == 1
    assert "422" in result.stderr
    assert loc in result.stderr and message in result.stderr
    assert "Traceback" not in result.output
    # the value is outside the contract: the strict sandbox refused it and recorded that
    assert len(sandbox_server.take_violations("invalid request")) == 1


def test_show_prints_run_and_steps_table(runs_project, two_past_runs):
    result = runs_project.cli("runs", "show", FAILED_RUN)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "auto-fail" in out and "failed" in out
    for key in ("start", "tool", "end"):
        assert key in out
    assert "upstream timed out" in out

    data = json.loads(runs_project.cli("runs", "show", FAILED_RUN, "--format", "json").stdout)
    assert data["run"]["id"] == FAILED_RUN
    assert [step["key"] for step in data["steps"]["steps"]] == ["start", "tool", "end"]


def test_show_unknown_run_reports_not_found(runs_project):
    result = runs_project.cli("runs", "show", str(uuid.uuid4()))
    assert result.exit_code == 1
    assert "Run not found" in result.stderr


def test_show_malformed_id_reports_the_validation_error(runs_project, sandbox_server):
    result = runs_project.cli("runs", "show", "not-a-uuid")
    assert result.exit_code == 1
    assert "path.run_id" in result.stderr and "is not a 'uuid'" in result.stderr
    assert len(sandbox_server.take_violations("invalid request")) == 1


def test_cancel_stops_a_running_run_and_refuses_an_ended_one(runs_project):
    run_id = start_datallog_run(runs_project)
    result = runs_project.cli("runs", "cancel", run_id, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "cancelled"

    again = runs_project.cli("runs", "cancel", run_id)
    assert again.exit_code == 1
    assert "409" in again.stderr and "already cancelled" in again.stderr


def test_retry_starts_a_new_run_of_a_failed_one(runs_project, two_past_runs):
    result = runs_project.cli("runs", "retry", FAILED_RUN)
    assert result.exit_code == 0, result.output
    assert "auto-fail" in result.stdout and FAILED_RUN not in result.stdout

    step = runs_project.cli(
        "runs", "retry", FAILED_RUN, "--mode", "from_step", "--step", "tool", "--format", "json"
    )
    assert step.exit_code == 0, step.output
    assert json.loads(step.stdout)["automationId"] == "auto-fail"


def test_retry_refusals_come_back_with_reasons(runs_project, two_past_runs):
    ok_run = runs_project.cli("runs", "retry", OLD_RUN)
    assert ok_run.exit_code == 1
    assert "Only failed runs can be retried" in ok_run.stderr

    no_step = runs_project.cli("runs", "retry", FAILED_RUN, "--mode", "from_step")
    assert no_step.exit_code == 1  # usage error, nothing sent
    assert "--step" in no_step.output

    bad_step = runs_project.cli(
        "runs", "retry", FAILED_RUN, "--mode", "from_step", "--step", "nope"
    )
    assert bad_step.exit_code == 1
    assert "body.stepKey" in bad_step.stderr


def test_events_follow_the_run_until_it_ends(runs_project):
    run_id = start_datallog_run(runs_project, {"fail": True})
    result = runs_project.cli("runs", "events", run_id, "--format", "json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1] == {**events[-1], "type": "run", "status": "failed"}
    tool = [e["status"] for e in events if e.get("stepKey") == "tool"]
    assert tool[-1] == "failed"

    text = runs_project.cli("runs", "events", run_id)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[-1].endswith("run failed")


def test_project_without_runs_provider_says_how_to_add_one(runs_project):
    config = runs_project.root / "reconciler.yaml"
    text = config.read_text()
    config.write_text(text[: text.index("  runs:")])
    result = runs_project.cli("runs", "list")
    assert result.exit_code == 1
    assert "no provider of type 'automation-runs'" in result.stderr


@pytest.mark.anyio
async def test_event_stream_parser_joins_data_lines_and_skips_comments():
    from reconciler.providers.automation_runs.provider import _server_sent_events

    async def lines():
        for line in [
            ": keep-alive",
            "event: step",
            'data: {"stepKey": "tool",',
            'data: "status": "running"}',
            "",
            "data: not json",
            "",
            'data: {"progress": NaN}',
            "",
            'data: {"type": "run", "status": "succeeded"}',
        ]:
            yield line

    events = [event async for event in _server_sent_events(lines())]
    assert events == [
        {"event": "step", "stepKey": "tool", "status": "running"},
        {"data": "not json"},
        {"data": '{"progress": NaN}'},  # no output could write NaN: kept as its text
        {"type": "run", "status": "succeeded"},
    ]


def test_platform_text_with_brackets_is_shown_as_written():
    import io

    from reconciler.run_records import Run, RunStep, RunSteps
    from reconciler.runs_view import console, run_detail

    buffer = io.StringIO()
    run_detail(
        console(buffer, color=True),
        Run("r1", "", "failed", error="bad path [/tmp/x] [bold]"),
        RunSteps((RunStep("load", "[red]load", "failed", error="[/x]"),)),
    )
    shown = buffer.getvalue()
    assert "bad path [/tmp/x] [bold]" in shown and "[red]load" in shown and "[/x]" in shown


def test_events_of_an_ended_run_carry_their_own_time(runs_project, two_past_runs):
    result = runs_project.cli("runs", "events", FAILED_RUN, "--format", "json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and all(e["at"].startswith("2026-01-0") for e in events), events
    text = runs_project.cli("runs", "events", FAILED_RUN)
    assert all(line.startswith("2026-01-0") for line in text.stdout.splitlines())


def test_retry_modes_are_the_runs_providers_and_an_unknown_one_sends_nothing(
    runs_project, sandbox_server, two_past_runs
):
    sandbox_server.clear_requests()
    bogus = runs_project.cli("runs", "retry", FAILED_RUN, "--mode", "from_scratch")
    assert bogus.exit_code == 1
    assert "'from_scratch' is not one the runs provider takes: from_failed, from_step, full" in (
        bogus.output
    )
    stray = runs_project.cli("runs", "retry", FAILED_RUN, "--step", "tool")
    assert stray.exit_code == 1 and "(from_step)" in stray.output
    assert not [r for r in sandbox_server.requests() if r.method == "POST"]


def test_retry_and_cancel_read_state_before_they_send(runs_project, sandbox_server, two_past_runs):
    """The managed identity a retried or cancelled run is shown with comes from state: a state
    that cannot be read stops the command before the platform is asked to act."""
    state = runs_project.root / ".reconciler" / "state.json"
    state.parent.mkdir(exist_ok=True)
    state.write_text('{"format": 1, "serial": "abc"}')
    sandbox_server.clear_requests()
    for args in (("retry", FAILED_RUN), ("cancel", FAILED_RUN)):
        result = runs_project.cli("runs", *args)
        assert result.exit_code == 1, result.output
        assert "state.json" in result.output
    assert not [r for r in sandbox_server.requests() if r.method == "POST"]
