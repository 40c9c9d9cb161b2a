"""The ``minml`` command.  The only module that prints."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from minml._version import __version__

_DESCRIPTION = """\
MIN-ML: which mineral is an analysis, and can a database label be trusted?

Commands:
  check FILE             what the reader understands of a table: columns, iron, flags
  data build             build the cleaned training set from the published compilations
"""


def _sheet(value: str):
    return int(value) if value.lstrip("-").isdigit() else value


def _add_check(sub) -> None:
    p = sub.add_parser(
        "check",
        help="report what the reader understands of a table",
        description="Read a table of analyses (CSV, XLSX, Parquet) and report the column mapping, "
        "the iron rule per row and the rows flagged, with the reason.",
    )
    p.add_argument("input", type=Path, help="CSV, XLSX or Parquet file of analyses in wt%%")
    p.add_argument("--sheet", type=_sheet, default=None, help="Excel sheet name or number, or 'all'")
    p.add_argument("--suffix", default=None, help="phase suffix of the oxide columns to read, e.g. _Cpx")
    p.add_argument("--total-range", nargs=2, type=float, metavar=("LOW", "HIGH"), default=(88.0, 105.0),
                   help="accepted oxide sum in wt%% (default: 88 105)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="write the canonical oxides and per-row flags (CSV, XLSX or Parquet, by extension)")
    p.set_defaults(run=_run_check)


def _run_check(args) -> int:
    import pandas as pd

    from minml.checks import check_oxides
    from minml.io import read_table, write_table

    table = read_table(args.input, sheet=args.sheet)
    checked = check_oxides(table, suffix=args.suffix, total_range=tuple(args.total_range))
    print(f"{args.input}")
    print(checked.summary())
    if args.output is not None:
        out = pd.concat([checked.other, checked.oxides, checked.flags], axis=1)
        write_table(out, args.output)
        print(f"\nwrote {args.output}")
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="build the training data", description="Training data.")
    data_sub = p.add_subparsers(dest="data_command", metavar="{build}", required=True)
    b = data_sub.add_parser(
        "build",
        help="build the cleaned training set",
        description="Turn the per-mineral compilations (one .xlsx per class) into training.parquet "
        "and report.json (rows in/out per class, why each dropped row went, content hash).",
    )
    b.add_argument("--source", type=Path, default=Path("../shared/data/training"),
                   help="folder of per-mineral .xlsx files (default: ../shared/data/training)")
    b.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    b.set_defaults(run=_run_data_build)


def _run_data_build(args) -> int:
    from minml.training_data import build_training_set

    result = build_training_set(args.source, args.output, progress=sys.stderr.isatty())
    report = result.report
    print(f"{report['rows_in']} rows read, {report['rows_kept']} kept")
    for reason, count in report["dropped"].items():
        print(f"  dropped {count:>6}  {reason}")
    print(f"content sha256 {report['content_sha256']}")
    print(f"wrote {result.table_path} and {result.report_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minml`` command."""
    parser = argparse.ArgumentParser(
        prog="minml", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"minml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_check(sub)
    _add_data(sub)
    return parser


def main(argv=None) -> int:
    """Run the ``minml`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except (FileNotFoundError, ValueError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            print(f"minml {args.command}: error: {message}", file=sys.stderr)
            return 2


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
