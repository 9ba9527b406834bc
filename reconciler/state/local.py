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
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from reconciler.errors import StateError, StateLockError
from reconciler.json_text import dumps
from reconciler.model import ResourceId
from reconciler.state.binding import Binding
from reconciler.state.holder import describe_holder, holder_info, say_waiting
from reconciler.state.model import Lease, State, StateEntry, json_kind, now

# how to get going again when the file or its journal cannot be read: said with every such error
DAMAGED_HINT = ("state was not changed; restore the file from a backup, or repair the named part "
                "by hand (`reconciler state list` reads it again)")
JOURNAL_HINT = ("state was not changed; move the journal aside to use the state without it (apply "
                "then finds the operations it recorded again by natural key)")

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
        """Hold the state lock; when another run holds it, say who on stderr and wait up to
        ``timeout`` seconds, then fail naming the holder. The operating system releases it when
        the process ends, so it never needs to expire."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if timeout > 0:
                say_waiting(f"the state lock of {self.path}", f"held by {self._holder()}",
                            timeout)
            try:
                lock.acquire(timeout=max(timeout, 0))
            except Timeout:
                raise StateLockError(
                    f"state {self.path} is locked by {self._holder()}; waited {timeout:g}s "
                    "(raise --lock-timeout to wait longer)"
                ) from None
        try:
            self.holder_path.write_text(json.dumps({**holder_info(command), "since": now()}))
            yield Lease()
        finally:
            self.holder_path.unlink(missing_ok=True)
            lock.release()

    def _holder(self) -> str:
        try:
            info = json.loads(self.holder_path.read_text())
            if not isinstance(info, dict) or "pid" not in info:
                raise ValueError(info)
            return f"{describe_holder(info)} since {info.get('since', '?')}"
        except (OSError, ValueError):
            return "another process (holder unknown)"

    def read(self) -> State:
        """The stored state with any journal folded in; an empty one (serial 0, no lineage)
        when there is none. A damaged file or journal is a StateError naming the file, the
        line or JSON path, and how to recover; nothing is changed by reading."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            state = State()
        except OSError as exc:
            raise StateError(f"cannot read state {self.path}: {exc.strerror}") from None
        else:
            try:
                data = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise self._damaged(f"not text (byte {exc.start} is not UTF-8)") from None
            except ValueError as exc:
                raise self._damaged(f"not valid JSON: {exc}") from None
            except RecursionError:
                raise self._damaged("not valid JSON: nested too deeply") from None
            try:
                state = State.from_json(data, str(self.path))
            except StateError as exc:
                raise StateError(f"{exc.message}; {DAMAGED_HINT}") from None
        return self._replay(state)

    def _damaged(self, problem: str) -> StateError:
        return StateError(f"state {self.path} is {problem}; {DAMAGED_HINT}")

    def write(self, state: State) -> None:
        """Write atomically: temp file, fsync, rename, fsync the folder; then drop the journal."""
        try:
            self._write(dumps(state.to_json(), what=f"state {self.path}", indent=2,
                              sort_keys=True) + "\n")
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
        if state.project is not None:  # a fresh state killed before it is folded in stays bound
            line["project"] = state.project.to_json()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (dumps(line, what=f"state journal {self.journal_path}",
                                   sort_keys=True) + "\n").encode())
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
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            return state
        except OSError as exc:
            raise StateError(f"cannot read state journal {self.journal_path}: "
                             f"{exc.strerror}") from None
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                serial, lineage, salt, changed, removed, project = _journal_line(raw)
            except (ValueError, RecursionError) as exc:
                # no newline after it: cut off mid-append, which leaves the start of a line as
                # record writes it (ASCII, an object); anything else is damage
                if number == len(lines) and raw.startswith(b"{") and raw.isascii():
                    break
                raise StateError(f"{self.journal_path}:{number}: not a state journal line "
                                 f"({exc}); {JOURNAL_HINT}") from None
            if state.lineage and lineage != state.lineage:
                raise StateError(f"{self.journal_path}:{number}: lineage {lineage} does not "
                                 f"match state {self.path} ({state.lineage}); the journal "
                                 "belongs to another state: move it aside")
            if serial <= state.serial:
                continue  # already in the file
            state.lineage, state.serial, state.salt = lineage, serial, salt
            state.project = project or state.project
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


JournalLine = tuple[
    int, str, str, dict[ResourceId, StateEntry], list[ResourceId], Binding | None
]


def _journal_line(raw: bytes) -> JournalLine:
    """One journal line: serial, lineage, salt, entries set, identities removed and the project
    binding (when the line carries one); ValueError
    saying what is wrong (never quoting the line: entries may hold hashes of secrets)."""
    try:
        line = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not text") from None
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(line, dict):
        raise ValueError(f"expected an object, found {json_kind(line)}")
    serial, lineage, salt = line.get("serial"), line.get("lineage"), line.get("salt")
    changed, removed = line.get("set"), line.get("remove")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise ValueError(f"serial: expected a whole number, found {json_kind(serial)}")
    for name, value in (("lineage", lineage), ("salt", salt)):
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, found {json_kind(value)}")
    if not isinstance(changed, dict):
        raise ValueError(f"set: expected an object, found {json_kind(changed)}")
    if not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
        raise ValueError("remove: expected a list of resource identities")
    entries = {ResourceId.parse(key): StateEntry.from_json(value, f"set[{json.dumps(key)}]")
               for key, value in changed.items()}
    project = Binding.from_json(line.get("project"))
    return (serial, str(lineage), str(salt), entries, [ResourceId.parse(k) for k in removed],
            project)
