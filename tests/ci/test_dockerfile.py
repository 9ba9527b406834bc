"""The container image's Dockerfile: hadolint-clean, non-root, the CLI as entrypoint.
Building it needs a registry for the base image, so it is linted here, not built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def test_the_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_runs_as_a_user_and_starts_the_cli():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    assert any(line.startswith("FROM python:") and line.endswith("-slim") for line in lines)
    user = [line for line in lines if line.startswith("USER ")][-1]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["reconciler"]' in lines
    # everything the install needs is let through .dockerignore
    allowed = (ROOT / ".dockerignore").read_text()
    for needed in ("pyproject.toml", "README.md", "schemas/", "reconciler/"):
        assert f"!{needed}" in allowed


def test_the_image_has_the_postgres_extra_for_shared_state():
    # a CI job run in the image reads the state its other jobs wrote: the postgres backend
    installs = [line for line in DOCKERFILE.read_text().splitlines() if "pip install" in line]
    assert installs and all('"/src[postgres]"' in line for line in installs), installs
