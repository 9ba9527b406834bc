"""Command line: parse, call one engine function, render, exit. No business logic here.

Each command lives in ``reconciler/commands/<name>.py`` and is attached below.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler import __version__
from reconciler.errors import EXIT_ERROR, ConfigError, ReconcilerError


@dataclass
class AppContext:
    """What every command receives through ``click.pass_obj``."""

    directory: Path  # absolute: the folder given with -C (the working folder during the command)
    debug: bool
    started_in: Path  # where the command was started; paths for CI annotations are relative to it

    @property
    def color(self) -> bool:
        """Colour only on a terminal, never with NO_COLOR set (any value)."""
        return sys.stdout.isatty() and "NO_COLOR" not in os.environ


pass_app = click.make_pass_decorator(AppContext)


class ReconcilerGroup(click.Group):
    """Turns ReconcilerError into a one-line message and its exit code; tracebacks with --debug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            if ctx.obj is not None and ctx.obj.debug:
                traceback.print_exc()
            click.echo(f"Error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)
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


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Run as if started in DIR (where reconciler.yaml is looked for).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def cli(ctx: click.Context, directory: Path, debug: bool) -> None:
    """Terraform-style GitOps for automation platforms.

    Validate manifests, plan against live state, apply, detect drift.
    Exit codes: 0 success, 1 error, 2 changes or drift (with --detailed-exitcode / drift).
    """
    started_in = Path.cwd()
    if directory != Path("."):
        # Like ``git -C`` and ``make -C``: every relative path on the command line (--out, a plan
        # file, --db, an export folder) is then relative to DIR too. The previous folder comes
        # back when the command ends, so in-process callers (tests) are left as they were.
        try:
            os.chdir(directory)
        except OSError as exc:
            raise ConfigError(f"-C {directory}: {exc.strerror or exc}") from None
        ctx.call_on_close(lambda: os.chdir(started_in))
    ctx.obj = AppContext(directory=Path.cwd(), debug=debug, started_in=started_in)


def _attach_commands() -> None:
    from reconciler.commands import engine, foundation, rehearse, runs, sandbox

    for module in (foundation, sandbox, engine, rehearse, runs):
        for command in module.COMMANDS:
            cli.add_command(command)


_attach_commands()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reconciler")
