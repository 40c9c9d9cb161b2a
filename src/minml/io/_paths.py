"""Outputs written whole or not at all: :func:`atomic_path`.

A file is written under its own name in a hidden folder beside its target and renamed into
place (:func:`os.replace`, atomic on one file system) once it is complete: a reader, or a
second run writing the same path, sees the previous file or the new one, never a part; a
failure, Ctrl-C or a killed process leaves the previous file as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path"]

_PREFIX = ".minml-writing-"  # the hidden folder a file is written in before it is moved into place


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """A path to write ``path``'s new content to; moved onto ``path`` when the block ends.

    The path yielded has ``path``'s name (so that writers choosing a format by extension,
    and messages naming the file, see the real name) in a new hidden folder of the target's
    folder, on the same file system.  When the block ends normally, the file written there
    replaces ``path`` in one step; when it raises (an error, ``KeyboardInterrupt``), the
    temporary folder is removed and ``path`` is untouched.  A symbolic link at ``path`` is
    followed: the file it points to is replaced.

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

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as part:
    ...     _ = part.write_text("whole")
    >>> target.read_text()
    'whole'
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=path.parent))
    try:
        part = folder / path.name
        yield part
        if not part.exists():
            raise FileNotFoundError(f"Nothing was written for {str(path)!r}.")
        os.replace(part, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
