"""What every command shares: usage errors exit 1, global options anywhere, colour rules."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from reconciler.cli import cli

from .helpers import QUICKSTART, ProjectMaker, run_cli

BROKEN = {
    "manifests/bad.yaml": "apiVersion: reconciler/v1\nkind: Automation\n"
    "metadata: {name: a, provider: studio}\nspec: {stage: publishd}\n"
}


def _every_command(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _every_command(command, (*path, name))


EVERY_COMMAND = list(_every_command(cli))


def test_the_walk_sees_nested_commands() -> None:
    assert {("validate",), ("state", "list"), ("runs", "events"), ("sandbox", "edit")} <= set(
        EVERY_COMMAND
    )


@pytest.mark.parametrize("path", [(), *EVERY_COMMAND], ids=lambda p: " ".join(p) or "(root)")
def test_an_unknown_option_exits_1_on_every_command(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--no-such-option")
    assert result.exit_code == 1, result.output
    assert "No such option" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["drift", "--sinse", "24h"],
        ["plan", "--detailed-exitcode", "--bogus"],
        ["drift", "--format", "xml"],
        ["apply", "--parallelism", "0"],
        ["runs", "show"],  # a missing argument
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_1_not_the_drift_code(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 1, result.output
    assert "Usage:" in result.stderr


def test_the_installed_command_maps_usage_errors_too() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from reconciler.cli import main; main()", "drift", "--sinse", "1h"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "No such option '--sinse'" in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "-C", str(QUICKSTART)],
        ["validate", "--debug", "-C", str(QUICKSTART)],
        ["--debug", "validate", "-C", str(QUICKSTART), "--format", "text"],
        ["-C", str(QUICKSTART.parent), "validate", "-C", QUICKSTART.name],  # like git, cumulative
    ],
)
def test_dash_c_and_debug_work_anywhere_on_the_line(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert "valid: 10 documents" in result.stderr


def test_dash_c_after_a_nested_command(
    make_project: ProjectMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project()
    monkeypatch.chdir(root.parent)
    result = run_cli("state", "list", "-C", root.name)
    assert result.exit_code == 0, result.output
    assert Path.cwd() == root.parent


def test_debug_after_the_command_shows_the_traceback(make_project: ProjectMaker) -> None:
    root = make_project({"reconciler.yaml": "version: 1\nmanifests: [manifests/]\nproviders: {}\n"})
    quiet = run_cli("plan", "-C", str(root))
    loud = run_cli("plan", "-C", str(root), "--debug")
    assert quiet.exit_code == loud.exit_code == 1
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr


@pytest.fixture
def on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.terminal._isatty", lambda stream: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")


@pytest.mark.usefixtures("on_a_terminal")
@pytest.mark.parametrize(
    ("env", "flags", "coloured"),
    [
        ({}, [], True),
        ({"NO_COLOR": ""}, [], True),  # no-color.org: an empty value does not count
        ({"NO_COLOR": "1"}, [], False),
        ({"TERM": "dumb"}, [], False),
        ({}, ["--no-color"], False),
    ],
)
def test_colour_rules(
    make_project: ProjectMaker,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    flags: list[str],
    coloured: bool,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run_cli("validate", "-C", str(make_project(BROKEN)), *flags)
    assert result.exit_code == 1
    assert ("\x1b[" in result.stdout) is coloured, result.stdout


def test_no_colour_off_a_terminal(make_project: ProjectMaker) -> None:
    result = run_cli("validate", "-C", str(make_project(BROKEN)))
    assert "\x1b[" not in result.output


def test_ctrl_c_on_sandbox_serve_exits_130_quietly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", "--db",
         str(tmp_path / "world.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Aborted" not in err and "Traceback" not in err


def test_a_closed_stdout_ends_the_command_quietly_with_141(tmp_path: Path) -> None:
    """`reconciler state list | head -1`: the reader leaves early; no traceback, no
    "Exception ignored" line, and 141 as a command stopped by SIGPIPE reports."""
    from reconciler.model import ResourceId
    from reconciler.state.local import LocalStateBackend
    from reconciler.state.model import State, StateEntry

    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\nmanifests: [manifests/]\nproviders:\n  studio:\n    type: workspace\n"
        "    base_url: sandbox\n    organization_id: o\n    workspace_id: w\n")
    entries = {ResourceId("studio", "Automation", f"a{i}"): StateEntry(f"r{i}", "workspace", {}, "")
               for i in range(20_000)}  # far more than a pipe holds
    state = State(entries=entries).stamped()
    LocalStateBackend(tmp_path / ".reconciler" / "state.json").write(state)
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(tmp_path), "state", "list"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().startswith(b"studio/")
        process.stdout.close()  # what head does after its first line
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 141, err
    assert err == b""


def test_starting_the_command_line_loads_no_heavy_library() -> None:
    """--help and validate import what they need when they run (see bench/startup.py)."""
    probe = (
        "import sys, reconciler.cli; "
        "print(' '.join(sorted(m for m in ('httpx', 'rich', 'deepdiff', 'anyio', 'yaml', "
        "'jsonschema', 'aiohttp', 'uvicorn', 'starlette') if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_the_command_line_holds_no_retry_mode_of_its_own() -> None:
    """Retry modes are the runs provider's declaration, checked when the command runs."""
    source = (Path(__file__).resolve().parents[2] / "reconciler/commands/runs.py").read_text()
    for mode in ("from_failed", "from_step", "full"):
        assert f'"{mode}"' not in source, mode


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("on_a_terminal")
def test_no_color_holds_for_the_progress_line_too(make_project: ProjectMaker) -> None:
    """The spinner on stderr follows --no-color like everything on stdout."""
    from reconciler.progress import progress_line
    from reconciler.terminal import turn_colour_off

    def drawn() -> str:
        stream = _Terminal()
        with progress_line(stream) as report:
            report("reading studio")
            time.sleep(0.2)
        return stream.getvalue()

    try:
        assert "\x1b[3" in drawn()  # coloured on a terminal
        assert run_cli("validate", "-C", str(make_project(BROKEN)), "--no-color").exit_code == 1
        assert "\x1b[3" not in drawn()  # the command line said --no-color
    finally:
        turn_colour_off(False)
