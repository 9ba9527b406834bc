"""Which files the project's ``manifests`` entries name, and the YAML documents inside them.

Entries are files, folders (recursive ``*.yaml``/``*.yml``, hidden folders skipped, linked
folders followed) or globs, relative to the project folder; none may reach outside it, through a
link or otherwise. A name that is no regular file (a FIFO, a device) is refused, never read: a
FIFO would wait for a writer and ``/dev/zero`` never ends.
"""

from __future__ import annotations

import glob
import os
import stat
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
    seen: set[Path] = set()
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
            real = path.resolve()
            if real != project_file and real not in seen:  # one file reached twice: read once
                seen.add(real)
                found[path] = None
    return list(found), problems


def _expand(root: Path, entry: str) -> tuple[list[Path], str]:
    """The files one ``manifests`` entry names, or a message saying why it names none."""
    if Path(entry).is_absolute() or ".." in Path(entry).parts:
        return [], f"{entry!r} points outside the project folder"
    if _GLOB_CHARS & set(entry):
        matches = [Path(m) for m in glob.glob(str(root / entry), recursive=True)]
        paths = sorted(p for p in matches if not p.is_dir())
        if not paths:  # most often a mistyped folder or suffix: never read as "declares nothing"
            return [], f"{entry!r} matches no file"
    elif (root / entry).is_dir():
        paths = sorted(yaml_files(root / entry, root))
    elif (root / entry).exists():
        paths = [root / entry]  # a FIFO or device too: refused when read, naming it
    else:
        return [], f"{entry!r} does not exist"
    outside = [p for p in paths if not _inside(p, root)]
    if outside:
        return (
            [],
            f"{entry!r} reaches outside the project folder through a link "
            f"({display_path(outside[0], root)})",
        )
    return paths, ""


def yaml_files(folder: Path, inside: Path | None = None) -> Iterator[Path]:
    """The ``*.yaml``/``*.yml`` names below ``folder``, hidden folders and files skipped.

    Linked folders are followed (each real folder once, so a link loop ends). With ``inside``,
    a linked folder leading out of it is yielded itself instead of walked, for the caller to
    refuse. Names that are not regular files are yielded too, so that reading them reports
    them instead of skipping them silently.
    """
    seen: set[str] = set()
    limit = os.path.realpath(inside) if inside is not None else None
    for current, folders, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(current)
        if real in seen:
            folders[:] = []
            continue
        if limit is not None and os.path.commonpath([limit, real]) != limit:
            folders[:] = []
            yield Path(current)
            continue
        seen.add(real)
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not name.startswith(".") and os.path.splitext(name)[1] in YAML_SUFFIXES:
                yield Path(current, name)


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
        data = read_regular_file(path)
    except OSError as exc:
        return [], [Problem(shown, 1, 1, f"cannot read file: {exc.strerror or exc}")]
    documents: list[Document] = []
    try:
        for index, doc in enumerate(read_documents(decode(data)), start=1):
            if doc.value is not None:
                documents.append(Document(shown, path, index, doc))
    except YAMLProblem as exc:
        return documents, [Problem(shown, exc.line, exc.column, exc.message)]
    return documents, []


def read_regular_file(path: Path) -> bytes:
    """The bytes of ``path``; OSError saying what it is when it is no regular file. It is opened
    without waiting (a FIFO with no writer would block) and checked before anything is read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"not a regular file but {_file_kind(mode)}; a manifest must be a "
                          "regular file (remove it or move it out of the manifests folders)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISDIR, "a folder"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to the project folder when inside it, in forward-slash form."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
