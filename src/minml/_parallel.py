"""Running numpy work on a few threads.

numpy releases the GIL inside its array loops, so independent pieces of work (chunks of
rows, classes) run side by side on the machine's cores.  BLAS is held to one thread while
they do, so the worker threads do not fight over the cores, and results are the same
whatever the number of threads.

The public functions that do such work (:func:`minml.classify`, :func:`minml.classify_map`,
:func:`minml.latent`) hold BLAS to one thread for their whole run (:func:`one_blas_thread`):
after each product it computes on its own pool, OpenBLAS keeps that pool's threads spinning
for a while, and they took the cores from the threads here (on a 2048 x 2048 map on 2 cores,
~1.8 of 6.3 CPU seconds of ``classify_map``, ~2 of 9 of ``minml map``).  The hold is one for
the process: calls that overlap (Dask's worker threads, a web server's) share it, the first
to start sets BLAS to one thread and the last to finish gives back the count found before.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["one_blas_thread", "ordered_in_threads", "progress_bar", "run_in_threads", "worker_count"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


_HOLD_LOCK = threading.Lock()
_hold: dict = {"calls": 0, "limiter": None}  # the calls holding BLAS to one thread, and the limiter that set it


@contextmanager
def _blas_held() -> Iterator[None]:
    """BLAS on one thread while any caller is inside (see the module docstring)."""
    from threadpoolctl import threadpool_limits

    with _HOLD_LOCK:
        if _hold["calls"] == 0:
            _hold["limiter"] = threadpool_limits(limits=1, user_api="blas")
        _hold["calls"] += 1
    try:
        yield
    finally:
        with _HOLD_LOCK:
            _hold["calls"] -= 1
            if _hold["calls"] == 0:
                _hold["limiter"].restore_original_limits()
                _hold["limiter"] = None


def one_blas_thread(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate ``function`` to run with BLAS (OpenBLAS, MKL) held to one thread.

    For the functions whose numpy work runs on :func:`run_in_threads` and in between; calls
    that overlap share one hold, and the count found before is back once the last returns (see
    the module docstring).

    Parameters
    ----------
    function : callable

    Returns
    -------
    callable
        ``function`` with the same signature (``__wrapped__`` is the original).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> @one_blas_thread
    ... def threads():
    ...     return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    >>> threads() <= {1}
    True
    """

    @functools.wraps(function)
    def held(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _blas_held():
            return function(*args, **kwargs)

    return held


def worker_count() -> int:
    """Threads to use: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def run_in_threads(work, items, *, progress: bool = False, desc: str = "") -> list:
    """``[work(item) for item in items]``, on up to :func:`worker_count` threads.

    Parameters
    ----------
    work : callable
        Must be safe to call from several threads at once (write only to its own slice).
    items : sequence
    progress : bool, default=False
        A progress bar over the items (when there is more than one).
    desc : str
        The progress bar's label.

    Returns
    -------
    list
        The results, in the order of ``items``.
    """
    from concurrent.futures import ThreadPoolExecutor

    items = list(items)
    threads = min(worker_count(), len(items))
    results = []
    with _blas_held(), progress_bar(len(items), desc, progress) as bar:
        if threads <= 1:
            for item in items:
                results.append(work(item))
                bar.update()
            return results
        with ThreadPoolExecutor(threads) as pool:
            for job in [pool.submit(work, item) for item in items]:
                results.append(job.result())
                bar.update()
    return results


def ordered_in_threads(work, items):
    """Yield ``work(item)`` for each item, in order, computed on up to :func:`worker_count`
    threads with at most twice that many results waiting (so a long stream of large results,
    such as rendered pieces of a file, never piles up in memory).

    Parameters
    ----------
    work : callable
        Must be safe to call from several threads at once.
    items : iterable

    Yields
    ------
    object
        The results, in the order of ``items``.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    threads = worker_count()
    with ThreadPoolExecutor(threads) as pool:
        waiting = deque()
        for item in items:
            waiting.append(pool.submit(work, item))
            if len(waiting) >= 2 * threads:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()


class _NoBar:
    """Stands in for a progress bar nobody watches."""

    def update(self, n: int = 1) -> None:
        pass


def progress_bar(total: int, desc: str, progress: bool, unit: str = "chunk"):
    """A tqdm progress bar, or a silent stand-in when none is wanted (tqdm is then not
    imported: it costs a tenth of a second at start-up)."""
    from contextlib import nullcontext

    if not progress or total <= 1:
        return nullcontext(_NoBar())
    from minml._progress import bar

    return bar(total=total, desc=desc, unit=unit)
