"""Validation results for people (text), machines (json) and GitHub Actions (annotations)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from reconciler.json_text import dumps
from reconciler.manifest.problems import Problem

FORMATS = ("text", "json", "github")
_GITHUB_ESCAPES = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_GITHUB_PROPERTY_ESCAPES = {**_GITHUB_ESCAPES, ":": "%3A", ",": "%2C"}


def render_problems(
    problems: Sequence[Problem],
    fmt: str,
    *,
    root: Path,
    files: int = 0,
    documents: int = 0,
    color: bool = False,
    relative_to: Path | None = None,
) -> str:
    """The problems in one format; ``root`` is the project folder the problem files are under.

    GitHub annotation paths are relative to ``relative_to`` (default: the working folder).
    """
    ordered = sorted(problems)
    if fmt == "json":
        data = {
            "valid": not ordered,
            "files": files,
            "documents": documents,
            "problems": [p.to_dict() for p in ordered],
        }
        return dumps(data, indent=2) + "\n"
    if fmt == "github":
        return "".join(_annotation(p, root, relative_to) + "\n" for p in ordered)
    return "".join(_text_line(p, color) + "\n" for p in ordered)


def _text_line(problem: Problem, color: bool) -> str:
    text = str(problem)
    if not color:
        return text
    where = f"{problem.file}:{problem.line}:{problem.column}:"
    return click.style(where, bold=True) + click.style(" error", fg="red") + text[len(where) :]


def _annotation(problem: Problem, root: Path, relative_to: Path | None) -> str:
    """``::error file=…,line=…,col=…::message`` with the path relative to where the command was
    started (``relative_to``), which is the repository root in GitHub Actions."""
    path = root / problem.file
    try:
        shown = os.path.relpath(path, relative_to or Path.cwd())
    except ValueError:  # another drive on Windows
        shown = str(path)
    message = str(problem)[len(f"{problem.file}:{problem.line}:{problem.column}: ") :]
    file_prop = _escape(Path(shown).as_posix(), _GITHUB_PROPERTY_ESCAPES)
    return (
        f"::error file={file_prop},line={problem.line},col={problem.column},"
        f"title=reconciler validate::{_escape(message, _GITHUB_ESCAPES)}"
    )


def _escape(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(ch, ch) for ch in text)


def counted(count: int, noun: str) -> str:
    """``3 problems``, ``1 file``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
