"""Small projects written into a temporary folder, and the CLI run on them in-process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli

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


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectMaker:
    """Write a project: the base project file and one valid automation, then ``files``
    (path -> text or bytes; None removes a base file)."""

    def make(files: dict[str, str | bytes | None] | None = None) -> Path:
        base: dict[str, str | bytes | None] = {
            "reconciler.yaml": PROJECT_FILE,
            "manifests/nightly.yaml": AUTOMATION,
        }
        base.update(files or {})
        for name, content in base.items():
            path = tmp_path / name
            if content is None:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return tmp_path

    return make


def run_cli(*args: str) -> Result:
    """Run the CLI in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
