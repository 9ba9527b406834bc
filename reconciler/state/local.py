"""State as a local JSON file, written atomically, guarded by a lock file.

Atomic write: a temp file in the same folder, fsync, rename over the old file, fsync the folder.
A reader therefore sees the old or the new state, never half of one. The lock is a ``filelock``
beside the state; next to it a small holder file records pid, host and since when, so a second
run can say who holds the lock instead of just "locked".
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from reconciler.errors import StateError, StateLockError
from reconciler.state.model import State, now


class LocalStateBackend:
    """``state.backend: local``: one JSON file (default ``.reconciler/state.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.holder_path = self.path.with_name(self.path.name + ".lock.info")

    @contextmanager
    def lock(self, timeout: float) -> Iterator[None]:
        """Hold the state lock; after ``timeout`` seconds fail naming who holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=max(timeout, 0))
        except Timeout:
            raise StateLockError(
                f"state {self.path} is locked by {self._holder()}; waited {timeout:g}s "
                "(raise --lock-timeout to wait longer)"
            ) from None
        try:
            self.holder_path.write_text(
                json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": now()})
            )
            yield
        finally:
            self.holder_path.unlink(missing_ok=True)
            lock.release()

    def _holder(self) -> str:
        try:
            info = json.loads(self.holder_path.read_text())
            return f"pid {info['pid']} on {info['host']} since {info['since']}"
        except (OSError, ValueError, KeyError):
            return "another process (holder unknown)"

    def read(self) -> State:
        """The stored state, or an empty one (serial 0, no lineage) when there is none."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return State()
        except OSError as exc:
            raise StateError(f"cannot read state {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StateError(f"state {self.path} is not valid JSON: {exc}") from None
        return State.from_json(data, str(self.path))

    def write(self, state: State) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder."""
        try:
            self._write(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise StateError(f"cannot write state {self.path}: {exc.strerror or exc}") from None

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
