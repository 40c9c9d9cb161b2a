"""The ``minml`` command: the only package that prints.

One module per group of commands (:mod:`._tables`, :mod:`._maps`, :mod:`._training`,
:mod:`._app`), the options they share in :mod:`._options`.  Each command parses its arguments,
makes one call to the library's public API and prints the summary.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from minml import __version__
from minml.cli._app import _add_app
from minml.cli._maps import _add_map
from minml.cli._options import _with_flags
from minml.cli._tables import _add_check, _add_classify, _add_formula, _add_latent, _add_validate
from minml.cli._training import _add_data, _add_evaluate, _add_train

__all__ = ["build_parser", "main"]

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minml`` command."""
    parser = argparse.ArgumentParser(
        prog="minml", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"minml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_classify(sub)
    _add_validate(sub)
    _add_formula(sub)
    _add_map(sub)
    _add_latent(sub)
    _add_check(sub)
    _add_data(sub)
    _add_train(sub)
    _add_evaluate(sub)
    _add_app(sub)
    return parser


def main(argv=None) -> int:
    """Run the ``minml`` command; returns the exit status."""
    # Arrow on the C library's allocator, unless the user chose one: on a CSV file of 1 M rows
    # it peaks ~65 MiB lower and spends ~0.3 s less CPU than mimalloc, which hands freed pages
    # back between the pieces a file is rendered in (read when pyarrow is imported: by the
    # commands, as they run); a caller's environment is left as it was
    chosen_here = "ARROW_DEFAULT_MEMORY_POOL" not in os.environ
    if chosen_here:
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    try:
        return _command(argv)
    finally:
        if chosen_here:
            os.environ.pop("ARROW_DEFAULT_MEMORY_POOL", None)


def _command(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            status = args.run(args)
            sys.stdout.flush()  # a reader that left is met here, not at exit, however stdout is buffered
            return status
        except (FileNotFoundError, ValueError, KeyError, ImportError) as error:  # ImportError: a missing extra
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            if isinstance(error, (ValueError, KeyError)):
                message = _with_flags(str(message))
            print(f"minml {args.command}: error: {message}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `minml validate ... | head`: the reader left; no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor one at exit, flushing
            return 141  # as a shell reports a process ended by SIGPIPE
        except KeyboardInterrupt:  # Ctrl-C: outputs are written whole or not at all
            print(f"\nminml {args.command}: interrupted", file=sys.stderr)
            return 130  # as a shell reports a process ended by SIGINT


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {_with_flags(str(message))}", file=sys.stderr)
