"""run_check's own logic (polling, timeout, expect) with a scripted run source.

The platforms are exercised against the sandbox in the other test modules; here a run source
that replays a fixed list of statuses pins down the timing rules without waiting for real runs.
"""

from __future__ import annotations

import io

import pytest

from reconciler.checks import explain, format_duration, parse_duration, run_check
from reconciler.errors import ConfigError, ProviderError
from reconciler.model import ExecutionContext, Resource, ResourceId, SourcePosition
from reconciler.progress import progress_line
from reconciler.providers.base import RunStatus, RunStep

CONTEXT = ExecutionContext(remote_ids={}, desired={})


def make_check(**spec: object) -> Resource:
    return Resource(
        id=ResourceId("studio", "Check", "smoke"),
        provider_type="workspace",
        spec=spec,
        source=SourcePosition("manifests/checks.yaml", 3, 1),
    )


def running(run_id: str = "r1") -> RunStatus:
    return RunStatus(run_id, "RUNNING", False, None, (RunStep("TOOL", "RUNNING"),))


class ScriptedRuns:
    """Answers start/poll from a list; the last status repeats forever."""

    type_name = "workspace"

    def __init__(
        self,
        statuses: list[RunStatus],
        *,
        start_error: ProviderError | None = None,
        can_cancel: bool | None = True,
    ):
        self.statuses = statuses
        self.start_error = start_error
        self.can_cancel = can_cancel
        self.polls = 0
        self.cancelled: list[str] = []

    async def start_check(self, check, context):
        if self.start_error:
            raise self.start_error
        return self.statuses[0]

    async def poll_check(self, check, run_id, context):
        self.polls += 1
        return self.statuses[min(self.polls, len(self.statuses) - 1)]

    async def cancel_check(self, check, run_id, context):
        self.cancelled.append(run_id)
        return self.can_cancel


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_check_passes_when_run_finishes_as_expected():
    finished = RunStatus("r1", "FINISHED", True, True, (RunStep("END", "FINISHED"),))
    runs = ScriptedRuns([running(), running(), finished])
    lines: list[str] = []
    result = await run_check(runs, make_check(timeout="10s"), CONTEXT, lines.append)
    assert result.passed
    assert runs.polls == 2
    assert "run r1 FINISHED" in lines[-1]
    assert "at step TOOL" in lines[1]


@pytest.mark.anyio
async def test_expected_failure_passes_and_unexpected_success_fails():
    failed = RunStatus("r1", "FAILED", True, False, (RunStep("TOOL", "FAILED", "boom"),), "boom")
    assert (await run_check(ScriptedRuns([failed]), make_check(expect="failure"), CONTEXT)).passed
    ok = RunStatus("r1", "FINISHED", True, True)
    result = await run_check(ScriptedRuns([ok]), make_check(expect="failure"), CONTEXT)
    assert not result.passed
    assert "expected failure" in result.message


@pytest.mark.anyio
async def test_failed_check_explains_the_steps_of_the_run():
    steps = (RunStep("START", "FINISHED"), RunStep("TOOL", "FAILED", "tool exploded"))
    failed = RunStatus("r9", "FAILED", True, False, steps, "tool exploded")
    result = await run_check(ScriptedRuns([failed]), make_check(), CONTEXT)
    text = explain(result)
    assert not result.passed
    assert "FAILED" in text.splitlines()[0]
    assert "TOOL" in text and "tool exploded" in text


@pytest.mark.anyio
async def test_run_outliving_its_timeout_is_cancelled_and_reported():
    runs = ScriptedRuns([running("slow")])
    result = await run_check(runs, make_check(timeout="0.5s"), CONTEXT)
    assert not result.passed
    assert runs.cancelled == ["slow"]
    assert "still RUNNING after 0.5s (timeout); the run was cancelled" in result.message
    # backoff: 0.2 + 0.26 nearly reaches the deadline, so at most a handful of polls
    assert 1 <= runs.polls <= 3


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("can_cancel", "said"),
    [(False, "cannot cancel runs, so it was left running"), (None, "a cancel was asked for")],
)
async def test_timeout_report_says_whether_the_run_could_be_cancelled(can_cancel, said):
    runs = ScriptedRuns([running("slow")], can_cancel=can_cancel)
    result = await run_check(runs, make_check(timeout="0.2s"), CONTEXT)
    assert not result.passed and said in result.message


@pytest.mark.anyio
async def test_platform_refusal_to_start_fails_the_check_with_its_message():
    refusal = ProviderError(
        "datallog: Insufficient balance", platform_message="Insufficient balance"
    )
    result = await run_check(ScriptedRuns([running()], start_error=refusal), make_check(), CONTEXT)
    assert not result.passed and result.run is None
    assert "Insufficient balance" in result.message


def test_durations_parse_and_bad_ones_name_the_field():
    assert parse_duration("30s") == 30
    assert parse_duration("5m") == 300
    assert parse_duration("1h") == 3600
    assert parse_duration("1m30s") == 90
    assert format_duration(90) == "1m30s"
    assert format_duration(0.3) == "0.3s"
    assert format_duration(3600) == "1h"
    with pytest.raises(ConfigError, match=r"checks.yaml:3:1.*spec.timeout.*'soon'"):
        parse_duration("soon", make_check())


def test_plain_progress_prints_each_status_once():
    out = io.StringIO()
    with progress_line(out) as report:
        report("run r1 RUNNING")
        report("run r1 RUNNING")
        report("run r1 FINISHED")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("run r1 RUNNING") and lines[1].endswith("run r1 FINISHED")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_is_one_live_line_cleared_at_the_end(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    out = FakeTerminal()
    with progress_line(out) as report:
        report("run r1 RUNNING at step TOOL")
    text = out.getvalue()
    assert "run r1 RUNNING at step TOOL" in text
    assert "0:00:0" in text  # elapsed time beside the status
    assert "\r" in text or "\x1b[" in text  # redrawn in place, not appended as lines
