"""Small projects written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import AUTOMATION, PROJECT_FILE, ProjectMaker


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
