"""Start-up stays cheap: a command's module is imported only when that command runs, and what
`--help` and `validate` never need (HTTP clients, the terminal renderer, deep diffs) is not
imported for them. No timings here: bench/startup.py measures those."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest

from reconciler.cli import COMMANDS, cli

from .helpers import QUICKSTART

HEAVY = ("httpx", "aiohttp", "rich", "deepdiff", "anyio", "starlette", "uvicorn", "ruamel")
COMMAND_MODULES = (
    "completion", "engine", "fmt", "foundation", "init", "lifecycle", "rehearse", "runs",
    "sandbox", "show",
)


def _imported_by(*args: str) -> set[str]:
    """The top-level packages a fresh `reconciler ARGS` process has imported when it exits."""
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: sys.__stderr__.write("
        "'\\nMODULES ' + json.dumps(sorted({m.split('.')[0] for m in sys.modules})) + '\\n'))\n"
        "from reconciler.cli import main\n"
        f"sys.argv = ['reconciler', *{list(args)!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    line = done.stderr.rsplit("MODULES ", 1)[1]
    return set(json.loads(line))


@pytest.mark.parametrize("args", [["--help"], ["-C", str(QUICKSTART), "validate"]])
def test_help_and_validate_import_no_http_client_renderer_or_diff_library(
    args: list[str],
) -> None:
    imported = _imported_by(*args)
    assert "reconciler" in imported
    assert sorted(imported.intersection(HEAVY)) == []


def test_help_lists_every_command_without_importing_one() -> None:
    probe = (
        "import sys\n"
        "from reconciler.cli import cli\n"
        "try:\n"
        "    cli.main(['--help'], prog_name='reconciler')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('reconciler.commands.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    for name in COMMANDS:
        assert f"\n  {name} " in done.stdout


def test_the_command_map_names_every_command_with_its_own_short_help() -> None:
    declared = {
        command.name
        for module in COMMAND_MODULES
        for command in importlib.import_module(f"reconciler.commands.{module}").COMMANDS
    }
    assert declared == set(COMMANDS)
    context = click.Context(cli)
    for name, (_where, short_help) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=10**6) == short_help, name
