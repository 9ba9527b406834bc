"""The combined-fault apply: 1-in-7 503s, 1-in-11 429s, 1-in-13 connection resets before the
platform acted and 1-in-13 answers lost after it acted, all at once. The FIRST apply must
converge: every operation done, state equal to the platform entry by entry, nothing doubled,
and a plan afterwards with nothing to do.

Every provider runs at parallelism 1 so the sandbox draws its faults in the same order on
every run: a seed is a replayable trial, and the test cannot flake.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import anyio
import pytest

from reconciler.config import load_project
from reconciler.engine import Engine, state_backend
from reconciler.providers.http import RetryPolicy
from tests.faults.conftest import apply_in_process, assert_state_matches_platform, small_project

pytestmark = pytest.mark.faults
ROOT = Path(__file__).resolve().parents[2]
FAULTS = {"error_rate": 1 / 7, "throttle_rate": 1 / 11, "reset_rate": 1 / 13,
          "lost_answer_rate": 1 / 13, "retry_after": 0}


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    # the real backoff (0.5 s doubling) would make each trial take many seconds of sleeping
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.001)


def sequential(project: Path) -> Path:
    """Every provider at parallelism 1, with room for faults in a row."""
    config = project / "reconciler.yaml"
    text = re.sub(r"(?m)^    max_retries: \d+\n", "", config.read_text())
    text = re.sub(r"(?m)^(    type: .*\n)", r"\1    parallelism: 1\n    max_retries: 8\n", text)
    config.write_text(text)
    return project


def quickstart(folder: Path, url: str) -> Path:
    """The quickstart example (connections, schedules, triggers, Outlit) without its checks."""
    shutil.copytree(ROOT / "examples" / "quickstart", folder,
                    ignore=shutil.ignore_patterns(".reconciler", "checks.yaml"))
    config = folder / "reconciler.yaml"
    local = rf"\1base_url: {url}\n\1token: ${{env:SANDBOX_TOKEN}}"
    config.write_text(re.sub(r"(?m)^( +)base_url: sandbox$", local, config.read_text()))
    return folder


def plan_operations(project_dir: Path) -> list[str]:
    project = load_project(project_dir)

    async def plan():
        async with Engine(project) as engine:
            return await engine.assess(state_backend(project).read())

    return [f"{op.action} {op.id}" for op in anyio.run(plan).plan.operations]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("build", [small_project, quickstart], ids=["small", "quickstart"])
def test_the_first_apply_converges_under_every_fault_at_once(tmp_path, sandbox_server, build,
                                                             seed, capsys):
    project = sequential(build(tmp_path / "project", sandbox_server.url))
    sandbox_server.set_faults(**FAULTS, seed=seed)
    outcome = apply_in_process(project, parallelism=1)
    statuses = [request.status for request in sandbox_server.requests()]
    sandbox_server.clear_faults()
    assert outcome.failed == [] and outcome.skipped == [], outcome.failed
    assert {0, 429, 503} <= set(statuses)  # every kind of fault was met
    assert_state_matches_platform(project)
    assert plan_operations(project) == []
    retries = capsys.readouterr().err
    assert "503 on " in retries and "429 on " in retries and "retry 1/8" in retries
