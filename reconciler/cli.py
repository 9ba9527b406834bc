"""Command line: parse, call one engine function, render, exit. No business logic here.

Each command lives in ``reconciler/commands/<name>.py`` and is named in ``COMMANDS`` below; its
module is imported only when that command runs (or its help is asked for), so start-up pays for
one command, not for all of them.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import EXIT_ERROR, ReconcilerError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a job stopped with Ctrl-C
# 128 + SIGPIPE: what shells report for `git log | head -1` and other commands whose reader left
EXIT_OUTPUT_CLOSED = 141


@dataclass
class AppContext:
    """What every command receives through ``click.pass_obj``."""

    directory: Path  # absolute: the folder given with -C (the working folder during the command)
    debug: bool
    started_in: Path  # where the command was started; paths for CI annotations are relative to it
    no_color: bool = False  # --no-color

    @property
    def color(self) -> bool:
        """Colour only on a terminal; never with --no-color, a non-empty NO_COLOR or TERM=dumb."""
        from reconciler.terminal import colour_wanted

        return colour_wanted(sys.stdout, self.no_color)


pass_app = click.make_pass_decorator(AppContext)


def _app(ctx: click.Context) -> AppContext:
    """The command line's AppContext, made by the first option that needs it."""
    root = ctx.find_root()
    if root.obj is None:
        from reconciler.terminal import start_command_clock, turn_colour_off

        start_command_clock()
        turn_colour_off(False)
        root.obj = AppContext(directory=Path.cwd(), debug=False, started_in=Path.cwd())
    app: AppContext = root.obj
    return app


def _change_directory(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """-C DIR, wherever it is written: like ``git -C`` and ``make -C``.

    Every relative path on the command line (--out, a plan file, --db, an export folder) is then
    relative to DIR too. The previous folder comes back when the command ends, so in-process
    callers (tests) are left as they were. Several -C accumulate, as with git.
    """
    app = _app(ctx)
    if value is None or value == Path("."):
        return
    before = Path.cwd()
    try:
        os.chdir(value)
    except OSError as exc:
        raise click.BadParameter(f"{value}: {exc.strerror or exc}", ctx, _param) from None
    if before == app.started_in:
        ctx.find_root().call_on_close(lambda: os.chdir(app.started_in))
    app.directory = Path.cwd()


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """--debug and --no-color: set once anywhere, they hold for the whole command line."""
    if value and param.name:
        setattr(_app(ctx), param.name, True)
        if param.name == "no_color":
            from reconciler.terminal import turn_colour_off

            turn_colour_off()


def global_options() -> list[click.Option]:
    """-C, --debug and --no-color: accepted by every command and group, before or after its name."""
    return [
        click.Option(
            ["-C", "chdir"],
            type=click.Path(file_okay=False, path_type=Path),
            metavar="DIR",
            callback=_change_directory,
            expose_value=False,
            is_eager=True,  # before any other option reads a path
            help="Run as if started in DIR (where reconciler.yaml is looked for).",
        ),
        *(
            click.Option([flag], is_flag=True, callback=_set_flag, expose_value=False, help=text)
            for flag, text in (
                ("--debug", "Show tracebacks for errors."),
                ("--no-color", "Never colour the output (also: NO_COLOR=1, TERM=dumb)."),
            )
        ),
    ]


def _add_global_options(command: click.Command) -> None:
    """Give ``command`` and, for a group, every command below it the global options."""
    names = {name for param in command.params for name in param.opts}
    for option in global_options():
        if not names.intersection(option.opts):
            command.params.append(option)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_global_options(sub)


# name -> ("module:attribute", short help). The short help is kept here as data so that
# `reconciler --help` lists every command without importing any command's module; a test keeps
# it equal to the command's own docstring.
COMMANDS: Mapping[str, tuple[str, str]] = {
    "apply": (
        "reconciler.commands.engine:apply_command",
        "Show the plan, ask, then apply it (or apply a plan saved with `plan --out`).",
    ),
    "check": (
        "reconciler.commands.runs:check_command",
        "Run smoke checks now (all, or those named); exit 1 if any fails.",
    ),
    "completion": (
        "reconciler.commands.completion:completion",
        "Print the completion script for SHELL (bash, zsh or fish).",
    ),
    "destroy": (
        "reconciler.commands.lifecycle:destroy_command",
        "Remove every resource this project manages, then forget it in state.",
    ),
    "drift": (
        "reconciler.commands.engine:drift_command",
        "Report what moved on the platforms since the last apply; exit 2 when something did.",
    ),
    "export": (
        "reconciler.commands.lifecycle:export_command",
        "Write manifests for the live objects this project does not manage.",
    ),
    "fmt": (
        "reconciler.commands.fmt:fmt_command",
        "Lay out manifests canonically, keeping comments, quotes and meaning.",
    ),
    "import": (
        "reconciler.commands.engine:import_command",
        "Adopt an existing object: record REMOTE_ID as IDENTITY (PROVIDER/KIND/NAME) in state.",
    ),
    "init": (
        "reconciler.commands.init:init_command",
        "Create a project in DIRECTORY (default: the current folder, or -C DIR).",
    ),
    "plan": (
        "reconciler.commands.engine:plan_command",
        "Read live state and show what apply would change.",
    ),
    "rehearse": (
        "reconciler.commands.rehearse:rehearse_command",
        "Apply the plan (or a saved one) to a private sandbox copy and say what would fail.",
    ),
    "runs": (
        "reconciler.commands.runs:runs_group",
        "List, inspect, cancel, retry and follow automation runs.",
    ),
    "sandbox": (
        "reconciler.commands.sandbox:sandbox",
        "The embedded sandbox: the platforms' APIs on your machine (see docs/sandbox.md).",
    ),
    "schema": (
        "reconciler.commands.foundation:schema",
        "The JSON Schemas manifests are checked against.",
    ),
    "show": (
        "reconciler.commands.show:show_command",
        "Render PLAN_FILE (saved with `plan --out`) as text, json, markdown or github.",
    ),
    "state": (
        "reconciler.commands.engine:state_group",
        "Inspect or edit what this project manages (the state file).",
    ),
    "status": (
        "reconciler.commands.runs:status_command",
        "Each managed resource's sync state beside its health (last run status).",
    ),
    "validate": (
        "reconciler.commands.foundation:validate",
        "Validate the project file and every manifest against the schemas and cross-document "
        "rules.",
    ),
}


class BooleanValue(click.ParamType):
    """A yes/no option value: true/false (also yes/no, on/off, 1/0), named plainly when wrong."""

    name = "boolean"
    _TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
    _FALSE = frozenset({"false", "f", "no", "n", "off", "0"})

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        self.fail(f"{value!r} is not true or false (also accepted: yes/no, on/off, 1/0)",
                  param, ctx)


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from ``lazy``: name -> (module:attr,
    short help). Listing them (``--help``, completion of names) reads the map only."""

    def __init__(
        self, *args: Any, lazy: Mapping[str, tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            _add_global_options(command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but a mistyped command name gets the closest one suggested."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The Commands section from the map's short help, importing nothing."""
        from click.utils import make_default_short_help

        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                if self.commands[name].hidden:
                    continue
                text = self.commands[name].get_short_help_str(limit)
            else:
                text = make_default_short_help(self.lazy[name][1], limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class OutputClosed(Exception):  # noqa: N818 (a condition, not a failure)
    """The reader of stdout went away (``reconciler state list | head -1``); not an OSError, so
    click's own handling (exit 1) does not take it before ``ReconcilerGroup.main`` does."""


class ReconcilerGroup(LazyGroup):
    """Turns ReconcilerError into a one-line message and its exit code; tracebacks with --debug.

    ``main`` maps the rest once, for every command: a usage error (unknown option, bad value,
    missing argument) exits 1, since 2 means changes or drift; Ctrl-C exits 130 quietly; a
    closed stdout (``| head``) ends the command quietly with 141, as SIGPIPE would.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        from reconciler.masking import masked_output

        try:
            with masked_output():  # no known secret value leaves the process, whoever prints it
                return self._main(*args, standalone_mode=standalone_mode, **kwargs)
        except OutputClosed:
            _quiet_closed_output()
            sys.exit(EXIT_OUTPUT_CLOSED)

    def _main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        parse_only: Any = super().main  # click types main as never returning in standalone mode
        if not standalone_mode:
            return parse_only(*args, standalone_mode=False, **kwargs)
        try:
            result = parse_only(*args, standalone_mode=False, **kwargs)
        except click.exceptions.UsageError as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt, EOFError):
            sys.stderr.write("\n")  # ends the line the terminal's ^C echo left open
            sys.exit(EXIT_INTERRUPTED)
        # standalone_mode=False returns the exit code of a click Exit and None otherwise
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            if ctx.obj is not None and ctx.obj.debug:
                traceback.print_exc()
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # the reader of stdout left (`| head`): main ends quietly
            raise OutputClosed() from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # an unexpected failure: say so plainly
            if ctx.obj is not None and ctx.obj.debug:
                traceback.print_exc()
            else:
                click.echo(
                    f"Error: internal error: {type(exc).__name__}: {exc} "
                    "(run with --debug for details)",
                    err=True,
                )
            ctx.exit(EXIT_ERROR)
        return None


@click.group(
    cls=ReconcilerGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Terraform-style GitOps for automation platforms.

    Validate manifests, plan against live state, apply, detect drift.

    Exit codes: 0 success, 1 error (usage errors too), 2 changes or drift (with
    --detailed-exitcode / drift), 130 interrupted, 141 output closed (`| head`).

    -C DIR, --debug and --no-color may be written before or after the command name.
    """
    _app(ctx)


_add_global_options(cli)  # the commands get them when they are loaded (LazyGroup.get_command)


def _quiet_closed_output() -> None:
    """The reader of stdout is gone: point stdout at the null device, so the flush when the
    interpreter exits neither fails nor prints "Exception ignored ... BrokenPipeError"."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # stdout is no file (in-process callers): nothing to flush
        pass


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reconciler")
