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

__all__ = ["model_from", "open_npz"]


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
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        raise ValueError(f"{not_one}: it is no .npz archive.") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{not_one}: it holds one array (a .npy file), not a .npz archive.")
    with data:
        missing = [name for name in required if name not in data.files]
        if missing:
            raise ValueError(f"{not_one}: it has no {', '.join(missing)}.")
        yield data


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
