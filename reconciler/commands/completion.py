"""``reconciler completion bash|zsh|fish``: print the shell completion script.

The script is click's own: the shell calls ``reconciler`` back with ``_RECONCILER_COMPLETE`` set
and click answers with the commands, options and choices that fit what was typed.
"""

from __future__ import annotations

import click

PROG_NAME = "reconciler"  # the console script's name (``main`` passes it to click)
COMPLETE_VAR = "_RECONCILER_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(reconciler completion bash)"          (in ~/.bashrc; bash 4.4 or later)
    zsh:   eval "$(reconciler completion zsh)"           (in ~/.zshrc)
    fish:  reconciler completion fish > ~/.config/fish/completions/reconciler.fish
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    if completer is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    root = ctx.find_root().command
    click.echo(completer(root, {}, PROG_NAME, COMPLETE_VAR).source())


COMMANDS: list[click.Command] = [completion]
