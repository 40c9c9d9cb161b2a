"""The ``.npz`` archives a user names (model files, maps): opened with errors they can act on,
and models taken as objects or as paths alike.

``numpy.load`` answers a file that is not an archive with advice about unpickling (which
MIN-ML never does), returns a plain array for a ``.npy`` file renamed ``.npz``, and reports a
missing entry as ``KeyError: 'x is not a file in the archive'``; here each is a
:class:`ValueError` saying what the file is not.
"""

from __future__ import annotations

import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["model_from", "open_npz", "save_npz"]


@contextmanager
def open_npz(path, what: str, required=()):
    """``numpy.load(path)`` of a ``.npz`` archive (no pickles), as a context manager.

    Parameters
    ----------
    path : str or path-like
    what : str
        What the file should be, for the messages (``"MIN-ML classifier model"``).
    required : iterable of str
        Entries the archive must hold to be one.

    Yields
    ------
    numpy.lib.npyio.NpzFile

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is no ``.npz`` archive, or lacks one of ``required``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No {what} file {str(path)!r}.")
    not_one = f"{path.name!r} is not a {what}"
    with open(path, "rb") as handle:  # closed here: numpy leaves a file it failed to read open
        try:
            data = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile):
            raise ValueError(f"{not_one}: it is no .npz archive, or one cut short (copy it again).") from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{not_one}: it holds one array (a .npy file), not a .npz archive.")
        with data:
            missing = [name for name in required if name not in data.files]
            if missing:
                raise ValueError(f"{not_one}: it has no {', '.join(missing)}.")
            yield _Entries(data, not_one)


class _Entries:
    """An open ``.npz`` archive whose entries, read one by one, are checked as they are read: a
    damaged entry (one flipped byte fails its CRC, a cut file its decompression) is a
    :class:`ValueError` naming the entry, not ``BadZipFile`` or ``zlib.error``."""

    def __init__(self, data: np.lib.npyio.NpzFile, not_one: str):
        self._data = data
        self._not_one = not_one
        self.files = data.files

    def __contains__(self, name: str) -> bool:
        return name in self.files

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._data[name]
        except KeyError:
            raise ValueError(
                f"{self._not_one}: it has no entry {name!r}. Write it again with this MIN-ML (or copy it again: "
                "a damaged file loses names)."
            ) from None
        except Exception as error:  # any failure to read an entry (CRC, decompression, header) is damage
            raise ValueError(
                f"{self._not_one} as it stands: its entry {name!r} is damaged ({error}). The file was changed or cut "
                "after it was written: copy it again from where it came (the shipped models: reinstall MIN-ML), "
                "or write it again."
            ) from None


def model_from(model, *, default, load, types, what: str):
    """The model a caller passed: ``default()`` for None, ``load(path)`` for a path (str or
    path-like), the object itself when it is one of ``types``.

    Raises
    ------
    TypeError
        For anything else, saying what is accepted (``what``: "a Runtime", ...).
    """
    import os

    if model is None:
        return default()
    if isinstance(model, (str, os.PathLike)):
        return load(model)
    if isinstance(model, types):
        return model
    raise TypeError(f"model must be {what} or the path of a model .npz; got {type(model).__name__}.")


def save_npz(path, arrays: dict) -> Path:
    """Write ``arrays`` as one compressed ``.npz`` archive (no pickle), whole or not at all
    (:func:`minml.io.atomic_path`); ``.npz`` is added to a name without it, as numpy adds it.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from minml.io._paths import atomic_path

    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    with atomic_path(path) as part, open(part, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path
