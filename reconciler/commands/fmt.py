"""``reconciler fmt [--check] [PATH ...]``: rewrite manifests in the canonical layout.

The layout itself is ``reconciler.manifest.layout``; this command picks the files, writes the
changed ones (atomically, keeping their mode) and reports.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import pass_app
from reconciler.errors import EXIT_ERROR

if TYPE_CHECKING:
    from reconciler.cli import AppContext


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing: list the files not in the canonical layout and exit 1 if any.",
)
@pass_app
def fmt_command(app: AppContext, paths: tuple[Path, ...], check: bool) -> None:
    """Lay out manifests canonically, keeping comments, quotes and meaning.

    Envelope keys in the order apiVersion, kind, metadata, spec; two-space indentation; block
    style; `---` between documents (see docs/commands.md). Without PATH, every manifest of the
    project; a PATH may be a file or a folder (its *.yaml and *.yml files).

    Prints the files it changed (with --check: that it would change), one a line, on stdout.
    Exit 0 when nothing is (or, with --check, would be) changed, 1 with --check when something
    would, and 1 for a file that cannot be read or laid out (it is left as it is).
    """
    from reconciler.manifest.files import read_regular_file
    from reconciler.manifest.layout import LayoutError, canonical
    from reconciler.manifest.yaml_source import YAMLProblem, decode

    files, problems = _files(app, paths)
    changed: list[Path] = []
    for path in files:
        shown = _shown(path, app)
        try:
            text = decode(read_regular_file(path))
            laid_out = canonical(text)
        except OSError as exc:
            problems.append(f"{shown}: cannot read file: {exc.strerror or exc}")
            continue
        except (LayoutError, YAMLProblem) as exc:
            problems.append(f"{shown}:{exc.line}:{exc.column}: {exc.message}")
            continue
        if laid_out == text:
            continue
        if not check:
            try:
                _replace(path, laid_out)
            except OSError as exc:
                problems.append(f"{shown}: cannot write file: {exc.strerror or exc}")
                continue
        changed.append(path)
        click.echo(shown)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    verb = "would change" if check else "changed"
    click.echo(f"fmt: {verb} {len(changed)} of {len(files)} file(s)", err=True)
    if problems or (check and changed):
        raise click.exceptions.Exit(EXIT_ERROR)


def _files(app: AppContext, paths: tuple[Path, ...]) -> tuple[list[Path], list[str]]:
    """The files to lay out, and problems with what was asked for."""
    from reconciler.manifest.files import YAML_SUFFIXES, yaml_files

    if not paths:
        from reconciler.config import load_project
        from reconciler.manifest.files import manifest_files

        project = load_project(app.directory)
        found, entry_problems = manifest_files(project)
        return found, [f"{p.file}:{p.line}:{p.column}: {p.message}" for p in entry_problems]
    files: dict[Path, None] = {}
    problems = []
    for path in paths:
        if path.is_dir():
            files.update(dict.fromkeys(sorted(yaml_files(path))))
        elif path.exists():  # a FIFO or device too: refused when read, naming it
            files[path] = None
        else:
            problems.append(f"{path}: no such file or folder")
    unknown = [p for p in files if p.suffix not in YAML_SUFFIXES and p in paths]
    problems.extend(f"{p}: not a YAML file (.yaml or .yml)" for p in unknown)
    return [p for p in files if p not in unknown], problems


def _shown(path: Path, app: AppContext) -> str:
    """A path as typed from where the command was started (absolute when outside it)."""
    absolute = path if path.is_absolute() else app.directory / path
    for base in (app.started_in, app.directory):
        if absolute.is_relative_to(base):
            return absolute.relative_to(base).as_posix()
    return str(absolute)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically, keeping the file's permissions."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


COMMANDS: list[click.Command] = [fmt_command]
