"""The ``minml`` command: the only package that prints.

One module per group of commands (:mod:`._tables`, :mod:`._maps`, :mod:`._training`,
:mod:`._app`), the options they share in :mod:`._options`.  Each command parses its arguments,
makes one call to the library's public API and prints the summary.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings
from contextlib import contextmanager

from minml import __version__

__all__ = ["build_parser", "main"]

_COMMANDS = {
    "classify": ("_tables", "_add_classify"),
    "validate": ("_tables", "_add_validate"),
    "formula": ("_tables", "_add_formula"),
    "map": ("_maps", "_add_map"),
    "latent": ("_tables", "_add_latent"),
    "check": ("_tables", "_add_check"),
    "data": ("_training", "_add_data"),
    "train": ("_training", "_add_train"),
    "evaluate": ("_training", "_add_evaluate"),
    "app": ("_app", "_add_app"),
}
"""Each command: the module of :mod:`minml.cli` that adds its parser, and the function that does."""

_ONE_BLAS_THREAD = ("classify", "validate", "formula", "map", "latent", "check")
"""The commands whose numpy work runs on :mod:`minml._parallel`'s threads (see :func:`_settings`)."""

_DESCRIPTION = """\
MIN-ML: which mineral is an analysis, and can a database label be trusted?

Commands:
  classify FILE          which mineral is each analysis (probability, uncertainty, flags)
  validate FILE          which published labels disagree with the evidence
  formula FILE           mineral formulas (cations per formula unit, end-members)
  latent FILE            the autoencoder's latent space and density clusters (unsupervised)
  map INPUT              classify a quantitative EDS/WDS map pixel by pixel
  check FILE             what the reader understands of a table: columns, iron, flags
  data build             build the cleaned training set from the published compilations
  train                  retrain the shipped models from the shared data
  evaluate               cross-validate and test the shipped model; write its model card
  app                    open the web app in a browser (pip install "min-ml[app]")
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``minml`` command.

    Parameters
    ----------
    command : str, optional
        Build the parser of this command only (a key of :data:`_COMMANDS`): the modules of
        the other commands are not imported, nor their parsers built.  It parses that
        command's arguments as the whole parser does, and is what :func:`main` uses when
        its first argument names a command (``minml classify`` starts sooner).
    """
    parser = argparse.ArgumentParser(
        prog="minml", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"minml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, add) in _COMMANDS.items():
        if command is None or name == command:
            getattr(importlib.import_module(f"minml.cli.{module}"), add)(sub)
    return parser


def main(argv=None) -> int:
    """Run the ``minml`` command; returns the exit status.

    Without ``argv`` it reads ``sys.argv``, as the program (``minml``, ``python -m minml.cli``)."""
    program = argv is None  # not called from a Python program, whose process the settings would outlive
    argv = sys.argv[1:] if program else list(argv)
    chosen_here = {name: value for name, value in _settings(argv, program).items() if name not in os.environ}
    os.environ.update(chosen_here)
    try:
        return _command(argv)
    finally:
        for name in chosen_here:  # a caller's environment is left as it was
            os.environ.pop(name, None)


def _settings(argv: list, program: bool) -> dict[str, str]:
    """Settings the libraries read from the environment when they are imported (by the
    commands, as they run), for the command's own process; a user's choice stands.

    * Arrow on the C library's allocator: on a CSV file of 1 M rows it peaks ~65 MiB lower
      and spends ~0.3 s less CPU than mimalloc, which hands freed pages back between the
      pieces a file is rendered in.
    * For the commands that classify, run as the program (``program``: not called from
      Python, whose numpy would keep the setting after the command) where numpy is still to
      be imported: OpenBLAS on one thread.  Their work runs on the command's own threads
      (:mod:`minml._parallel`), which hold BLAS to one thread anyway; starting OpenBLAS's
      pool of threads costs ~60 ms of CPU at ``import numpy``, a fifth of ``classify``'s
      start-up (results are the same, 10 rows to 1 M).  Not for ``train`` and ``evaluate``.
    """
    settings = {"ARROW_DEFAULT_MEMORY_POOL": "system"}
    if program and argv[:1] and argv[0] in _ONE_BLAS_THREAD and "numpy" not in sys.modules:
        settings["OPENBLAS_NUM_THREADS"] = "1"
    return settings


def _command(argv: list) -> int:
    parser = build_parser(argv[0] if argv and argv[0] in _COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    with warnings.catch_warnings(), _terminable():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            status = args.run(args)
            sys.stdout.flush()  # a reader that left is met here, not at exit, however stdout is buffered
            return status
        except (FileNotFoundError, ValueError, KeyError, ImportError) as error:  # ImportError: a missing extra
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            if isinstance(error, (ValueError, KeyError)):
                from minml.cli._options import _with_flags

                message = _with_flags(str(message))
            print(f"minml {args.command}: error: {message}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `minml validate ... | head`: the reader left; no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor one at exit, flushing
            return 141  # as a shell reports a process ended by SIGPIPE
        except OSError as error:  # the system refused: a full disk, a read-only folder, an output folder taken
            print(f"minml {args.command}: error: {_os_message(error)}", file=sys.stderr)
            return 2 if isinstance(error, FileExistsError) else 1
        except KeyboardInterrupt:  # Ctrl-C: outputs are written whole or not at all
            print(f"\nminml {args.command}: interrupted", file=sys.stderr)
            return 130  # as a shell reports a process ended by SIGINT
        except _Terminated:  # SIGTERM, as a batch scheduler ends a job: cleaned up as for Ctrl-C
            print(f"minml {args.command}: terminated (SIGTERM)", file=sys.stderr)
            return 143  # as a shell reports a process ended by SIGTERM


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread as Ctrl-C raises :class:`KeyboardInterrupt`, so that
    what a command was writing is removed on the way out (:func:`minml.io.atomic_path`)."""


@contextmanager
def _terminable():
    """While the command runs, SIGTERM raises :class:`_Terminated` (then is ignored: the
    clean-up is not cut short), where it would end the process at once; left as it is
    where a caller set its own handler, or off the main thread (no handler can be set)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Terminated

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _os_message(error: OSError) -> str:
    """An error of the operating system in one line: to which path as the user named it,
    and why (the system's words); minml's own errors (a write refused, with the fix, or an
    output folder taken) in their words."""
    if error.errno is None or error.strerror is None or type(error).__str__ is not OSError.__str__:
        return str(error)
    where = f"{str(error.filename)!r}: " if error.filename is not None else ""
    return f"{where}{error.strerror}"


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from minml.cli._options import _with_flags

    print(f"warning: {_with_flags(str(message))}", file=sys.stderr)
