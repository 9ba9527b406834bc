"""``reconciler sandbox …``: serve, reset, seed and edit the embedded sandbox."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.cli import AppContext, pass_app
from reconciler.config import DEFAULT_SANDBOX_DB, find_project
from reconciler.errors import ConfigError, ReconcilerError


class SandboxError(ReconcilerError):
    """A sandbox command was given a world file, edit or setting it cannot use."""


def sandbox_db(app: AppContext, db: Path | None) -> Path:
    """--db, else the project's ``.reconciler/sandbox.db``, else the one under -C DIR.

    Only the project file's location matters (``base_url: sandbox`` always keeps its world
    there), so a project whose variables are unset or whose file is being edited still works.
    """
    if db is not None:
        return db
    try:
        project_file = find_project(app.directory)
    except ConfigError:
        return app.directory / DEFAULT_SANDBOX_DB
    return project_file.parent / DEFAULT_SANDBOX_DB


DB_OPTION = click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="SQLite file of the world (default: <project>/.reconciler/sandbox.db).")
FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]),
                             default="text", show_default=True, help="Output format.")


@click.group("sandbox")
def sandbox() -> None:
    """The embedded sandbox: the platforms' APIs on your machine (see docs/sandbox.md)."""


_FAULT_OPTIONS = [
    ("latency-ms", float, "Delay every platform request by this many milliseconds."),
    ("jitter-ms", float, "Add a random delay up to this many milliseconds."),
    ("throttle-rate", float, "Answer this fraction of requests with 429 and Retry-After."),
    ("throttle-every", int, "Answer every Nth request with 429."),
    ("retry-after", int, "Seconds in the Retry-After header of a 429 (default 1)."),
    ("error-rate", float, "Answer this fraction of requests with a 5xx."),
    ("error-every", int, "Answer every Nth request with a 5xx."),
    ("error-status", int, "The 5xx status to answer with (default 503)."),
    ("reset-rate", float, "Drop the connection for this fraction of requests."),
    ("reset-every", int, "Drop the connection on every Nth request."),
    ("rate-limit", float, "Token bucket: requests per second before answering 429."),
    ("burst", int, "Token bucket size (default: the rate, at least 1)."),
    ("seed", int, "Seed of the random draws, so a faulty run can be replayed."),
]


def _with_fault_options(command):
    for name, kind, text in reversed(_FAULT_OPTIONS):
        command = click.option(f"--{name}", name.replace("-", "_"), type=kind, default=None,
                               help=text)(command)
    return command


@sandbox.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one; the URL is printed on stdout).")
@DB_OPTION
@_with_fault_options
@pass_app
def serve(app: AppContext, port: int, db: Path | None, **fault_values: Any) -> None:
    """Serve all four platforms' APIs on 127.0.0.1 until interrupted."""
    from reconciler.sandbox.faults import Faults
    from reconciler.sandbox.server import bind_loopback, run_server

    settings = {k: v for k, v in fault_values.items() if v is not None}
    try:
        faults = Faults.from_mapping(settings)
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
    path = sandbox_db(app, db)
    try:
        sock = bind_loopback(port)
    except OSError as exc:
        raise SandboxError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    click.echo(url)
    sys.stdout.flush()
    click.echo(f"sandbox serving {url} (world in {path}); Ctrl-C stops it", err=True)
    run_server(sock, path, faults)


@sandbox.command("reset")
@DB_OPTION
@pass_app
def reset(app: AppContext, db: Path | None) -> None:
    """Forget every change and return to the default world."""
    from reconciler.sandbox.store import Store
    from reconciler.sandbox.world import reset_world

    path = sandbox_db(app, db)
    store = Store(path)
    try:
        reset_world(store)
    finally:
        store.close()
    click.echo(f"sandbox world in {path} reset to the default", err=True)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _line_of(text: str, where: str) -> int | None:
    """The line of the YAML node a world path (``outlit.signals[1].key``) points at."""
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for name, index in _PATH_PART.findall(where):
        if isinstance(node, yaml.MappingNode) and name:
            found = [(k, v) for k, v in node.value if k.value == name]
            if not found:
                break
            line, node = found[0][0].start_mark.line + 1, found[0][1]
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


@sandbox.command("seed")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DB_OPTION
@FORMAT_OPTION
@pass_app
def seed(app: AppContext, file: Path, db: Path | None, output_format: str) -> None:
    """Add the objects described in FILE (YAML or JSON) to the world.

    FILE may hold workspace connections and automations (with schedules and triggers),
    outlit signals, destinations and automations, datallog projects, and past runs;
    see docs/sandbox.md for the format.
    """
    import yaml

    from reconciler.sandbox.store import Store
    from reconciler.sandbox.world import WorldError, ensure_world, seed_world

    text = file.read_text(encoding="utf-8")
    try:
        world = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise SandboxError(f"{where}: not valid YAML or JSON: "
                           f"{getattr(exc, 'problem', exc)}") from None
    store = Store(sandbox_db(app, db))
    try:
        ensure_world(store)
        counts = seed_world(store, world)
    except WorldError as exc:
        path = str(exc).split(":", 1)[0]
        line = _line_of(text, path)
        raise SandboxError(f"{file}{f':{line}' if line else ''}: {exc}") from None
    finally:
        store.close()
    if output_format == "json":
        click.echo(json.dumps({"added": counts}))
    else:
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing"
        click.echo(f"added {summary}")


def _parse_assignment(text: str) -> tuple[str, Any]:
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SandboxError(f"--set expects FIELD=VALUE, got {text!r}")
    try:
        return name, yaml.safe_load(value) if value else ""
    except yaml.YAMLError:
        return name, value


def _by_identity(app: AppContext, identity: str) -> tuple[str, str]:
    """(TARGET, KEY) of a managed resource named as in the manifests, e.g.
    ``studio/Automation/nightly-digest``: its provider's type and kind, and the remote id
    state records for it."""
    from reconciler.config import load_project
    from reconciler.engine import state_backend
    from reconciler.model import ResourceId
    from reconciler.sandbox.edits import TARGETS

    try:
        rid = ResourceId.parse(identity)
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
    project = load_project(app.directory)
    provider = project.providers.get(rid.provider)
    if provider is None:
        raise SandboxError(f"{identity}: no provider {rid.provider!r} in {project.file.name} "
                           f"(it has: {', '.join(sorted(project.providers)) or 'none'})")
    target = f"{provider.type}.{rid.kind.lower()}"
    if target not in TARGETS:
        raise SandboxError(f"{identity}: the sandbox cannot edit a {rid.kind} of a "
                           f"{provider.type} provider (it edits: {', '.join(TARGETS)})")
    entries = state_backend(project).read().entries
    entry = entries.get(rid)
    if entry is None or not entry.remote_id:
        managed = sorted(str(other) for other in entries
                         if (other.provider, other.kind) == (rid.provider, rid.kind))
        raise SandboxError(f"{identity}: not in state, so its live object is unknown (apply it "
                           f"first, or name it as the platform shows it); managed "
                           f"{rid.provider} {rid.kind}s: {', '.join(managed) or 'none'}")
    return target, entry.remote_id


@sandbox.command("edit")
@click.argument("target")
@click.argument("key", required=False)
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
              help="Change a field (value read as YAML: true, 3, [a, b], text). Repeatable.")
@click.option("--delete", is_flag=True, help="Delete the object as a UI user would.")
@click.option("--bump-version", is_flag=True,
              help="workspace.connection only: publish a new connection version.")
@DB_OPTION
@FORMAT_OPTION
@pass_app
def edit(app: AppContext, target: str, key: str | None, assignments: tuple[str, ...],
         delete: bool, bump_version: bool, db: Path | None, output_format: str) -> None:
    """Change the live world behind reconciler's back (for drift demos and tests).

    Name the object by its managed identity (PROVIDER/KIND/NAME, as in the manifests and
    state), or by TARGET and KEY as the platform shows it. TARGET is one of
    workspace.automation, workspace.schedule, workspace.trigger, workspace.connection,
    outlit.automation, outlit.signal, outlit.destination, datallog.project,
    datallog.automation. KEY is the name a platform user sees (display_name, connection_id,
    outlit key, project name; AUTOMATION/TRIGGER_ID for a trigger, PROJECT/AUTOMATION for a
    datallog automation).

    Examples: reconciler sandbox edit studio/Automation/nightly-digest --set description=x;
    reconciler sandbox edit workspace.schedule "Nightly report" --set enabled=false
    """
    from reconciler.sandbox.edits import EditError, apply_edit
    from reconciler.sandbox.store import Store
    from reconciler.sandbox.world import ensure_world

    shown = f"{target} {key}" if key is not None else target
    if key is None:  # one argument: a managed identity
        target, key = _by_identity(app, target)
    values = dict(_parse_assignment(a) for a in assignments)
    if not values and not delete and not bump_version:
        raise SandboxError("nothing to do: give --set FIELD=VALUE, --delete or --bump-version")
    store = Store(sandbox_db(app, db))
    try:
        ensure_world(store)
        done = apply_edit(store, {"target": target, "key": key, "set": values, "delete": delete,
                                  "bump_version": bump_version})
    except EditError as exc:
        raise SandboxError(str(exc)) from None
    finally:
        store.close()
    if output_format == "json":
        click.echo(json.dumps({"edited": done}))
    else:
        click.echo(f"edited {shown}")


COMMANDS: list[click.Command] = [sandbox]
