"""Who holds the state lock or lease, said the same way by every backend.

A run that finds state held says who holds it when it starts waiting, and again when it gives
up; both backends record the same facts about their holder.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from collections.abc import Mapping
from typing import Any


def holder_info(command: str) -> dict[str, Any]:
    """Who takes a lease: user, host, pid, command, and the CI run when one is known."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    info: dict[str, Any] = {
        "user": user,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": command or "reconciler " + " ".join(sys.argv[1:2]),
    }
    run_id = os.environ.get("GITHUB_RUN_ID")
    if run_id:
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        info["ci_run"] = f"{server}/{repository}/actions/runs/{run_id}"
    elif os.environ.get("CI_JOB_URL"):
        info["ci_run"] = os.environ["CI_JOB_URL"]
    return info


def describe_holder(holder: Mapping[str, Any]) -> str:
    """``alice@runner-7 (pid 4242, reconciler apply, https://…/runs/9)``."""
    details = [f"pid {holder.get('pid', '?')}", str(holder.get("command") or "?")]
    if holder.get("ci_run"):
        details.append(str(holder["ci_run"]))
    return f"{holder.get('user', '?')}@{holder.get('host', '?')} ({', '.join(details)})"


def say_waiting(what: str, held_by: str, timeout: float) -> None:
    """The one line on stderr when a run starts waiting for state another run holds."""
    print(f"Waiting up to {timeout:g}s for {what}, {held_by} (--lock-timeout sets how long)",
          file=sys.stderr, flush=True)
