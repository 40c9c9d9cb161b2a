"""Progress that a terminal shows as a bar and a log gets as a line now and then.

Long work (training, cross-validation, large maps) reports where it stands on stderr.  On a
terminal tqdm draws its bar; off one (a log file, a pipe, a batch job) a bar redrawn with
carriage returns would be one endless line, so each report is a line of its own, one every
:data:`LOG_INTERVAL` seconds.
"""

from __future__ import annotations

import sys

__all__ = ["LOG_INTERVAL", "bar", "bar_options", "on_terminal"]

LOG_INTERVAL = 30.0
"""Seconds between two progress lines off a terminal."""


def on_terminal() -> bool:
    """Whether stderr is a terminal."""
    return sys.stderr.isatty()


def bar_options(terminal: bool | None = None) -> dict:
    """Keywords for ``tqdm``: its own bar on a terminal; off one, a line every :data:`LOG_INTERVAL`
    seconds (what is done, of how many, time spent and left).

    Parameters
    ----------
    terminal : bool, optional
        Whether the bar is shown on a terminal; by default, whether stderr is one.

    Examples
    --------
    >>> from io import StringIO
    >>> from tqdm import tqdm
    >>> log = StringIO()
    >>> for _ in tqdm(range(3), desc="folds", unit="fit", file=log, **bar_options(terminal=False)):
    ...     pass
    >>> [line.strip() for line in log.getvalue().splitlines() if line.strip()]
    ['folds: 0/3 fit (00:00 spent, ~? left)', 'folds: 3/3 fit (00:00 spent, ~00:00 left)']
    """
    if on_terminal() if terminal is None else terminal:
        return {}
    return {
        "mininterval": LOG_INTERVAL,
        "bar_format": "{desc}: {n_fmt}/{total_fmt} {unit} ({elapsed} spent, ~{remaining} left)\n",
    }


def bar(iterable=None, *, desc: str, unit: str, enabled: bool = True, total: int | None = None):
    """A tqdm progress bar over ``iterable`` (or one updated by hand, of ``total`` steps) as
    :func:`bar_options` shapes it; silent unless ``enabled``.  tqdm is imported here, when the
    first bar is made."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled, **bar_options())
