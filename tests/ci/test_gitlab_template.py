"""The GitLab CI template: three jobs with the right rules, and commands the CLI accepts."""

from __future__ import annotations

import re
import shlex

import click
import yaml

from reconciler.cli import COMMANDS, cli

from .conftest import ROOT

TEMPLATE = ROOT / "ci" / "gitlab" / "reconciler.gitlab-ci.yml"


def jobs() -> dict:
    return {
        k: v for k, v in yaml.safe_load(TEMPLATE.read_text()).items() if k.startswith("reconciler-")
    }


def test_the_template_has_the_three_jobs_where_they_belong():
    found = jobs()
    assert set(found) == {"reconciler-plan", "reconciler-apply", "reconciler-drift"}
    rules = {name: job["rules"][0]["if"] for name, job in found.items()}
    assert "merge_request_event" in rules["reconciler-plan"]
    assert "CI_DEFAULT_BRANCH" in rules["reconciler-apply"]
    assert '"schedule"' in rules["reconciler-drift"]
    assert found["reconciler-drift"]["allow_failure"] == {"exit_codes": [2]}
    assert found["reconciler-plan"]["artifacts"]["paths"] == [
        "$RECONCILER_PROJECT_DIR/$RECONCILER_PLAN_FILE"
    ]
    assert "--comment gitlab" in " ".join(found["reconciler-plan"]["script"])


def test_every_reconciler_command_in_the_ci_files_is_one_the_cli_accepts():
    files = [TEMPLATE, ROOT / "docs" / "ci.md"]
    lines = [
        line
        for path in files
        for line in path.read_text().splitlines()
        if re.search(r"\breconciler -C ", line)
    ]
    assert len(lines) >= 7
    for line in lines:
        words = shlex.split(line[line.index("reconciler -C") :].split(" || ")[0])
        command = cli.get_command(click.Context(cli), words[3])
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in words[4:]:
            if word.startswith("--"):
                assert word in options, (
                    f"{word} is not an option of `reconciler {words[3]}`: {line}"
                )
        assert isinstance(command, click.Command)


def test_the_action_script_passes_each_command_only_its_own_options():
    script = (ROOT / "ci" / "github" / "run.sh").read_text()
    current: list[str] = []
    checked = 0
    for line in script.splitlines():
        label = re.match(r"\s+([a-z |]+)\)$", line)
        if label:
            current = [name.strip() for name in label.group(1).split("|")]
        for option in re.findall(r"args\+=\((.*)\)", line):
            for word in shlex.split(option):
                if word.startswith("--") and current and current[0] in COMMANDS:
                    for name in current:
                        params = cli.get_command(click.Context(cli), name).params
                        assert word in {o for p in params for o in getattr(p, "opts", [])}, word
                        checked += 1
    assert checked >= 6


def fetch_script() -> str:
    """The Python the apply job runs to fetch the reviewed plan, as the job's shell passes it."""
    script = jobs()["reconciler-apply"]["script"][0]
    return script.split("<<'FETCH'\n", 1)[1].split("\nFETCH", 1)[0]


def run_fetch(gitlab, tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    (tmp_path / "infra").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "CI_COMMIT_SHA": "abc123",
        "RECONCILER_PROJECT_DIR": "infra",
        "RECONCILER_PLAN_FILE": "reconciler.plan.json",
    }
    return subprocess.run(
        [sys.executable, "-"],
        input=fetch_script(),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_apply_job_fetches_the_plan_of_the_merged_request(gitlab, tmp_path, monkeypatch):
    gitlab.merge_requests["abc123"] = [{"iid": 4, "state": "closed"}, {"iid": 5, "state": "merged"}]
    gitlab.mr_pipelines["5"] = [{"id": 31}, {"id": 30}]  # newest first
    gitlab.pipeline_jobs["31"] = [
        {"id": 310, "name": "reconciler-plan", "status": "success"},
        {"id": 311, "name": "tests", "status": "success"},
    ]
    gitlab.artifacts[("310", "infra/reconciler.plan.json")] = b'{"saved": {}}'
    result = run_fetch(gitlab, tmp_path, monkeypatch)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "infra" / "reconciler.plan.json").read_bytes() == b'{"saved": {}}'
    assert "using the plan of merge request !5, job 310" in result.stdout


def test_the_apply_job_refuses_when_the_latest_plan_did_not_succeed(gitlab, tmp_path, monkeypatch):
    gitlab.merge_requests["abc123"] = [{"iid": 5, "state": "merged"}]
    gitlab.mr_pipelines["5"] = [{"id": 31}, {"id": 30}]
    gitlab.pipeline_jobs["31"] = [{"id": 310, "name": "reconciler-plan", "status": "failed"}]
    gitlab.pipeline_jobs["30"] = [{"id": 300, "name": "reconciler-plan", "status": "success"}]
    result = run_fetch(gitlab, tmp_path, monkeypatch)
    assert result.returncode == 1
    assert "no successful reconciler-plan job in the latest pipeline of !5" in result.stderr


def test_the_template_installs_the_postgres_extra_and_names_the_state_secret():
    template = yaml.safe_load(TEMPLATE.read_text())
    assert "[postgres]" in template["variables"]["RECONCILER_PACKAGE"]
    assert "RECONCILER_STATE_URL" in TEMPLATE.read_text().split("\nvariables:", 1)[0]  # header
    docs = (ROOT / "docs" / "ci.md").read_text()
    gitlab = docs.split("## GitLab CI", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"RECONCILER_PACKAGE: reconciler-gitops\[postgres\]", gitlab)
    assert "RECONCILER_STATE_URL" in gitlab
    # installing by hand: the documented pip line brings the extra too
    assert re.search(r'pip install "reconciler-gitops\[postgres\] @ git\+', docs)
