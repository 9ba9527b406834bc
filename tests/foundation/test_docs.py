"""The product's docs stand alone and install this project, never the unrelated PyPI name."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


def test_the_distribution_is_not_the_unrelated_pypi_name() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "reconciler-gitops"
    assert project["scripts"] == {"reconciler": "reconciler.cli:main"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_install_line_installs_this_project(doc: Path) -> None:
    for line in doc.read_text().splitlines():
        for match in re.finditer(r"pip install\s+('[^']*'|\"[^\"]*\"|\S+)", line):
            package = match.group(1).strip("'\"")
            assert package != "reconciler", f"{doc.name}: {line.strip()}"
            assert package.startswith((".", "-e", "reconciler-gitops @")), line


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_point_at_nothing_outside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    outside = re.findall(r"shared/\w+|PROVIDERS\.md|endpoints\.tsv|\bseeds?\s+0\d\d", text)
    assert outside == [], doc.name
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}"
