"""The options every command shares, and the one place where the library's keyword names
become the command's options (:data:`_FLAGS`)."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from pathlib import Path

from minml import DEFAULT_TOTAL_RANGE
from minml.pipelines import check_option


def _sheet(value: str):
    """``--sheet``: a whole number is a position counted from 0 (as ``read_table``'s ``sheet``),
    any other text a sheet's name (or ``all``)."""
    return int(value) if value.lstrip("-").isdigit() else value


def _run_job(args) -> int:
    """Run the command's pipeline (``args.job``, from :mod:`minml.pipelines`) on INPUT with the
    options named as its keywords, and print its summary."""
    import inspect

    _check_sheet_number(args.input, getattr(args, "sheet", None))
    keywords = inspect.signature(args.job).parameters
    options = {name: value for name, value in vars(args).items() if name in keywords and name not in ("src", "dst")}
    if "total_range" in options:
        options["total_range"] = tuple(options["total_range"])
    options["progress"] = sys.stderr.isatty()
    summary = args.job(args.input, _output_file(args), **options)
    for line in summary.lines():
        print(line)
    return 0


def names_folder(output) -> bool:
    """Whether ``-o``, as typed (:func:`_output`), ends in a path separator: a folder."""
    return output is not None and str(output).endswith(("/", "\\", os.sep))


def _output_file(args) -> Path | None:
    """``-o`` of a command that writes one file, as a path; refused where it names a folder
    (``out/``): only ``classify`` and ``validate`` write a folder of parts."""
    if args.output is None:
        return None
    if names_folder(args.output):
        raise ValueError(
            f"-o {args.output!r} ends in a separator, which names a folder: minml {args.command} writes one table; "
            "give a file name (CSV, XLSX or Parquet by extension)."
        )
    return Path(args.output)


def _output(text: str) -> str:
    """``-o`` as typed: a path, its trailing separator kept (``DIR/`` names a folder, which
    :class:`~pathlib.Path` would drop)."""
    if not text:
        raise argparse.ArgumentTypeError("give a file name, or a folder ending in '/'")
    return text


def _check_sheet_number(path: Path, sheet) -> None:
    """Refuse, before any work, a ``--sheet`` position that the workbook at ``path`` lacks,
    listing its sheets with the numbers ``--sheet`` takes (counted from 0).  Names, ``all``,
    a number that is a sheet's name, and files that are no workbook are left to the reader."""
    if not isinstance(sheet, int) or path.suffix.lower() not in (".xlsx", ".xlsm", ".xls") or not path.is_file():
        return
    try:
        from python_calamine import CalamineWorkbook

        names = list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # not a workbook it can open: the reader says what is wrong
        return
    if str(sheet) in names or -len(names) <= sheet < len(names):
        return
    numbered = ", ".join(f"{i} {name!r}" for i, name in enumerate(names))
    raise ValueError(
        f"{path.name} has no sheet number {sheet}: --sheet counts sheets from 0 (-1 is the last), and its "
        f"{len(names)} sheets are {numbered}. Give one of these numbers, or the sheet's name."
    )


_FLAGS = {
    "fill_missing": "--fill-missing",
    "suffix": "--suffix",
    "elements": "--elements",
    "sheet": "--sheet",
    "header_row": "--header-row",
    "encoding": "--encoding",
    "label_column": "--label-column",
    "mineral_column": "--mineral-column",
    "coverage": "--coverage",
    "total_range": "--total-range",
    "units": "--units",
    "channels": "--channels",
    "pixel_size": "--pixel-size",
    "min_total": "--min-total",
    "max_total": "--max-total",
    "min_region": "--clean",
    "index_phase": "--index-phase",
    "report": "--report",
    "plot": "--plot",
    "plot_reconstruction": "--plot-reconstruction",
}
_KEYWORD = re.compile(r"\b(" + "|".join(_FLAGS) + r")=(?!\()('[^']*'|\"[^\"]*\"|[^\s,;)]+)?")
_BARE = re.compile(r"(?<![\w.-])(" + "|".join(k for k in _FLAGS if "_" in k) + r")\b(?!=)")
_SAID_FOR_THE_COMMAND = re.compile(r" \(on the command line: [^)]*\)")


def _with_flags(message: str) -> str:
    """A library message in the command's words: ``fill_missing=0.0`` becomes ``--fill-missing
    0.0``, ``elements=True`` ``--elements``, ``label_column='Rock type'`` ``--label-column 'Rock
    type'``, a bare ``fill_missing`` ``--fill-missing``; what a message still says of the
    command line itself in parentheses goes (it would say it twice)."""

    def option(match: re.Match) -> str:
        flag, value = _FLAGS[match.group(1)], match.group(2)
        stop = ""
        if value and value.endswith(".") and value[0] not in "'\"":  # the sentence's full stop
            value, stop = value[:-1], "."
        if value and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        return (flag if value in (None, "True") else f"{flag} {shlex.quote(value)}") + stop

    message = _SAID_FOR_THE_COMMAND.sub("", message)
    message = _KEYWORD.sub(option, message)
    return _BARE.sub(lambda match: _FLAGS[match.group(1)], message)


def _add_table_arguments(p) -> None:
    """INPUT, --sheet and --suffix: how every table-reading command finds its analyses."""
    p.add_argument("input", type=Path, help="CSV, XLSX or Parquet file of analyses in wt%%")
    p.add_argument(
        "--sheet",
        type=_sheet,
        default=None,
        metavar="NAME|N|all",
        help="Excel sheet: a name; a position counted from 0 (0 the first sheet, 1 the second, -1 the last; "
        "--header-row counts from 1), though a number that is a sheet's name (2023) reads that sheet; or 'all' "
        "(every sheet with oxide columns). Default: the first sheet",
    )
    p.add_argument(
        "--suffix", default=None, help="phase suffix (or prefix) of the oxide columns to read, e.g. _Cpx or Core_"
    )
    p.add_argument(
        "--elements",
        action="store_true",
        help="columns named by an element (Si, Fe, Mg, ...) hold element wt%%, as EDS software reports "
        "without oxides: read each as its oxide (iron as FeOt); an O column is left out",
    )
    p.add_argument(
        "--header-row",
        type=int,
        default=None,
        metavar="N",
        help="row holding the column names, counted from 1 (default: the first; rows above are skipped)",
    )
    p.add_argument(
        "--encoding",
        default=None,
        help="text encoding of a CSV input, e.g. cp1252 for Excel on Windows (default: UTF-8); output is UTF-8",
    )


def _add_output(p, default_suffix: str) -> None:
    """-o/--output of a command that writes one table, by default beside INPUT."""
    p.add_argument(
        "-o",
        "--output",
        type=_output,
        default=None,
        help=f"output file (CSV, XLSX or Parquet by extension; default: INPUT{default_suffix})",
    )


def _add_model_arguments(p, model_help: str) -> None:
    """--model and --fill-missing of a command that runs a shipped model."""
    p.add_argument("--model", type=Path, default=None, help=model_help)
    p.add_argument(
        "--fill-missing",
        type=_fill_missing,
        default=None,
        metavar="VALUE",
        help="value for model oxides the table lacks (default: refuse)",
    )


def _add_total_range(p, consequence: str) -> None:
    low, high = DEFAULT_TOTAL_RANGE
    p.add_argument(
        "--total-range",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        default=DEFAULT_TOTAL_RANGE,
        help=f"accepted oxide sum in wt%%{consequence} (default: {low:g} {high:g})",
    )


def _fill_missing(text: str) -> float:
    """``--fill-missing``, checked as the API checks ``fill_missing``, before any work."""
    try:
        value = float(text)
    except ValueError:
        value = None
    try:
        check_option("fill_missing", text if value is None else value)  # text: refused in the same words
    except ValueError as error:
        raise argparse.ArgumentTypeError(_with_flags(str(error))) from None
    return float(text)  # a number: check_option refuses any other text


def _coverage(text: str) -> float:
    value = _number(text, "coverage")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"coverage must lie between 0 and 1 (e.g. 0.95), got {text}")
    return value


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None


"""The library's keyword names and the command's options for them: the one place where
messages written for Python callers are put in the command's words."""
