"""``reconciler validate`` and ``reconciler schema export``: the commands that need no network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import pass_app
from reconciler.errors import EXIT_ERROR

if TYPE_CHECKING:
    from reconciler.cli import AppContext


@click.command("validate")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for machines, github for GitHub Actions annotations.",
)
@pass_app
def validate(app: AppContext, fmt: str) -> None:
    """Validate the project file and every manifest against the schemas and cross-document rules.

    Reports every problem with file:line:col, the document, the field and what was expected.
    Needs no credentials and opens no network connection. Exit 0 when valid, 1 otherwise.
    """
    from reconciler.config import ProjectFileError, find_project, load_project
    from reconciler.manifest import validate_project
    from reconciler.manifest.report import counted, render_problems

    try:
        project = load_project(app.directory)
    except ProjectFileError as exc:
        root = find_project(app.directory).parent
        shown = render_problems(
            exc.problems, fmt, root=root, color=app.color, relative_to=app.started_in
        )
        click.echo(shown, nl=False, color=app.color)
        click.echo(f"{counted(len(exc.problems), 'problem')} in the project file", err=True)
        raise click.exceptions.Exit(EXIT_ERROR) from None
    report = validate_project(project)
    output = render_problems(
        report.problems,
        fmt,
        root=project.root,
        files=report.files,
        documents=report.documents,
        color=app.color,
        relative_to=app.started_in,
    )
    click.echo(output, nl=False, color=app.color)
    read = f"{counted(report.documents, 'document')} in {counted(report.files, 'file')}"
    if report.problems:
        click.echo(f"{counted(len(report.problems), 'problem')} ({read})", err=True)
        raise click.exceptions.Exit(EXIT_ERROR)
    click.echo(f"valid: {read}", err=True)


@click.group("schema")
def schema() -> None:
    """The JSON Schemas manifests are checked against."""


@schema.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write the JSON Schemas to DIRECTORY for editors (manifest.schema.json for manifests,
    project.schema.json for reconciler.yaml, one per provider type and kind)."""
    from reconciler.schema import all_schema_files, editor_schema, load_schema

    written = []
    for relative in all_schema_files():
        written.append(_write_json(directory / relative, load_schema(relative)))
    written.append(_write_json(directory / "manifest.schema.json", editor_schema()))
    for path in written:
        click.echo(str(path))
    click.echo(f"wrote {len(written)} schemas to {directory}", err=True)


def _write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


COMMANDS: list[click.Command] = [validate, schema]
