"""The GitHub Action (action.yml) and the example workflows in docs/ci.md: linted with
actionlint (and shellcheck for the scripts), the docs quoting the workflow files exactly, and the
action's run script driven as a runner would, against the GitHub stand-in."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from reconciler.comment import marker

from .conftest import ROOT

WORKFLOWS = sorted((ROOT / "docs" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent  # where the test extras put actionlint and shellcheck


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def test_the_action_and_the_example_workflows_pass_actionlint(tmp_path):
    # a repository using the action from its own root, so actionlint also reads action.yml and
    # checks every `with:` of the workflows against the inputs it declares
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    for workflow in WORKFLOWS:
        text = workflow.read_text().replace("your-org/reconciler@v0.1.0", "./")
        (repo / ".github" / "workflows" / workflow.name).write_text(text)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shellcheck = f"-shellcheck={tool('shellcheck')}"
    result = subprocess.run(
        [tool("actionlint"), "-oneline", shellcheck, "-pyflakes="],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(WORKFLOWS) == 3


def test_the_action_scripts_pass_shellcheck():
    scripts = sorted(str(p) for p in (ROOT / "ci" / "github").glob("*.sh"))
    result = subprocess.run([tool("shellcheck"), *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_docs_quote_each_example_workflow_exactly():
    docs = (ROOT / "docs" / "ci.md").read_text()
    quoted = re.findall(r"```yaml\n(.*?)```", docs, flags=re.S)
    for workflow in WORKFLOWS:
        assert workflow.read_text() in quoted, f"docs/ci.md does not quote {workflow.name} as it is"


def test_the_action_declares_what_docs_and_script_rely_on():
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"command", "working-directory", "version"} <= set(action["inputs"])
    assert {"exitcode", "has-changes"} <= set(action["outputs"])
    script = (ROOT / "ci" / "github" / "run.sh").read_text()
    for name in action["runs"]["steps"][2]["env"]:
        assert name in script or name == "GITHUB_TOKEN"


# -- the run script, as the action's step runs it ---------------------------------------------


def step(workspace: Path, tmp_path: Path, command: str, **inputs: str):
    """Run ci/github/run.sh like the action does; the outputs it set and its exit code."""
    output, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    output.write_text("")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_NAME": "pull_request",
        "INPUT_COMMAND": command,
        "INPUT_WORKING_DIRECTORY": "infra",
        "INPUT_COMMENT": "true",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }
    result = subprocess.run(
        ["bash", str(ROOT / "ci" / "github" / "run.sh")],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result, outputs, summary.read_text()


def test_plan_then_apply_through_the_action_step(github, workspace, tmp_path):
    plan, outputs, summary = step(workspace, tmp_path, "plan", plan_file="reconciler.plan.json")
    assert plan.returncode == 0, plan.stderr  # changes are not a failure
    assert outputs["exitcode"] == "2" and outputs["has-changes"] == "true"
    assert summary.startswith("### reconciler plan\n")
    assert Path(outputs["summary-file"]).read_text() == summary
    assert "::warning file=infra/manifests/" in plan.stdout  # annotations relative to the root
    assert [c for c in github.comments if c["body"].startswith(marker("infra"))]
    saved = json.loads((workspace / "infra" / "reconciler.plan.json").read_text())
    assert saved["saved"]["operations"]

    apply, outputs, summary = step(workspace, tmp_path, "apply", plan_file="reconciler.plan.json")
    assert apply.returncode == 0, apply.stderr
    assert outputs["exitcode"] == "0" and outputs["has-changes"] == "true"
    assert "### reconciler apply\n\n```text\n" in summary


def test_the_step_fails_only_on_an_error(github, workspace, tmp_path):
    (workspace / "infra" / "manifests" / "broken.yaml").write_text("kind: Automation\n")
    result, outputs, _ = step(workspace, tmp_path, "validate")
    assert result.returncode == 1 and outputs["exitcode"] == "1"
    assert "::error title=reconciler validate::" in result.stdout
    assert "::error file=infra/manifests/broken.yaml,line=1" in result.stdout


def test_the_example_workflows_read_state_from_the_shared_database():
    # plan, apply and drift run on different runners: each job gets the postgres URL from a secret
    import yaml

    for workflow in WORKFLOWS:
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            assert job["env"]["RECONCILER_STATE_URL"] == "${{ secrets.RECONCILER_STATE_URL }}", (
                f"{workflow.name}: job {name} does not set RECONCILER_STATE_URL from its secret"
            )
    # and the action installs reconciler with the postgres extra, whichever version it takes
    install = (ROOT / "ci" / "github" / "install.sh").read_text()
    specs = re.findall(r'spec="([^"]*)"', install)
    assert len(specs) == 2 and all("[postgres]" in spec for spec in specs), specs
