"""A Backend's state kept across restarts in a SQLite file (``serve --state``, ``Emulator(state=...)``).

:class:`StateFile` is attached to one Backend. On attach it restores what the file holds through
the snapshot's own load path (:func:`harness.engine.snapshot.load`: every member checked, indexes
rebuilt, nothing swapped in unless all of it is good). After that :meth:`StateFile.commit` writes
what changed since the last commit, record by record (:mod:`.records`), in one SQLite
transaction (:mod:`.database`), under the store lock. ``harness.server.Emulator`` commits after
every HTTP answer is built and before it is sent, so an acknowledged change is in the file. A
commit compares only the records the calling thread touched (:mod:`.touches`, :mod:`.tracker`),
so its cost follows the request, not the size of the state. Changes made in process (not over
HTTP) are written when that thread commits (``emu.state.commit()``) and at ``close()``.

Nothing here runs when no state file is given: the in-memory emulator has no persistence code on
its path. What the snapshot leaves out is not kept either (the trigger and fake IdP registrations,
the proven-password cache, the machine-local settings such as the public URL).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.engine import snapshot
from harness.engine.persist.database import FILE_NAME, Database, StateFileError, resolve
from harness.engine.persist.records import Batch, RecordError, Row, document
from harness.engine.persist.tracker import Tracker
from harness.engine.snapshot_codec import SnapshotError
from harness.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from harness.engine.store import Backend

SNAPSHOT_VERSION = "snapshot_format_version"  # meta: the model encoding the records were written in


class StateFile:
    """One state file, attached to at most one Backend; see the module docstring."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._tracker = Tracker()
        self._backend: Backend | None = None
        self._staged: dict[str, str] = {}
        self.loaded = False  # whether attach found a saved state (else the Backend's own state is the first)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> StateFile:
        """Open ``DIR`` (its cognito-harness.sqlite3) or ``FILE``, making it if missing; StateFileError
        (with the path and the reason, the file untouched) if it is not a state file this version reads."""
        return cls(Database.open(resolve(path)))

    @property
    def path(self) -> Path:
        return self._db.path

    def attach(self, backend: Backend) -> None:
        """Restore the saved state into ``backend`` (if the file holds one), write what differs from it
        (everything, the first time), and follow the backend from now on."""
        if self._backend is not None:
            raise RuntimeError("this state file is already attached")
        self._staged.update({SNAPSHOT_VERSION: str(snapshot.FORMAT_VERSION), "written_by": __version__})
        disk = self._restore(backend) if self._db.has_state() else {}
        self.loaded = bool(disk)
        with backend.transaction():
            batch = self._tracker.diff(backend, everything=True)  # every record, as none was seen yet
            produced = set(batch.upserts)
            batch.deletes.update(row for row in disk if row not in produced)
            for row in [r for r, value in batch.upserts.items() if disk.get(r) == value]:
                del batch.upserts[row]  # already in the file as it is
            self._write(batch)
        self._backend = backend

    def _restore(self, backend: Backend) -> dict[Row, tuple[int, str]]:
        rows = self._db.rows()
        fields = {"format": snapshot.FORMAT, "format_version": _int(self._db.meta(SNAPSHOT_VERSION)),
                  "harness_version": __version__, "secrets": True}
        try:
            snapshot.load(backend, document(((k, s, key, text) for k, s, key, _, text in rows), fields))
        except (RecordError, SnapshotError) as exc:
            raise StateFileError(f"{self.path}: the saved state does not restore ({exc}); it was left as it "
                                 "is") from None
        return {(k, s, key): (pos, text) for k, s, key, pos, text in rows}

    def commit(self, everything: bool = False) -> bool:
        """Write what changed since the last commit, in one transaction: what the calling thread
        touched (or ``everything``). True if anything was written. StateFileError if the file cannot
        be written (then nothing is taken as written: the next commit tries the same records again)."""
        backend = self._backend
        if backend is None:
            raise StateFileError(f"{self.path}: not attached to an emulator (or closed)")
        with backend.transaction():
            batch = self._tracker.diff(backend, everything)
            return self._write(batch)

    def _write(self, batch: Batch) -> bool:
        written = bool(batch or self._staged)
        if written:
            try:
                self._db.write(batch, self._staged)
            except StateFileError:
                self._tracker.retry()
                raise
            self._staged.clear()
        batch.apply()  # also when nothing was written: members replaced by equal ones are followed from now
        return written

    def set_meta(self, name: str, value: Any) -> None:
        """Keep a JSON value with the state (written by the next commit, with the records)."""
        self._staged[name] = json.dumps(value)

    def meta(self, name: str) -> Any:
        """A value kept with :meth:`set_meta` (None if there is none, or it is not JSON)."""
        text = self._staged.get(name) or self._db.meta(name)
        try:
            return json.loads(text) if text is not None else None
        except ValueError:
            return None

    def close(self) -> None:
        """Compare every record and write what differs (changes made in process by threads that never
        committed included), then close the file."""
        try:
            if self._backend is not None:
                self.commit(everything=True)
        finally:
            self._backend = None
            self._db.close()


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


__all__ = ["FILE_NAME", "StateFile", "StateFileError", "resolve"]
