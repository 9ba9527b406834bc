"""Which files the project's ``manifests`` entries name, and the YAML documents inside them.

Entries are files, folders (recursive ``*.yaml``/``*.yml``, hidden folders skipped) or globs,
relative to the project folder; none may reach outside it.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config import Project
from reconciler.manifest.problems import Problem
from reconciler.manifest.yaml_source import YAMLDocument, YAMLProblem, decode, read_documents

YAML_SUFFIXES = (".yaml", ".yml")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Document:
    """One YAML document of a manifest file, with the positions of its nodes."""

    file: str  # as shown to people: relative to the project folder
    path: Path  # absolute
    index: int  # 1-based position in its file
    yaml: YAMLDocument

    @property
    def value(self) -> Any:
        return self.yaml.value


def manifest_files(project: Project) -> tuple[list[Path], list[Problem]]:
    """The manifest files in a stable order, and problems with the ``manifests`` entries."""
    found: dict[Path, None] = {}
    problems: list[Problem] = []
    project_file = project.file.resolve()
    for index, entry in enumerate(project.manifests):
        paths, message = _expand(project.root, entry)
        if message:
            where = project.manifest_positions[index] if project.manifest_positions else None
            line, column = (where.line, where.column) if where else (1, 1)
            problems.append(
                Problem(
                    project.file.name,
                    line,
                    column,
                    message,
                    path=f"manifests[{index}]",
                    expected="a file, folder or glob inside the project folder",
                )
            )
        for path in paths:
            if path.resolve() != project_file:
                found[path] = None
    return list(found), problems


def _expand(root: Path, entry: str) -> tuple[list[Path], str]:
    """The files one ``manifests`` entry names, or a message saying why it names none."""
    if Path(entry).is_absolute() or ".." in Path(entry).parts:
        return [], f"{entry!r} points outside the project folder"
    if _GLOB_CHARS & set(entry):
        matches = [Path(m) for m in glob.glob(str(root / entry), recursive=True)]
        paths = sorted(p for p in matches if p.is_file())
    elif (root / entry).is_dir():
        paths = sorted(yaml_files(root / entry))
    elif (root / entry).is_file():
        paths = [root / entry]
    else:
        return [], f"{entry!r} does not exist"
    outside = [p for p in paths if not _inside(p, root)]
    if outside:
        return (
            [],
            f"{entry!r} reaches outside the project folder through a link ({outside[0].name})",
        )
    return paths, ""


def yaml_files(folder: Path) -> Iterator[Path]:
    """The ``*.yaml``/``*.yml`` files below ``folder``, hidden folders and files skipped."""
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative):
            continue
        if path.suffix in YAML_SUFFIXES and path.is_file():
            yield path


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def read_manifest(path: Path, root: Path) -> tuple[list[Document], list[Problem]]:
    """The documents of one file (empty ones skipped), or the problem that stops reading it."""
    shown = display_path(path, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [Problem(shown, 1, 1, f"cannot read file: {exc.strerror}")]
    documents: list[Document] = []
    try:
        for index, doc in enumerate(read_documents(decode(data)), start=1):
            if doc.value is not None:
                documents.append(Document(shown, path, index, doc))
    except YAMLProblem as exc:
        return documents, [Problem(shown, exc.line, exc.column, exc.message)]
    return documents, []


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to the project folder when inside it, in forward-slash form."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
