"""``reconciler init``: scaffold a project (a project file and a first manifest) in a folder.

The files are written all or none: when any of them exists already nothing is written. The
scaffold validates and plans against the embedded sandbox as it is, so the next commands work at
once; pointing it at a real platform is a change of ``base_url`` and a token reference.

Starting from what a provider already has (``init --from-live``) is the same command with other
files: an option that builds the project file and the exported manifests, written through
``write_new_files`` with the same all-or-none rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli import pass_app
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.cli import AppContext

GITIGNORE = ".gitignore"
IGNORED = ".reconciler/"  # local state, its lock and journal, the sandbox's world

STARTER = Path(__file__).resolve().parent / "starter"  # the scaffold, as the files it writes
PROJECT_FILE = "reconciler.yaml"
FIRST_MANIFEST = "manifests/hello.yaml"


def starter_files(project_name: str = "my-project") -> dict[str, str]:
    """The scaffold: relative path -> text, the project file naming ``project_name``."""
    names = (PROJECT_FILE, FIRST_MANIFEST)
    files = {name: (STARTER / name).read_text(encoding="utf-8") for name in names}
    files[PROJECT_FILE] = files[PROJECT_FILE].replace(
        "version: 1\n",
        "version: 1\n# state is bound to this name: the project keeps it when its folder is moved\n"
        f"name: {project_name}\n",
        1,
    )
    return files


def project_name_for(root: Path) -> str:
    """A valid project name from a folder's name (letters, digits, '.', '_', '-')."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", root.resolve().name).lstrip("._-")[:100]
    return name or "my-project"


@click.command("init")
@click.argument(
    "directory",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--from-live",
    is_flag=True,
    help="Instead of a first manifest, export what the providers already have and adopt it.",
)
@pass_app
def init_command(app: AppContext, directory: Path, from_live: bool) -> None:
    """Create a project in DIRECTORY (default: the current folder, or -C DIR).

    Writes reconciler.yaml (one provider on the embedded sandbox) and a first
    manifest, manifests/hello.yaml, and adds .reconciler/ to .gitignore. Refuses, writing
    nothing, when either file exists. The printed paths are what was written.

    With --from-live, the project starts from what already runs: a reconciler.yaml already in
    DIRECTORY is used as it is (declare your providers there first), otherwise the one above is
    written; then every live object is exported into manifests/ and adopted into state, so the
    first plan shows no changes. It refuses a project that already declares documents.
    """
    root = directory if directory.is_absolute() else app.directory / directory
    if from_live:
        from reconciler.commands.lifecycle import init_from_live

        existing = (root / "reconciler.yaml").is_file()
        project_file = {PROJECT_FILE: starter_files(project_name_for(root))[PROJECT_FILE]}
        written = [] if existing else write_new_files(root, project_file)
        ignore_file, ignore_note = _ignore_local_state(root)
        for path in [*written, *([ignore_file] if ignore_file else [])]:
            shown = path.relative_to(app.directory) if path.is_relative_to(app.directory) else path
            click.echo(shown.as_posix())
        if ignore_note:
            click.echo(ignore_note, err=True)
        init_from_live(root)
        return
    written = write_new_files(root, starter_files(project_name_for(root)))
    ignore_file, ignore_note = _ignore_local_state(root)
    if ignore_file is not None:
        written.append(ignore_file)
    for path in written:
        shown = path.relative_to(app.directory) if path.is_relative_to(app.directory) else path
        click.echo(shown.as_posix())
    if ignore_note:
        click.echo(ignore_note, err=True)
    # the next commands as typed from where this one was started
    shown_root = root.relative_to(app.started_in) if root.is_relative_to(app.started_in) else root
    where = "" if shown_root == Path(".") else f" -C {shown_root.as_posix()}"
    click.echo(
        f"Next: reconciler{where} validate, then reconciler{where} plan and "
        f"reconciler{where} apply (against the embedded sandbox).",
        err=True,
    )


def write_new_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write each file under ``root``, or none when any exists (a ConfigError names them)."""
    targets = [root / relative for relative in files]
    existing = [str(path) for path in targets if path.exists()]
    if existing:
        raise ConfigError(
            f"refusing to overwrite {', '.join(existing)}: nothing was written "
            "(move the files away or run init in an empty folder)"
        )
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} is not a folder")
    try:
        for path, text in zip(targets, files.values(), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:  # "x": never replace a file
                handle.write(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or root}: {exc.strerror or exc}") from None
    return targets


def _ignore_local_state(root: Path) -> tuple[Path | None, str]:
    """Add ``.reconciler/`` to .gitignore (created when missing), as ``cargo init`` does.

    (the file when it was changed, a note when it could not be)
    """
    path = root / GITIGNORE
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        lines = {line.strip().strip("/") for line in text.splitlines()}
        if IGNORED.strip("/") in lines:
            return None, ""
        prefix = "" if not text or text.endswith("\n") else "\n"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"{prefix}# reconciler: local state and the sandbox's world\n{IGNORED}\n")
    except OSError as exc:
        return None, f"Note: could not add {IGNORED} to {path} ({exc.strerror or exc}); add it."
    return path, ""


COMMANDS: list[click.Command] = [init_command]
