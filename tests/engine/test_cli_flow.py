"""plan / apply / drift / import wiring through the CLI, with the quickstart project and one
in-memory provider class standing in for every platform (the real adapters are exercised in
test_end_to_end.py)."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.model import ResourceId
from reconciler.providers import registry

from .worlds import MemoryCheckProvider

ROOT = Path(__file__).resolve().parents[2]


class World:
    """One store shared by every provider instance the CLI opens during a test."""

    def __init__(self) -> None:
        self.stores: dict[str, dict] = {}  # provider instance name -> its objects
        self.calls: list[str] = []
        self.ids = itertools.count(1)

    def objects(self):
        return [obj for store in self.stores.values() for obj in store.values()]

    def provider_class(self):
        world = self

        class Shared(MemoryCheckProvider):
            def __init__(self, config=None, *, transport=None):
                super().__init__(config, transport=transport)
                self.objects = world.stores.setdefault(config.name, {})
                self.calls = world.calls
                self._ids = world.ids

        return Shared


@pytest.fixture
def world(monkeypatch):
    shared = World()
    cls = shared.provider_class()
    monkeypatch.setattr(registry, "provider_types", lambda: {"workspace": cls, "outlit": cls})
    return shared


@pytest.fixture
def project(tmp_path):
    target = tmp_path / "quickstart"
    shutil.copytree(
        ROOT / "examples" / "quickstart", target, ignore=shutil.ignore_patterns(".reconciler")
    )
    return target


def run(project: Path, *args: str):
    return CliRunner().invoke(cli, ["-C", str(project), *args])


def test_plan_apply_plan_converges_with_exit_codes(world, project):
    first = run(project, "plan", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "to create" in first.stdout
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete" in applied.stdout
    assert any(call.startswith("check ") for call in world.calls)
    again = run(project, "plan", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes." in again.stdout
    calls = len(world.calls)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert len(world.calls) == calls


def test_drift_names_resource_and_field_and_exits_2(world, project):
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert run(project, "drift").exit_code == 0
    for obj in world.objects():
        if obj["id"].name == "trial-nudge":
            obj["spec"]["description"] = "edited by hand"
    drift = run(project, "drift")
    assert drift.exit_code == 2
    assert "growth/Automation/trial-nudge" in drift.stdout and "description" in drift.stdout
    assert "(drift)" in drift.stdout


def test_drift_is_a_report_separating_platform_drift_from_unapplied_git_changes(world, project):
    assert run(project, "apply", "--auto-approve").exit_code == 0
    growth = project / "manifests" / "growth.yaml"
    growth.write_text(growth.read_text().replace("is about to expire", "ends soon"))

    unapplied = run(project, "drift")
    assert unapplied.exit_code == 0, unapplied.output  # nobody touched the platform
    assert "will perform" not in unapplied.stdout and "will be" not in unapplied.stdout
    assert "Changed on the platforms since the last apply (drift): none" in unapplied.stdout
    assert "Changed in git, not yet applied: 1" in unapplied.stdout
    assert "growth/Automation/trial-nudge (change in git): apply would update it in place" in (
        unapplied.stdout
    )
    assert run(project, "drift", "--include-unapplied").exit_code == 2

    for obj in world.objects():
        if obj["id"] == ResourceId.parse("studio/Automation/nightly-digest"):
            obj["spec"]["description"] = "edited by hand"
    both = run(project, "drift", "--format", "json")
    assert both.exit_code == 2
    document = json.loads(both.stdout)
    groups = {c["address"]: c["group"] for c in document["resource_changes"]}
    assert groups == {
        "studio/Automation/nightly-digest": "platform",
        "growth/Automation/trial-nudge": "unapplied",
    }
    assert document["drift"] == {
        "drifted": True, "platform": 1, "unapplied": 1, "include_unapplied": False
    }
    text = run(project, "drift").stdout
    assert text.index("studio/Automation/nightly-digest (drift)") < text.index(
        "Changed in git, not yet applied: 1"
    )
    markdown = run(project, "drift", "--format", "markdown").stdout
    assert "will be" not in markdown
    assert "**Changed on the platforms since the last apply (drift): 1**" in markdown
    assert "**Changed in git, not yet applied: 1**" in markdown
    github = run(project, "drift", "--format", "github").stdout
    assert "::warning file=manifests/ops.yaml" in github or "::warning file=" in github
    assert "::notice file=manifests/growth.yaml" in github
    assert "will be" not in github


def test_stale_saved_plan_is_refused(world, project):
    saved = project / "plan.json"
    assert run(project, "plan", "--out", str(saved)).exit_code == 0
    assert (
        run(
            project, "apply", "--auto-approve", "--target", "studio/Connection/slack-alerts"
        ).exit_code
        == 0
    )
    stale = run(project, "apply", str(saved))
    assert stale.exit_code == 1 and "saved plan is stale" in stale.stderr


def test_apply_without_approval_off_a_terminal_changes_nothing(world, project):
    result = run(project, "apply")
    assert result.exit_code == 1 and "stdin is not a terminal" in result.stderr
    assert world.calls == []


def test_failure_is_summarised_and_exits_1_then_rerun_converges(world, project, monkeypatch):
    from reconciler.model import ResourceId

    failing = ResourceId("studio", "Connection", "slack-alerts")
    original = MemoryCheckProvider.execute

    async def flaky(self, operation, context):
        if operation.id == failing and not getattr(flaky, "healed", False):
            self.calls.append(f"failed {operation.id}")
            from reconciler.errors import ProviderError

            raise ProviderError("slack connector unavailable")
        return await original(self, operation, context)

    monkeypatch.setattr(MemoryCheckProvider, "execute", flaky)
    result = run(project, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert "failed  create studio/Connection/slack-alerts" in result.stdout
    assert "skipped create studio/Automation/nightly-digest" in result.stdout
    assert "growth/Automation/trial-nudge" not in result.stdout.split("Apply incomplete")[1]
    flaky.healed = True
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def test_plan_json_on_stdout_only(world, project):
    result = run(project, "plan", "--format", "json")
    document = json.loads(result.stdout)
    assert document["format_version"] == "1.2" and document["has_changes"] is True


def test_github_format_annotates_and_appends_to_the_step_summary(
    world, project, tmp_path, monkeypatch
):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run(project, "plan", "--format", "github")
    assert result.exit_code == 0
    assert "::warning file=manifests/automations.yaml,line=" in result.stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n### reconciler plan") and "<details>" in text


def test_markdown_format_is_a_pr_comment(world, project):
    result = run(project, "plan", "--format", "markdown")
    assert result.stdout.startswith("### reconciler plan") and "</details>" in result.stdout


def test_answering_no_at_the_prompt_leaves_state_untouched(world, project, monkeypatch):
    """State is written only after approval: a "no" must not forget entries or bump the serial."""
    from reconciler.commands import engine as commands
    from reconciler.state.local import LocalStateBackend
    from reconciler.state.model import StateEntry

    assert run(project, "apply", "--auto-approve").exit_code == 0
    backend = LocalStateBackend(project / ".reconciler" / "state.json")
    state = backend.read()
    gone = ResourceId("studio", "Automation", "gone-everywhere")  # forgotten by the next apply
    state.entries[gone] = StateEntry("r-gone", "workspace", {}, "2026-01-01T00:00:00Z")
    backend.write(state.stamped())
    growth = project / "manifests" / "growth.yaml"
    growth.write_text(growth.read_text().replace("Tells the growth", "Tells growth"))
    before = (project / ".reconciler" / "state.json").read_text()
    calls = len(world.calls)
    monkeypatch.setattr(commands, "_stdin_is_terminal", lambda: True)
    answered = CliRunner().invoke(cli, ["-C", str(project), "apply"], input="no\n")
    assert answered.exit_code == 1 and "nothing was changed" in answered.stderr
    assert (project / ".reconciler" / "state.json").read_text() == before
    assert not (project / ".reconciler" / "state.json.journal").exists()
    assert gone in backend.read().entries and len(world.calls) == calls


# --target and --out ---------------------------------------------------------------------------

SLACK = "studio/Connection/slack-alerts"
NUDGE = "growth/Automation/trial-nudge"


def _planned(result) -> set[str]:
    return {change["address"] for change in json.loads(result.stdout)["resource_changes"]}


def test_every_target_given_counts_in_plan(world: World, project: Path) -> None:
    both = run(project, "plan", "--format", "json", "--target", SLACK, "--target", NUDGE)
    assert both.exit_code == 0, both.output
    assert {SLACK, NUDGE} <= _planned(both)
    one = run(project, "plan", "--format", "json", "--target", NUDGE)
    assert SLACK not in _planned(one)


def test_every_target_given_counts_in_apply(world: World, project: Path) -> None:
    result = run(project, "apply", "--auto-approve", "--target", SLACK, "--target", NUDGE)
    assert result.exit_code == 0, result.output
    assert {f"create {SLACK}", f"create {NUDGE}"} <= set(world.calls)
    assert not any("nightly-digest" in call for call in world.calls)


def test_an_unknown_target_is_an_error_naming_it(world: World, project: Path) -> None:
    result = run(project, "plan", "--target", SLACK, "--target", "studio/Automation/nope")
    assert result.exit_code == 1
    assert "--target studio/Automation/nope: no such resource" in result.stderr
    assert "slack-alerts: no such" not in result.stderr


@pytest.mark.parametrize("out", ["/nonexistent/dir/p.json", "reconciler.yaml/p.json"])
def test_plan_out_that_cannot_be_written_fails_before_reading(
    world: World, project: Path, out: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reading(*_args, **_kwargs):
        raise AssertionError("live state was read")

    monkeypatch.setattr("reconciler.engine.Engine.read_live", no_reading)
    result = run(project, "plan", "--out", out)
    assert result.exit_code == 1
    assert f"--out {out}:" in result.stderr
    assert "internal error" not in result.stderr


def test_one_progress_clock_for_the_whole_apply(world, project, monkeypatch):
    import re

    import anyio

    from reconciler.engine import Engine

    read_live = Engine.read_live

    async def slow_read(self, *args, **kwargs):
        await anyio.sleep(0.25)
        return await read_live(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "read_live", slow_read)
    result = run(project, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    clock = [float(t) for t in re.findall(r"(?m)^\[\s*([0-9.]+)s\]", result.stderr)]
    assert len(clock) >= 2 and clock == sorted(clock), result.stderr
    assert clock[-1] >= 0.2
