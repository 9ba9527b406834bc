"""What the foundation tests share: a base project and the CLI run in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli import cli

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"

PROJECT_FILE = """\
version: 1
manifests: [manifests/]
providers:
  studio:
    type: workspace
    base_url: sandbox
    organization_id: org_test
    workspace_id: ws_test
  growth:
    type: outlit
    base_url: sandbox
  lab:
    type: datallog
    base_url: sandbox
  history:
    type: automation-runs
    base_url: sandbox
"""

AUTOMATION = """\
apiVersion: reconciler/v1
kind: Automation
metadata:
  name: nightly
  provider: studio
spec:
  description: Runs every night.
  code: print("hello")
"""

ProjectMaker = Callable[..., Path]


def run_cli(*args: str) -> Result:
    """Run the CLI in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
