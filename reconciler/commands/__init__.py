"""CLI commands, one module per area; each exposes ``COMMANDS``, a list of click commands.

A new command is also named in ``reconciler.cli.COMMANDS`` (module:attribute and short help),
which is how the command line finds it without importing every module.
"""
