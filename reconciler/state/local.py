"""State as a local JSON file, written atomically, guarded by a lock file.

Atomic write: a temp file in the same folder, fsync, rename over the old file, fsync the folder.
A reader therefore sees the old or the new state, never half of one. During an apply each
operation's outcome is appended to a journal beside the state (``state.json.journal``: one JSON
line per operation, fsync'd) instead of rewriting the whole file, so recording stays cheap however
large the state; the journal is folded into the file when the apply ends, when it outgrows the
file, and by the next ``read`` if an apply was killed. A torn last line (killed mid-append) is
ignored: that operation is found again by its natural key. The lock is a ``filelock``
beside the state; next to it a small holder file records pid, host and since when, so a second
run can say who holds the lock instead of just "locked".
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from reconciler.errors import StateError, StateLockError
from reconciler.model import ResourceId
from reconciler.state.model import Lease, State, StateEntry, now

# the journal is folded into the state file once it is larger than this and than the file
COMPACT_BYTES = 1 << 20


class LocalStateBackend:
    """``state.backend: local``: one JSON file (default ``.reconciler/state.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.holder_path = self.path.with_name(self.path.name + ".lock.info")
        self.journal_path = self.path.with_name(self.path.name + ".journal")

    @property
    def where(self) -> str:
        """The state file, for messages."""
        return f"state {self.path}"

    @contextmanager
    def lock(self, timeout: float, command: str = "") -> Iterator[Lease]:
        """Hold the state lock; after ``timeout`` seconds fail naming who holds it. The
        operating system releases it when the process ends, so it never needs to expire."""
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
            yield Lease()
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
        """The stored state with any journal folded in; an empty one (serial 0, no lineage)
        when there is none."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            state = State()
        except OSError as exc:
            raise StateError(f"cannot read state {self.path}: {exc.strerror}") from None
        else:
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise StateError(f"state {self.path} is not valid JSON: {exc}") from None
            state = State.from_json(data, str(self.path))
        return self._replay(state)

    def write(self, state: State) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder; then drop the journal."""
        try:
            self._write(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
            # what the journal held is in the file now (a crash before this line is harmless:
            # replay skips lines whose serial the file already has)
            self.journal_path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateError(f"cannot write state {self.path}: {exc.strerror or exc}") from None

    def record(self, state: State, changes: Mapping[ResourceId, StateEntry | None]) -> None:
        """Append one line to the journal and fsync it; fold it in once it outgrows the file."""
        line = {"lineage": state.lineage, "serial": state.serial, "salt": state.salt,
                "set": {str(rid): entry.to_json() for rid, entry in changes.items() if entry},
                "remove": [str(rid) for rid, entry in changes.items() if entry is None]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode())
                os.fsync(fd)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
        except OSError as exc:
            raise StateError(f"cannot write state journal {self.journal_path}: "
                             f"{exc.strerror or exc}") from None
        try:
            folded_at = max(COMPACT_BYTES, self.path.stat().st_size)
        except FileNotFoundError:
            folded_at = COMPACT_BYTES
        if size > folded_at:
            self.write(state)

    def settle(self, state: State) -> None:
        """Fold the journal into the file."""
        self.write(state)

    def _replay(self, state: State) -> State:
        """``state`` with the journal's lines newer than its serial applied, in order."""
        try:
            text = self.journal_path.read_text()
        except FileNotFoundError:
            return state
        except OSError as exc:
            raise StateError(f"cannot read state journal {self.journal_path}: "
                             f"{exc.strerror}") from None
        lines = text.split("\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                serial, lineage = int(line["serial"]), str(line["lineage"])
                changed = {ResourceId.parse(k): StateEntry.from_json(v)
                           for k, v in line["set"].items()}
                removed = [ResourceId.parse(k) for k in line["remove"]]
            except (ValueError, KeyError, TypeError, AttributeError):
                if number == len(lines):  # no newline after it: cut off mid-append
                    break
                raise StateError(f"{self.journal_path}:{number}: not a state journal line; "
                                 "move the file aside to use the state without it") from None
            if state.lineage and lineage != state.lineage:
                raise StateError(f"{self.journal_path}:{number}: lineage {lineage} does not "
                                 f"match state {self.path} ({state.lineage}); the journal "
                                 "belongs to another state: move it aside")
            if serial <= state.serial:
                continue  # already in the file
            state.lineage, state.serial, state.salt = lineage, serial, str(line["salt"])
            state.entries.update(changed)
            for rid in removed:
                state.entries.pop(rid, None)
        return state

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
