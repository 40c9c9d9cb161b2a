"""Outputs written whole or not at all: :func:`atomic_path`.

A file is written under its own name in a hidden folder beside its target and renamed into
place (:func:`os.replace`, atomic on one file system) once it is complete: a reader, or a
second run writing the same path, sees the previous file or the new one, never a part; a
failure, Ctrl-C or a killed process leaves the previous file as it was.

The hidden folder is named for the process that writes it (``.minml-writing-<pid>@<host>.<random>``),
as is the staging folder of the folder route (``<out>.incomplete-<pid>@<host>.<random>``):
a process killed outright (SIGKILL, a machine that lost power) cannot remove its own, so
each write first removes those of its folder whose process is gone (:func:`sweep_stale`),
never those of a process that still runs.  An operating system's refusal to write (a full
disk, a read-only or too long name) is raised as :class:`CannotWrite`, naming the output as
the caller named it, not the temporary it was written under.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CannotWrite", "atomic_path", "cannot_write", "owner_tag", "sweep_stale", "write_refusal"]

_PREFIX = ".minml-writing-"  # the hidden folder a file is written in before it is moved into place
_OWNED = re.compile(r"(?:^\.minml-writing-|\.incomplete-)(?P<pid>\d+)@(?P<host>[\w.-]+)\.[a-z0-9_]{8}$")
"""A temporary of minml's naming: who made it (process id, host), then 8 random characters."""


_FIXES = {
    errno.ENOSPC: "free some space, or write to another disk",
    errno.EDQUOT: "free some space, or write to another disk",
    errno.EFBIG: "write to a disk that takes larger files, or make the file smaller",
    errno.ENAMETOOLONG: "give a shorter name",
}
"""What to do when the system refuses a write, by its error number (others: write elsewhere)."""


class CannotWrite(OSError):
    """The operating system refused to write an output.

    Its message is one line: the output, the system's reason and what to do
    (``cannot write 'out.csv': No space left on device (free some space, or write to
    another disk)``).

    Attributes
    ----------
    errno : int
    strerror : str
        The system's reason (``No space left on device``).
    filename : str
        The output as the caller named it.
    """

    def __str__(self) -> str:
        fix = _FIXES.get(self.errno or 0, "write to another folder")
        return f"cannot write {self.filename!r}: {self.strerror} ({fix})"


def cannot_write(error: OSError, path) -> OSError:
    """``error``, the system refusing to write ``path`` (it has an error number), as
    :class:`CannotWrite` naming ``path``; a lost connection, or an error of minml's own words
    (no number), comes back as it is."""
    if isinstance(error, (CannotWrite, ConnectionError)) or error.errno is None:
        return error
    return CannotWrite(error.errno, os.strerror(error.errno), str(path))


def write_refusal(error: OSError, path, temporary) -> OSError:
    """:func:`cannot_write` for an error met while writing ``path`` under ``temporary`` (a
    file or folder): one that names no file (a full disk), or names ``path``, ``temporary``
    or a file in it.  An error naming another file (a missing input) comes back as it is."""
    named = error.filename
    if named is not None:
        named = Path(os.path.abspath(named))
        if named != Path(os.path.abspath(path)) and not named.is_relative_to(os.path.abspath(temporary)):
            return error
    return cannot_write(error, path)


def _host() -> str:
    return re.sub(r"[^\w.-]", "_", socket.gethostname())[:64] or "host"


def owner_tag() -> str:
    """``<pid>@<host>``: the process that owns a temporary, as its name says it."""
    return f"{os.getpid()}@{_host()}"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on POSIX; elsewhere, and where the system will not say,
    it is taken to run: a temporary is never swept on a guess)."""
    if os.name != "posix":  # Windows' os.kill(pid, 0) sends Ctrl-C to the process: never asked there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or a system that will not say
        return True
    return True


def sweep_stale(folder) -> list[Path]:
    """Remove the temporaries of minml's naming in ``folder`` whose process is gone.

    Only folders named by :func:`owner_tag` on this host, whose process no longer runs: a
    run killed outright left them, and no run will finish them.  Another run's, live, are
    left alone, and so are those of other hosts (a shared file system): whether their
    process runs cannot be seen from here.

    Parameters
    ----------
    folder : str or path-like

    Returns
    -------
    list of pathlib.Path
        The folders removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # a folder that cannot be listed: nothing of ours to sweep there
        return removed
    for entry in entries:
        owner = _OWNED.search(entry.name)
        if owner is None or owner["host"] != _host() or _alive(int(owner["pid"])):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """A path to write ``path``'s new content to; moved onto ``path`` when the block ends.

    The path yielded has ``path``'s name (so that writers choosing a format by extension,
    and messages naming the file, see the real name) in a new hidden folder of the target's
    folder, on the same file system.  When the block ends normally, the file written there
    replaces ``path`` in one step; when it raises (an error, ``KeyboardInterrupt``), the
    temporary folder is removed and ``path`` is untouched.  A symbolic link at ``path`` is
    followed: the file it points to is replaced.  Temporaries that killed runs left in the
    folder are removed first (:func:`sweep_stale`).

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.

    Yields
    ------
    pathlib.Path
        Where to write.

    Raises
    ------
    FileNotFoundError
        The block wrote nothing at the path yielded.
    CannotWrite
        The system refused the write (a full disk, a read-only folder, a name too long),
        naming ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as part:
    ...     _ = part.write_text("whole")
    >>> target.read_text()
    'whole'
    """
    given = path
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    sweep_stale(path.parent)
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{owner_tag()}.", dir=path.parent))
    except OSError as error:  # the folder refuses a new entry: the output cannot be written there
        refused = cannot_write(error, given)
        if refused is error:
            raise
        raise refused from None
    try:
        part = folder / path.name
        try:
            yield part
            if not part.exists():
                raise FileNotFoundError(f"Nothing was written for {str(path)!r}.")
            os.replace(part, path)
        except OSError as error:
            refused = write_refusal(error, given, folder)
            if refused is error:
                raise
            raise refused from error
    finally:
        shutil.rmtree(folder, ignore_errors=True)
