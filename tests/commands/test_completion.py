"""``reconciler completion``: the scripts, and completion answering through click's protocol."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, prog_name="reconciler")


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "_RECONCILER_COMPLETE=bash_complete"),
        ("zsh", "#compdef reconciler"),
        ("fish", "_RECONCILER_COMPLETE=fish_complete"),
    ],
)
def test_completion_prints_the_script_for_each_shell(shell: str, marker: str) -> None:
    result = run("completion", shell)
    assert result.exit_code == 0, result.output
    assert marker in result.stdout
    assert result.stderr == ""


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = run("completion", "powershell")
    assert result.exit_code != 0
    assert "powershell" in result.stderr


def test_the_script_protocol_completes_commands_and_choices() -> None:
    commands = run(
        env={
            "_RECONCILER_COMPLETE": "bash_complete",
            "COMP_WORDS": "reconciler pl",
            "COMP_CWORD": "1",
        }
    )
    assert commands.stdout.split() == ["plain,plan"]
    shells = run(
        env={
            "_RECONCILER_COMPLETE": "bash_complete",
            "COMP_WORDS": "reconciler completion ",
            "COMP_CWORD": "2",
        }
    )
    assert shells.stdout.split() == ["plain,bash", "plain,zsh", "plain,fish"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_through_the_printed_script() -> None:
    script = run("completion", "bash").stdout
    bin_dir = Path(sys.executable).parent  # where pip put the console script
    assert (bin_dir / "reconciler").exists(), "install the project (pip install -e .)"
    program = (
        f"{script}\n"
        "COMP_WORDS=(reconciler dr); COMP_CWORD=1; _reconciler_completion reconciler\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, env=env, timeout=30, check=True
    )
    assert done.stdout.split() == ["drift"]
