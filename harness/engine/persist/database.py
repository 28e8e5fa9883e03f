"""The state file: one SQLite database (stdlib ``sqlite3``) of records, written in transactions.

Crash safety comes from SQLite, not from us: every commit is one transaction in write-ahead-log
mode, so a process killed at any instant (``kill -9``, the OOM killer, ``docker kill``) leaves the
file with every committed transaction and none of a half-written one, and the next open replays
the log. ``synchronous=NORMAL`` is the setting SQLite documents as safe with WAL: a commit is a
``write()`` of the log, which the kernel keeps even when the process dies; only a power cut or
kernel crash can take back the last few commits, never corrupt the file. ``FULL`` would add an
``fsync`` to each commit (milliseconds per API call) to cover that case too, which a dev backend
does not need.

The file holds private keys and password hashes: it is made mode 0600 (SQLite gives its
``-wal`` file the same mode). ``locking_mode=EXCLUSIVE`` keeps it to one server: a second one is
refused with a clear error instead of the two overwriting each other's state. A file that is not
ours (not SQLite, another application's SQLite, a newer schema) or that fails SQLite's check is
refused and left exactly as it is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from harness.engine.persist.records import Batch
from harness.version import __version__

FILE_NAME = "cognito-harness.sqlite3"  # inside a --state DIR
APPLICATION_ID = 0x43474853  # "CGHS" in the SQLite header: this file is a cognito-harness state
SCHEMA_VERSION = 1  # PRAGMA user_version: the layout of the tables below
SQLITE_MAGIC = b"SQLite format 3\x00"
FORMAT = "cognito-harness/state"  # the meta table's "format" row

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (kind TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, pos INTEGER NOT NULL,
                      body TEXT NOT NULL, PRIMARY KEY (kind, scope, key));
"""
UPSERT = ("INSERT INTO records (kind, scope, key, pos, body) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT (kind, scope, key) DO UPDATE SET pos = excluded.pos, body = excluded.body")


class StateFileError(Exception):
    """The state file cannot be used (its path and why are in the message); it was left as it is."""


def resolve(given: str | os.PathLike[str]) -> Path:
    """``--state DIR|FILE``: an existing directory (or a path ending in a separator, made if missing)
    holds ``cognito-harness.sqlite3``; anything else is the file itself, in a directory that exists."""
    text = os.fspath(given)
    path = Path(text).expanduser()
    if not text:
        raise StateFileError("--state needs a directory or a file name")
    if text.endswith((os.sep, "/")) and not path.exists():
        try:
            path.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise StateFileError(f"{path}: cannot make the directory ({exc.strerror or exc})") from None
    if path.is_dir():
        return path / FILE_NAME
    if not path.parent.is_dir():
        raise StateFileError(f"{path}: the directory {path.parent} does not exist")
    return path


class Database:
    """One open state file; every method runs under the caller's store lock (one writer)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (or make, mode 0600) the state file at ``path``; StateFileError if it is not one."""
        new = _make_or_check(path)
        try:
            db = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, isolation_level=None,
                                 check_same_thread=False, timeout=0)
        except sqlite3.Error as exc:
            raise StateFileError(f"{path}: cannot open it ({exc})") from None
        try:
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            if new:
                _create(db)
            else:
                _check(path, db)
            if db.execute("PRAGMA journal_mode=WAL").fetchone()[0] != "wal":
                raise StateFileError(f"{path}: SQLite would not keep it in WAL mode")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")  # takes the file's lock now, and keeps it (EXCLUSIVE mode)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('opened_by', ?)", (__version__,))
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StateFileError(f"{path}: in use (another `serve --state` holds it; one server per state "
                                     "file)") from None
            raise StateFileError(f"{path}: cannot use it ({exc})") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StateFileError(f"{path}: not a usable cognito-harness state file ({exc}); it was left as it "
                                 "is") from None
        except StateFileError:
            db.close()
            raise
        return cls(path, db)

    def has_state(self) -> bool:
        return self._db.execute("SELECT EXISTS (SELECT 1 FROM records)").fetchone()[0] == 1

    def rows(self) -> list[tuple[str, str, str, int, str]]:
        """Every record, each collection in its order."""
        return self._db.execute("SELECT kind, scope, key, pos, body FROM records ORDER BY kind, scope, pos").fetchall()

    def meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def write(self, batch: Batch, meta: dict[str, str]) -> None:
        """The batch (and ``meta``) in one transaction: all of it is in the file, or none of it."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("DELETE FROM records WHERE kind = ? AND scope = ? AND key = ?", batch.deletes)
                db.executemany("UPDATE records SET pos = ? WHERE kind = ? AND scope = ? AND key = ?",
                               ((pos, *row) for row, pos in batch.moves.items()))
                db.executemany(UPSERT, ((*row, pos, text) for row, (pos, text) in batch.upserts.items()))
                db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StateFileError(f"{self.path}: cannot write the state ({exc})") from None

    def close(self) -> None:
        self._db.close()


def _make_or_check(path: Path) -> bool:
    """Make the file (0600) if there is none; True when it is new (or empty: nothing to lose)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        return True
    except FileExistsError:
        pass
    except OSError as exc:
        raise StateFileError(f"{path}: cannot make it ({exc.strerror or exc})") from None
    try:
        with open(path, "rb") as f:
            head = f.read(100)  # the database header
    except OSError as exc:
        raise StateFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not head:  # an empty file: nothing to lose; it will hold secrets, so it is made private
        os.chmod(path, 0o600)
        return True
    if head[:len(SQLITE_MAGIC)] != SQLITE_MAGIC:
        raise StateFileError(f"{path}: not a cognito-harness state file (not an SQLite database); it was left as "
                             "it is: give --state another path")
    application_id = int.from_bytes(head[68:72], "big")  # read here: SQLite is not let near a foreign file
    if application_id != APPLICATION_ID:
        raise StateFileError(f"{path}: an SQLite database of another application (application_id "
                             f"{application_id:#x}), not a cognito-harness state file; it was left as it is: give "
                             "--state another path")
    return False


def _create(db: sqlite3.Connection) -> None:
    """The tables and marks of a new state file, in one transaction."""
    db.executescript(f"BEGIN IMMEDIATE; PRAGMA application_id={APPLICATION_ID}; "
                     f"PRAGMA user_version={SCHEMA_VERSION}; {SCHEMA} "
                     f"INSERT INTO meta VALUES ('format', '{FORMAT}'), ('created_by', '{__version__}'); COMMIT;")


def _check(path: Path, db: sqlite3.Connection) -> None:
    """Refuse a file that is not a state file this version reads, before anything is written to it."""
    schema = db.execute("PRAGMA user_version").fetchone()[0]
    if schema > SCHEMA_VERSION:
        written_by = _meta(db, "opened_by") or "a newer version"
        raise StateFileError(f"{path}: written by cognito-harness {written_by} (state schema {schema}; this "
                             f"{__version__} reads schema {SCHEMA_VERSION}): upgrade cognito-harness or give "
                             "--state another path; it was left as it is")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if schema < 1 or not {"meta", "records"} <= tables or _meta(db, "format") != FORMAT:
        raise StateFileError(f"{path}: marked as a cognito-harness state file but without its tables; it was "
                             "left as it is")
    problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        raise StateFileError(f"{path}: damaged ({'; '.join(problems[:3])}); it was left as it is")


def _meta(db: sqlite3.Connection, name: str) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:  # no meta table (a newer layout may have none)
        return None
    return row[0] if row else None


__all__ = ["FILE_NAME", "Database", "StateFileError", "resolve"]
