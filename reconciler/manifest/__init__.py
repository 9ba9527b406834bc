"""Manifests: find the files, read strict YAML with positions, validate, build desired Resources.

Public entry: ``load_resources(project)``. Loading never touches the network.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from reconciler.config import Project
from reconciler.errors import ValidationError
from reconciler.manifest.documents import Checked, check_document
from reconciler.manifest.files import Document, manifest_files, read_manifest
from reconciler.manifest.problems import Problem, summary
from reconciler.manifest.rules import cross_document_problems
from reconciler.model import Resource

__all__ = ["Problem", "ValidationReport", "load_resources", "validate_project"]


@dataclass(frozen=True)
class ValidationReport:
    """What validation found: the clean resources, every problem, how much was read."""

    resources: list[Resource]
    problems: list[Problem]
    files: int
    documents: int

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_project(project: Project) -> ValidationReport:
    """Read and validate every manifest of the project, collecting all problems."""
    with _cycle_collector_paused():
        return _validate(project)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Loading builds many long-lived containers and no reference cycles; left running, the
    cycle collector re-scans them again and again (a third of the time on large projects)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _validate(project: Project) -> ValidationReport:
    paths, problems = manifest_files(project)
    documents: list[Document] = []
    unread = 0
    for path in paths:
        found, file_problems = read_manifest(path, project.root)
        documents += found
        if file_problems:
            unread += 1
            first, *rest = sorted(file_problems)
            note = (
                f"{first.message} (this file takes no part in cross-document checks until it "
                "parses, so references to what it declares are not checked)"
            )
            file_problems = [replace(first, message=note), *rest]
        problems += file_problems
    checked: list[Checked] = []
    for document in documents:
        item, document_problems = check_document(document, project)
        problems += document_problems
        if item is not None:
            checked.append(item)
    problems += cross_document_problems(checked, complete=not unread)
    return ValidationReport(
        resources=[item.resource for item in checked if item.clean],
        problems=sorted(set(problems)),
        files=len(paths),
        documents=len(documents),
    )


def load_resources(project: Project) -> list[Resource]:
    """The project's desired resources; raises ValidationError carrying every problem."""
    report = validate_project(project)
    if report.problems:
        raise ValidationError(summary(report.problems), report.problems)
    return report.resources
