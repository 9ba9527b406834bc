"""The product's docs stand alone and install this project, never the unrelated PyPI name."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
CODE = sorted(
    path
    for path in (ROOT / "reconciler").rglob("*")
    if path.suffix in {".py", ".yaml", ".yml", ".json", ".md"}
)
# what the product must not lean on: the references it was built from, by number or file name
OUTSIDE = re.compile(
    r"shared/\w+|PROVIDERS\.md|endpoints\.tsv|\bseeds?\s+#?0\d\d\b|\bthe seeds?\b"
    r"|\b\d{3}_[0-9a-f]{16}\b",
    re.IGNORECASE,
)


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
            assert re.match(r"\.|-e|reconciler-gitops(\[[a-z,]+\])? @", package), line


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_point_at_nothing_outside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    outside = OUTSIDE.findall(text)
    assert outside == [], doc.name
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}"


def test_code_and_its_api_documents_speak_of_the_platforms_not_of_references() -> None:
    """Comments and docstrings say what a platform does ("the platform's reference shows…");
    the OpenAPI documents mark each call ``x-source: documented|assumed``."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {match.group(0)}"
        for path in CODE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in OUTSIDE.finditer(line)
    ]
    assert found == []
