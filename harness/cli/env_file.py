"""``serve --env-file F``: the exports written to a file a shell sources, once the server listens.

``eval "$(cognito-harness serve)"`` cannot work: ``serve`` runs in the foreground and its output
never ends. With ``--env-file`` a script starts it in the background, waits for the file and
sources it. The file:

* is removed when ``serve`` starts (a file left by an earlier run never passes for this one), and
  appears only once the server answers, whole: written to a temporary file in the same folder
  and renamed over ``F`` (a reader sees no file or all of it);
* is private (mode 0600): it holds client secrets and, with ``--control-token generate``, the
  control token;
* is removed again when ``serve`` stops (Ctrl-C, SIGTERM), unless something else replaced it
  meanwhile; after a SIGKILL it stays behind, pointing at a dead server, until the next start.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


class EnvFileError(Exception):
    """``--env-file`` cannot be used as given (exit 2, before anything is bound)."""


@dataclass
class EnvFile:
    """The file ``serve`` hands its exports over in; :meth:`prepare` first, :meth:`write`, :meth:`remove`."""

    path: Path
    _written: tuple[int, int] | None = field(default=None, repr=False)  # (st_dev, st_ino) of what we wrote

    @classmethod
    def prepare(cls, path: str | os.PathLike[str]) -> EnvFile:
        """Check the folder and drop a file an earlier run left, so the file appears only for this server."""
        target = Path(path)
        if not target.parent.is_dir():
            raise EnvFileError(f"--env-file {target}: the folder {target.parent} does not exist")
        if target.is_dir():
            raise EnvFileError(f"--env-file {target}: is a folder")
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise EnvFileError(f"--env-file {target}: cannot write in {target.parent}")
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise EnvFileError(f"--env-file {target}: cannot remove the old file ({exc.strerror or exc})") from None
        return cls(target)

    def write(self, lines: list[str], header: str = "") -> None:
        """Write ``lines`` (and a ``# header`` comment) atomically, readable by this user only."""
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("".join(f"# {line}\n" for line in header.splitlines()))
                out.write("".join(f"{line}\n" for line in lines))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        st = self.path.stat()
        self._written = (st.st_dev, st.st_ino)

    def remove(self) -> None:
        """Remove the file if it is still the one written here (another server may have taken the name)."""
        if self._written is None:
            return
        try:
            st = self.path.stat()
            if (st.st_dev, st.st_ino) == self._written:
                self.path.unlink()
        except OSError:
            pass  # already gone, or unreadable: nothing of ours to clean up
        self._written = None
