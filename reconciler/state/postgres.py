"""State in PostgreSQL (``state.backend: postgres``): one source of truth for every CI runner.

Several projects share one database, one ``key`` each. Tables (created on first use, under an
advisory lock so two first runs do not race; the ``schema_version`` row says which layout they
have, and a newer one than this code knows is refused):

- ``reconciler_meta``: ``schema_version``;
- ``reconciler_state``: per key its lineage, serial, salt and the project it is bound to
  (schema version 2 added that column; version 1 tables are upgraded on first use);
- ``reconciler_entry``: per key and identity the entry as JSON;
- ``reconciler_lease``: per key at most one lease: its id, holder, when acquired and renewed,
  when it expires.

Every write checks, in its own transaction and with the lease row locked, that this process still
holds an unexpired lease on the key, so a holder that lost its lease (paused past its expiry, then
taken over) never writes under someone else's lease. Recording one operation is one statement
(one round trip, one commit) touching the lease row, the state row and its entries. Reads run in
one REPEATABLE READ transaction, so a plan sees one consistent snapshot without taking a lease.

psycopg is imported here and nowhere else; it comes with the ``postgres`` extra.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.errors import ConfigError, StateError, StateLeaseLostError, StateLockError
from reconciler.model import ResourceId
from reconciler.state.binding import Binding
from reconciler.state.holder import describe_holder, holder_info, say_waiting
from reconciler.state.model import Lease, State, StateEntry, StateShapeError

try:
    import psycopg
    from psycopg.types.json import Jsonb
except ImportError:  # pragma: no cover - exercised by the error message test in a bare venv
    psycopg = None  # type: ignore[assignment]

SCHEMA_VERSION = 2
# pg_advisory_xact_lock key for creating or upgrading the tables ("reconcil" in ASCII)
SCHEMA_LOCK = 0x7265636F6E63696C
WAIT_STEP = 0.25  # seconds between tries while waiting for another run's lease

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS reconciler_meta (name text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS reconciler_state (
        key text PRIMARY KEY, lineage text NOT NULL, serial bigint NOT NULL, salt text NOT NULL)""",
    # version 2: the project the state is bound to (NULL: not bound yet)
    "ALTER TABLE reconciler_state ADD COLUMN IF NOT EXISTS project jsonb",
    """CREATE TABLE IF NOT EXISTS reconciler_entry (
        key text NOT NULL, identity text NOT NULL, entry jsonb NOT NULL,
        PRIMARY KEY (key, identity))""",
    """CREATE TABLE IF NOT EXISTS reconciler_lease (
        key text PRIMARY KEY, lease_id text NOT NULL UNIQUE, holder jsonb NOT NULL,
        acquired_at timestamptz NOT NULL, renewed_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL)""",
]

HOLDER_FIELDS = ("user", "host", "pid", "command", "ci_run")

# Recording an operation: one statement in its own (autocommit) transaction, so one round trip and
# one commit. It locks this run's lease row, and writes only when that row is still this run's and
# unexpired (a takeover waits for the lock, then finds another lease id) and the state row is of
# the same lineage at a lower serial (else another writer got in); the entries are written only
# when the state row was. Returns (lease held, state row written); either false writes nothing.
RECORD = """
WITH lease AS (
    SELECT 1 FROM reconciler_lease
    WHERE key = %(key)s AND lease_id = %(lease_id)s AND expires_at > clock_timestamp()
    FOR UPDATE
), head AS (
    INSERT INTO reconciler_state (key, lineage, serial, salt, project)
    SELECT %(key)s, %(lineage)s, %(serial)s, %(salt)s, %(project)s FROM lease
    ON CONFLICT (key) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial,
        salt = EXCLUDED.salt, project = coalesce(EXCLUDED.project, reconciler_state.project)
    WHERE reconciler_state.lineage = EXCLUDED.lineage
        AND reconciler_state.serial < EXCLUDED.serial
    RETURNING serial
), removed AS (
    DELETE FROM reconciler_entry
    WHERE key = %(key)s AND EXISTS (SELECT FROM head) AND identity IN (
        SELECT change.key FROM jsonb_each(%(changes)s) AS change
        WHERE jsonb_typeof(change.value) = 'null')
), written AS (
    INSERT INTO reconciler_entry (key, identity, entry)
    SELECT %(key)s, change.key, change.value FROM jsonb_each(%(changes)s) AS change, head
    WHERE jsonb_typeof(change.value) <> 'null'
    ON CONFLICT (key, identity) DO UPDATE SET entry = EXCLUDED.entry
)
SELECT EXISTS (SELECT FROM lease), EXISTS (SELECT FROM head)
"""


def _stamp(moment: datetime) -> str:
    return moment.astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class LeaseRow:
    """A lease as stored."""

    key: str
    lease_id: str
    holder: Mapping[str, Any]
    acquired_at: datetime
    expires_at: datetime
    expired: bool

    def describe(self) -> str:
        return (
            f"lease {self.lease_id} held by {describe_holder(self.holder)} since "
            f"{_stamp(self.acquired_at)}, "
            + (f"expired at {_stamp(self.expires_at)}" if self.expired
               else f"expires at {_stamp(self.expires_at)} unless renewed")
        )


class PostgresLease(Lease):
    """A lease this process holds; a thread renews it every third of its ttl."""

    def __init__(self, backend: PostgresStateBackend, lease_id: str) -> None:
        self.backend = backend
        self.lease_id = lease_id
        self.ttl = backend.lease_ttl
        self.confirmed_at = time.monotonic()  # when the last successful renewal was sent
        self.lost = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._heartbeat, name="state-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def check(self) -> None:
        """StateLeaseLostError once the lease may have expired (this process paused, heartbeat
        failing) or was taken over or ended by hand."""
        if not self.lost and time.monotonic() - self.confirmed_at >= self.ttl:
            self.lost = (
                f"lease {self.lease_id} on state {self.backend.key!r} was not renewed for "
                f"{self.ttl:g}s and may have been taken over"
            )
        if self.lost:
            raise StateLeaseLostError(f"{self.lost}; stopped before the next write")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _heartbeat(self) -> None:
        connection = None
        while not self._stop.wait(self.ttl / 3):
            sent = time.monotonic()
            try:
                if connection is None or connection.closed:
                    connection = self.backend.connect()
                row = connection.execute(
                    "UPDATE reconciler_lease SET renewed_at = clock_timestamp(), "
                    "expires_at = clock_timestamp() + make_interval(secs => %s) "
                    "WHERE key = %s AND lease_id = %s AND expires_at > clock_timestamp() "
                    "RETURNING expires_at",
                    (self.ttl, self.backend.key, self.lease_id),
                ).fetchone()
            except (psycopg.Error, StateError):
                if connection is not None:
                    connection.close()
                connection = None
                continue  # check() notices once the ttl passed without a renewal
            if row is None:
                self.lost = (
                    f"lease {self.lease_id} on state {self.backend.key!r} expired or was ended "
                    "by `reconciler state unlock`"
                )
                break
            self.confirmed_at = sent
        if connection is not None:
            connection.close()


class PostgresStateBackend:
    """``state.backend: postgres``: state rows under ``key`` in the database at ``url``."""

    def __init__(self, url: str, key: str, lease_ttl: float = 120.0) -> None:
        if psycopg is None:
            raise ConfigError(
                "state.backend: postgres needs the postgres extra: "
                "pip install 'reconciler-gitops[postgres]'"
            )
        self.url = url
        self.key = key
        self.lease_ttl = lease_ttl
        self.lease: PostgresLease | None = None
        self._connection: Any = None
        self._schema_checked = False

    @property
    def where(self) -> str:
        """The database and key, for messages (never the password)."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
        except psycopg.ProgrammingError:
            return f"state {self.key!r} (postgres)"
        host = info.get("host") or "localhost"
        port = info.get("port") or "5432"
        return f"state {self.key!r} in postgres {host}:{port}/{info.get('dbname') or ''}"

    # --- connections --------------------------------------------------------------------------

    def connect(self) -> Any:
        """A new autocommit connection; StateError naming the database when it cannot open."""
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                                   application_name="reconciler")
        except psycopg.ProgrammingError as exc:
            raise StateError(f"state.url is not a valid postgres connection string: "
                             f"{_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to {self.where}: {_first_line(exc)}") from None

    def _conn(self) -> Any:
        if self._connection is None or self._connection.closed:
            self._connection = self.connect()
            if not self._schema_checked:
                self._ensure_schema(self._connection)
                self._schema_checked = True
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[Any]:
        """A transaction on the backend's connection; database errors become StateError."""
        connection = self._conn()
        try:
            with connection.transaction():
                yield connection
        except psycopg.Error as exc:
            if connection.closed or connection.broken:
                self.close()
                raise StateError(f"lost the connection to {self.where} while {doing}: "
                                 f"{_first_line(exc)}") from None
            raise StateError(f"{self.where}: {doing} failed: {_first_line(exc)}") from None

    def _ensure_schema(self, connection: Any) -> None:
        try:
            version = self._schema_version(connection)
            if version is None or version < SCHEMA_VERSION:
                # create, or upgrade older tables in place (every statement is idempotent)
                with connection.transaction():
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    for statement in SCHEMA:
                        connection.execute(statement)
                    connection.execute(
                        "INSERT INTO reconciler_meta (name, value) VALUES ('schema_version', %s) "
                        "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value "
                        "WHERE reconciler_meta.value::int < EXCLUDED.value::int",
                        (str(SCHEMA_VERSION),),
                    )
                version = self._schema_version(connection)
        except psycopg.Error as exc:
            connection.close()
            raise StateError(f"cannot prepare the state tables in {self.where}: "
                             f"{_first_line(exc)}") from None
        if version is not None and version > SCHEMA_VERSION:
            connection.close()
            raise StateError(
                f"{self.where}: the state tables have schema version {version}, newer than this "
                f"reconciler knows ({SCHEMA_VERSION}); upgrade reconciler"
            )

    @staticmethod
    def _schema_version(connection: Any) -> int | None:
        if connection.execute("SELECT to_regclass('reconciler_meta')").fetchone()[0] is None:
            return None
        row = connection.execute(
            "SELECT value FROM reconciler_meta WHERE name = 'schema_version'"
        ).fetchone()
        return int(row[0]) if row else None

    # --- the lease ----------------------------------------------------------------------------

    @contextmanager
    def lock(self, timeout: float, command: str = "") -> Iterator[Lease]:
        """Take the key's lease (waiting up to ``timeout`` seconds for another holder's to end or
        expire), renew it while the block runs, release it at the end."""
        lease_id = secrets.token_hex(8)
        holder = holder_info(command)
        deadline = time.monotonic() + max(timeout, 0)
        waiting = False
        while True:
            taken, previous = self._try_acquire(lease_id, holder)
            if taken:
                break
            if previous is None:
                continue  # another run took it just now: read who
            if not waiting and time.monotonic() < deadline:
                waiting = True
                say_waiting(f"the state lease of {self.where}", previous.describe(), timeout)
            if time.monotonic() >= deadline:
                raise StateLockError(
                    f"{self.where} is locked: {previous.describe()}; waited {timeout:g}s "
                    "(raise --lock-timeout to wait longer; if that run is dead, the lease "
                    f"expires by itself, or end it now with `reconciler state unlock "
                    f"{previous.lease_id}`)"
                )
            time.sleep(min(WAIT_STEP, max(deadline - time.monotonic(), 0.01)))
        if previous is not None:
            print(f"Note: took over {previous.describe()}.", file=sys.stderr)
        lease = PostgresLease(self, lease_id)
        self.lease = lease
        lease.start()
        try:
            yield lease
        finally:
            lease.stop()
            self.lease = None
            try:
                with self._transaction("releasing the lease") as connection:
                    connection.execute(
                        "DELETE FROM reconciler_lease WHERE key = %s AND lease_id = %s",
                        (self.key, lease_id),
                    )
            except StateError as exc:  # it expires by itself
                print(f"Warning: {exc.message}; the lease expires by itself", file=sys.stderr)

    def _try_acquire(
        self, lease_id: str, holder: Mapping[str, Any]
    ) -> tuple[bool, LeaseRow | None]:
        """(taken, the lease that was there: expired and taken over, or still held)."""
        with self._transaction("taking the lease") as connection:
            previous = self._lease_row(connection, lock=True)
            if previous is not None and not previous.expired:
                return False, previous
            taken = connection.execute(
                "INSERT INTO reconciler_lease "
                "(key, lease_id, holder, acquired_at, renewed_at, expires_at) "
                "VALUES (%s, %s, %s, clock_timestamp(), clock_timestamp(), "
                "clock_timestamp() + make_interval(secs => %s)) "
                "ON CONFLICT (key) DO UPDATE SET lease_id = EXCLUDED.lease_id, "
                "holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at, "
                "renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at "
                "WHERE reconciler_lease.expires_at <= clock_timestamp() RETURNING lease_id",
                (self.key, lease_id, Jsonb(dict(holder)), self.lease_ttl),
            ).fetchone()
            # none: another run inserted its lease since the read above
            return taken is not None, previous

    def _lease_row(self, connection: Any, lock: bool = False) -> LeaseRow | None:
        row = connection.execute(
            "SELECT key, lease_id, holder, acquired_at, expires_at, "
            "expires_at <= clock_timestamp() FROM reconciler_lease WHERE key = %s"
            + (" FOR UPDATE" if lock else ""),
            (self.key,),
        ).fetchone()
        return LeaseRow(*row) if row else None

    def current_lease(self) -> LeaseRow | None:
        """The key's lease as stored (expired or not), or None."""
        with self._transaction("reading the lease") as connection:
            return self._lease_row(connection)

    def unlock(self, lease_id: str) -> LeaseRow:
        """End a lease by hand (its holder stops before its next write); the lease as it was."""
        with self._transaction("ending the lease") as connection:
            row = connection.execute(
                "DELETE FROM reconciler_lease WHERE key = %s AND lease_id = %s "
                "RETURNING key, lease_id, holder, acquired_at, expires_at, "
                "expires_at <= clock_timestamp()",
                (self.key, lease_id),
            ).fetchone()
            if row is None:
                current = self._lease_row(connection)
        if row is None:
            now_held = current.describe() if current else "none"
            raise StateError(f"{self.where} has no lease {lease_id} (current lease: {now_held})")
        return LeaseRow(*row)

    def _check_lease(self, connection: Any) -> None:
        """Inside a write transaction: this process's lease is still the key's and unexpired;
        the lease row stays locked until the write commits, so no one takes it over meanwhile."""
        if self.lease is None:
            raise StateError(f"{self.where}: refusing to write without holding the lease")
        self.lease.check()
        held = connection.execute(
            "SELECT expires_at > clock_timestamp() FROM reconciler_lease "
            "WHERE key = %s AND lease_id = %s FOR UPDATE",
            (self.key, self.lease.lease_id),
        ).fetchone()
        if not held or not held[0]:
            self.lease.lost = (
                f"lease {self.lease.lease_id} on state {self.key!r} expired or was ended by "
                "`reconciler state unlock`"
            )
            self.lease.check()

    # --- state --------------------------------------------------------------------------------

    def read(self) -> State:
        """The key's state from one consistent snapshot; an empty one when none was written."""
        connection = self._conn()
        try:
            with connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                head = connection.execute(
                    "SELECT lineage, serial, salt, project FROM reconciler_state WHERE key = %s",
                    (self.key,),
                ).fetchone()
                # one JSON document for all entries: one parse, not one per row
                rows = connection.execute(
                    "SELECT coalesce(json_object_agg(identity, entry), '{}')::text "
                    "FROM reconciler_entry WHERE key = %s", (self.key,)
                ).fetchone()[0]
        except psycopg.Error as exc:
            self.close()
            raise StateError(f"cannot read {self.where}: {_first_line(exc)}") from None
        if head is None:
            return State()
        entries = {}
        try:
            for identity, data in json.loads(rows).items():
                try:
                    rid = ResourceId.parse(identity)
                except ValueError as exc:
                    raise StateShapeError(f"bad resource identity {identity!r}: {exc}") from None
                entries[rid] = StateEntry.from_json(data, f"resources[{json.dumps(identity)}]")
            project = Binding.from_json(head[3])
        except StateShapeError as exc:
            raise StateError(f"{self.where}: {exc}; nothing was changed") from None
        return State(lineage=head[0], serial=int(head[1]), salt=head[2], entries=entries,
                     project=project)

    def write(self, state: State) -> None:
        """Replace the key's whole state in one transaction (migrate and full rewrites)."""
        with self._transaction("writing the state") as connection:
            self._check_lease(connection)
            self._put_head(connection, state)
            connection.execute("DELETE FROM reconciler_entry WHERE key = %s", (self.key,))
            with connection.cursor().copy(
                "COPY reconciler_entry (key, identity, entry) FROM STDIN"
            ) as copy:
                for rid, entry in state.entries.items():
                    copy.write_row((self.key, str(rid), Jsonb(entry.to_json())))

    def record(self, state: State, changes: Mapping[ResourceId, StateEntry | None]) -> None:
        """One statement, one round trip: check the lease, bump the serial, set or delete the
        entries, committed (durably, as the server's ``synchronous_commit`` says) on return."""
        if self.lease is None:
            raise StateError(f"{self.where}: refusing to write without holding the lease")
        self.lease.check()
        # one JSON document for every change (null: removed), encoded once
        document = {str(rid): None if entry is None else entry.to_json()
                    for rid, entry in changes.items()}
        params = {"key": self.key, "lease_id": self.lease.lease_id, "lineage": state.lineage,
                  "serial": state.serial, "salt": state.salt, "changes": Jsonb(document),
                  "project": Jsonb(state.project.to_json()) if state.project is not None else None}
        connection = self._conn()
        try:
            held, moved_on = connection.execute(RECORD, params, prepare=True).fetchone()
        except psycopg.Error as exc:
            if connection.closed or connection.broken:
                self.close()
                raise StateError(f"lost the connection to {self.where} while recording an "
                                 f"operation: {_first_line(exc)}") from None
            raise StateError(f"{self.where}: recording an operation failed: "
                             f"{_first_line(exc)}") from None
        if not held:
            self.lease.lost = (
                f"lease {self.lease.lease_id} on state {self.key!r} expired or was ended by "
                "`reconciler state unlock`"
            )
            self.lease.check()
        if not moved_on:
            raise StateError(self._moved())

    def settle(self, state: State) -> None:
        """Nothing to fold in: every record is already in the tables."""

    def _put_head(self, connection: Any, state: State) -> None:
        """Set lineage, serial, salt and binding, whatever was there (a whole write replaces
        the state; a recorded success goes through ``RECORD``, which guards the serial)."""
        connection.execute(
            "INSERT INTO reconciler_state (key, lineage, serial, salt, project) "
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET lineage = EXCLUDED.lineage, "
            "serial = EXCLUDED.serial, salt = EXCLUDED.salt, "
            "project = coalesce(EXCLUDED.project, reconciler_state.project)",
            (self.key, state.lineage, state.serial, state.salt,
             Jsonb(state.project.to_json()) if state.project is not None else None),
        )

    def _moved(self) -> str:
        return (f"{self.where} changed under this run (another writer, lineage or serial moved); "
                "nothing more was written: run plan again")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
