"""The ``minml`` command.  The only module that prints."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from minml._version import __version__

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
"""


def _sheet(value: str):
    return int(value) if value.lstrip("-").isdigit() else value


def _add_table_arguments(p) -> None:
    """INPUT, --sheet and --suffix: how every table-reading command finds its analyses."""
    p.add_argument("input", type=Path, help="CSV, XLSX or Parquet file of analyses in wt%%")
    p.add_argument("--sheet", type=_sheet, default=None, help="Excel sheet name or number, or 'all'")
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
        type=Path,
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


def _reading(args) -> dict:
    """How the table's columns are read (``--suffix``, ``--elements``), as the API's keywords."""
    return {"suffix": args.suffix, "elements": args.elements}


def _read_input(args, output: Path | None = None):
    """The table ``INPUT`` names, as :func:`minml.read_table` reads it with ``--sheet``,
    ``--header-row`` and ``--encoding``; refused, before any work, when ``output`` is an Excel
    file too small for it."""
    from minml.io import check_fits, read_table

    table = read_table(args.input, sheet=args.sheet, encoding=args.encoding, header_row=args.header_row)
    if output is not None:
        check_fits(output, len(table))
    return table


def _outputs(args, table: Path | None, *others: Path | None) -> Path | None:
    """Check, before any work, that the output ``table`` (a known extension) and the
    ``others`` (reports, figures: matplotlib must be there) can be written: existing
    folders, none of them the input or each other.  Returns ``table``."""
    from minml.io import writable_path

    written = [writable_path(table)] if table is not None else []
    written += [writable_path(path, table=False) for path in others if path is not None]
    if any(path is not None for path in others):
        from minml.plot import require_matplotlib

        require_matplotlib()
    for i, path in enumerate(written):
        if args.input.exists() and path.exists() and path.samefile(args.input):
            raise ValueError(f"{str(path)!r} is the input; write to another file so that the input stays as it is.")
        if path.resolve() in {p.resolve() for p in written[:i]}:
            raise ValueError(f"{str(path)!r} is named for two outputs; give each its own file.")
    return table


def _bom(args) -> bool:
    """Whether CSV output starts with a UTF-8 byte-order mark (:func:`minml.io.bom_for`)."""
    from minml.io import bom_for

    return bom_for(args.input, args.encoding)


def _default_output(args, suffix: str) -> Path:
    """``-o``, or a CSV file beside the input named INPUT + ``suffix``."""
    return args.output or args.input.with_name(args.input.stem + suffix)


def _add_total_range(p, consequence: str) -> None:
    p.add_argument(
        "--total-range",
        nargs=2,
        type=float,
        metavar=("LOW", "HIGH"),
        default=(88.0, 105.0),
        help=f"accepted oxide sum in wt%%{consequence} (default: 88 105)",
    )


def _add_check(sub) -> None:
    p = sub.add_parser(
        "check",
        help="report what the reader understands of a table",
        description="Read a table of analyses (CSV, XLSX, Parquet) and report the column mapping, "
        "the iron rule per row and the rows flagged, with the reason.",
    )
    _add_table_arguments(p)
    _add_total_range(p, "")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="write the canonical oxides and per-row flags (CSV, XLSX or Parquet, by extension)",
    )
    p.set_defaults(run=_run_check)


def _run_check(args) -> int:
    import pandas as pd

    from minml.tables.checks import check_oxides

    _outputs(args, args.output)
    table = _read_input(args, args.output)
    checked = check_oxides(table, total_range=tuple(args.total_range), **_reading(args))
    print(f"{args.input}")
    print(checked.summary())
    if args.output is not None:  # the columns kept as they were, then the oxides and flags as read
        prefixed = _write_beside_input(
            checked.other, pd.concat([checked.oxides, checked.flags], axis=1), args.output, _bom(args), "check_"
        )
        print(f"\nwrote {args.output}" + (_prefixed_note("check_") if prefixed else ""))
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
    b.add_argument(
        "--source",
        type=Path,
        default=Path("../shared/data/training"),
        help="folder of per-mineral .xlsx files (default: ../shared/data/training)",
    )
    b.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    b.set_defaults(run=_run_data_build)


def _run_data_build(args) -> int:
    from minml.training.data import build_training_set

    result = build_training_set(args.source, args.output, progress=sys.stderr.isatty())
    report = result.report
    print(f"{report['rows_in']} rows read, {report['rows_kept']} kept")
    for reason, count in report["dropped"].items():
        print(f"  dropped {count:>6}  {reason}")
    print(f"content sha256 {report['content_sha256']}")
    print(f"wrote {result.table_path} and {result.report_path}")
    return 0


def _add_classify(sub) -> None:
    p = sub.add_parser(
        "classify",
        help="classify every analysis of a table",
        description="Classify each analysis (CSV, XLSX, Parquet) and write the input's columns plus "
        "mineral, group, probability, uncertainty, second_mineral, second_probability, ood_score, flag "
        "(and prediction_set with --coverage). Bad analyses and rows that are none of the classes get "
        "mineral 'unknown' with the reason in flag.",
    )
    _add_table_arguments(p)
    _add_output(p, "_classified.csv")
    _add_model_arguments(p, "a model .npz (default: the shipped model)")
    p.add_argument(
        "--coverage",
        type=_coverage,
        default=None,
        metavar="P",
        help="add prediction_set: the classes that hold the true one with probability P, e.g. 0.95",
    )
    _add_total_range(p, "; rows outside are bad analyses: unknown")
    p.set_defaults(run=_run_classify)


def _write_beside_input(table, result, output: Path, bom: bool, prefix: str) -> bool:
    """Write the input's columns and the result's side by side to ``output`` (``bom``: as
    :func:`minml.io.write_table`), the result's named apart (:func:`_named_apart`); returns
    whether they were prefixed."""
    import pandas as pd

    from minml.io import write_table

    names = _named_apart(table.columns, result.columns, prefix)
    write_table(
        pd.concat([table, result.set_axis(names, axis=1)], axis=1), output, bom=bom, progress=sys.stderr.isatty()
    )
    return names != list(result.columns)


def _named_apart(columns, names, prefix: str) -> list[str]:
    """The result's column ``names``, all with ``prefix`` when one would overwrite an input
    column (an input labelled in a column ``mineral``): the input's columns are never replaced."""
    taken = set(columns)
    if not taken & set(names):
        return list(names)
    prefixed = [prefix + name for name in names]
    clash = [name for name in prefixed if name in taken]
    if clash:
        raise ValueError(f"The input already has columns {clash}; rename them so the results do not overwrite them.")
    return prefixed


def _prefixed_note(prefix: str) -> str:
    return f" (result columns prefixed {prefix}: the input has some of the same names)"


def _fill_missing(text: str) -> float:
    """``--fill-missing``, checked as the API checks ``fill_missing``, before any work."""
    from minml.classifier.features import check_fill

    try:
        value = float(text)
    except ValueError:
        value = text  # refused below, in the same words
    try:
        check_fill(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("fill_missing", "--fill-missing", 1)) from None
    return value


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


def _map_option(option: str, check, convert=float, off=None):
    """An argparse type for a map setting: a number, checked by the API's rule ``check``
    (a function of the value that raises ValueError) before the map is read; ``off`` is
    taken as it is (``--clean 0``)."""

    def parse(text: str):
        value = _number(text, option)
        if convert is int and value != int(value):
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, got {text!r}")
        value = convert(value)
        if value == off:
            return value
        try:
            check(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return parse


def _map_check(name: str):
    """The API's rule for map setting ``name`` (:func:`minml.maps.check_map_options`,
    :func:`minml.maps.check_pixel_size`), imported only when a map command runs."""

    def check(value):
        import minml.maps

        if name == "pixel_size":
            return minml.maps.check_pixel_size(value)
        return minml.maps.check_map_options(**{name: value})

    return check


def _map_profile(text: str) -> tuple[float, float, float, float]:
    """``--profile x0,y0,x1,y1``: four numbers, pixel columns and rows."""
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"--profile takes x0,y0,x1,y1 (four numbers, pixels), got {text!r}")
    x0, y0, x1, y1 = (_number(part, "--profile") for part in parts)
    return x0, y0, x1, y1


def _run_classify(args) -> int:
    import numpy as np

    from minml.classifier._runtime import Runtime

    output = _outputs(args, _default_output(args, "_classified.csv"))
    model = Runtime.load(args.model) if args.model else None
    options = dict(fill_missing=args.fill_missing, coverage=args.coverage, progress=sys.stderr.isatty())
    arrow = _classify_arrow(args, model, options, output)
    if arrow is None:
        from minml.classifier.predict import classify

        table = _read_input(args, output)
        result = classify(table, model, total_range=tuple(args.total_range), **_reading(args), **options)
        prefixed = _write_beside_input(table, result, output, _bom(args), "classify_")
        minerals = result["mineral"].cat
        minerals, flags = (minerals.codes.to_numpy(), list(minerals.categories)), result["flag"].to_numpy()
    else:
        minerals, flags, prefixed = arrow
    codes, names = minerals
    counts = np.bincount(codes, minlength=len(names))
    order = [k for k in np.argsort(-counts, kind="stable") if counts[k]]  # most frequent first, ties in class order
    found = ", ".join(f"{names[k]} {counts[k]}" for k in order)
    print(
        f"{len(codes)} {'analysis' if len(codes) == 1 else 'analyses'} classified"
        + (f": {found}" if found else "")
        + (_prefixed_note("classify_") if prefixed else "")
    )
    unknown = codes == list(names).index("unknown")
    if unknown.any():
        from minml.classifier.predict import none_of_the_classes

        novel = int(none_of_the_classes(np.asarray(flags, dtype=object)[unknown]).sum())
        bad = int(unknown.sum()) - novel
        print(
            f"unknown {int(unknown.sum())}: {bad} bad {'analysis' if bad == 1 else 'analyses'}, "
            f"{novel} none of the classes"
        )
    print(f"{int((flags != '').sum())} flagged (see the flag column)")
    print(f"wrote {output}")
    return 0


def _classify_arrow(args, model, options, output: Path):
    """``minml classify`` from CSV to CSV without pandas (:func:`minml.io.read_csv_arrow`):
    returns the mineral codes with their names, the flags, and whether the result columns were
    prefixed; None for other files, which take the pandas route."""
    from minml.io import is_csv, read_csv_arrow

    if args.sheet is not None or args.header_row not in (None, 1) or not is_csv(output):
        return None
    table = read_csv_arrow(args.input, encoding=args.encoding, **_reading(args))
    if table is None:
        return None
    from minml.classifier.predict import classify_columns
    from minml.io import write_csv_arrow
    from minml.io._arrow import arrow_array
    from minml.tables.checks import check_columns

    columns = {name: table.column(name) for name in table.column_names}
    checked = check_columns(columns, table.num_rows, total_range=tuple(args.total_range), notes=False, **_reading(args))
    result = classify_columns(checked, model, **options)
    names = _named_apart(table.column_names, list(result), "classify_")
    for name, column in zip(names, result.values(), strict=True):
        table = table.append_column(name, arrow_array(column))
    write_csv_arrow(table, output, "\t" if output.suffix.lower() == ".tsv" else ",", bom=_bom(args))
    return (result["mineral"].codes, result["mineral"].categories), result["flag"], names != list(result)


def _add_formula(sub) -> None:
    p = sub.add_parser(
        "formula",
        help="mineral formulas: cations, Fe3+, end-members, misfit",
        description="Cations per formula unit on each class's oxygen basis, Fe3+ by charge balance "
        "(Droop 1987) where the structure allows, the indices users quote (Fo, Wo-En-Fs, An-Ab-Or, Cr#, ...) "
        "and the stoichiometric misfit. Give --mineral (a class, a synonym such as cpx, or auto) or "
        "--mineral-column.",
    )
    _add_table_arguments(p)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--mineral", help="class for every row (olivine, cpx, plag, ...), or 'auto' to classify first")
    which.add_argument("--mineral-column", help="column naming each row's mineral (database labels are matched)")
    _add_output(p, "_formula.csv")
    p.set_defaults(run=_run_formula)


def _run_formula(args) -> int:
    from minml.chemistry.formulas import formula

    output = _outputs(args, _default_output(args, "_formula.csv"))
    table = _read_input(args, output)
    result = formula(table, args.mineral, mineral_column=args.mineral_column, **_reading(args))
    prefixed = _write_beside_input(table, result, output, _bom(args), "formula_")
    done = int((result["mineral"] != "").sum())
    print(f"{done} of {len(result)} formulas computed" + (_prefixed_note("formula_") if prefixed else ""))
    for name, count in result.loc[result["mineral"] != "", "fe3_method"].value_counts().items():
        print(f"  iron: {name}: {_rows(count)}")
    why = result.loc[result["mineral"] == "", "flag"].str.split("; ").str[0].str.removeprefix("no formula: ")
    for reason, count in why.value_counts().head(10).items():  # the reason, without the reader's flags
        hint = _merged_cells_hint(table[args.mineral_column], args.mineral_column) if reason == "no label" else ""
        print(f"  no formula: {reason}: {_rows(count)}{hint}")
    print(f"wrote {output}")
    return 0


def _merged_cells_hint(labels, column: str) -> str:
    """A hint when a label column looks like Excel's merged cells (a label, then blanks below
    it, block after block: the first row labelled, at least two labels, a third of the rows or
    more blank): nothing is filled in for the user."""
    from minml.chemistry.labels import is_label

    given = labels.map(is_label).to_numpy(dtype=bool)
    if not given[:1].any() or given.sum() < 2 or (~given).sum() < len(given) / 3:
        return ""
    return (
        f" (one label per block of rows, as merged cells leave them? fill them down first: in Excel "
        f"select the column, Go To Special > Blanks, ='cell above'; in pandas df[{column!r}].ffill())"
    )


def _rows(count: int) -> str:
    """'1 row', '2 rows'."""
    return f"{count} row" + ("" if count == 1 else "s")


def _add_validate(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="find the phase labels of a table that its analyses contradict",
        description="Compare each row's published phase label with its analysis (calibrated network, "
        "conformal prediction sets, stoichiometric misfit). Writes every row with label_class, mineral, "
        "verdict (agree, disagree, uncertain, unknown_phase, bad_analysis, unmapped_label), misfits and a "
        "reason, most certain disagreements first.",
    )
    _add_table_arguments(p)
    p.add_argument("--label-column", default="Mineral", help="column with the published phase (default: Mineral)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="ranked table (CSV, XLSX or Parquet; default: INPUT_validated.csv)",
    )
    p.add_argument("--report", type=Path, default=None, help="also write a self-contained HTML report with figures")
    p.add_argument(
        "--coverage",
        type=_coverage,
        default=0.99,
        help="prediction-set coverage: a true label is disputed for ~1 - P of rows (default: 0.99)",
    )
    _add_total_range(p, "; rows outside are bad analyses")
    p.set_defaults(run=_run_validate)


def _run_validate(args) -> int:
    import pandas as pd

    from minml.chemistry.labels import is_label
    from minml.io import write_table
    from minml.validation.verdicts import label_summary, validate

    output = _outputs(args, _default_output(args, "_validated.csv"), args.report)
    table = _read_input(args, output)
    result = validate(
        table,
        args.label_column,
        coverage=args.coverage,
        total_range=tuple(args.total_range),
        progress=sys.stderr.isatty(),
        **_reading(args),
    )
    found = result.drop(columns=["label"]).add_prefix("validate_")
    found["validate_row"] = range(1, len(found) + 1)  # sorting by it gives back the input's order
    columns = _named_apart(table.columns, found.columns, "validate_")  # a table validated before
    rank = columns[list(found.columns).index("validate_rank")]
    ranked = pd.concat([table, found.set_axis(columns, axis=1)], axis=1).sort_values(rank, kind="stable")
    write_table(ranked, output, bom=_bom(args), progress=sys.stderr.isatty())
    counts = result["verdict"].value_counts()
    print(
        f"{len(result)} rows: "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        + (_prefixed_note("validate_") if columns != list(found.columns) else "")
    )
    unmapped = result.loc[result["verdict"] == "unmapped_label", "label"]
    given = unmapped[unmapped.map(is_label).astype(bool)]
    names = sorted(set(given.astype(str)))
    if names:
        print(f"labels not in labels.toml ({len(names)}): " + ", ".join(names[:20]))
    if len(given) < len(unmapped):
        print(
            f"{_rows(len(unmapped) - len(given))} without a label in {args.label_column!r}"
            + _merged_cells_hint(table[args.label_column], args.label_column)
        )
    summary = label_summary(result)
    print("\nper label (share of rows):")
    print(summary.head(20).to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"\nwrote {output} (most certain disagreements first; validate_row: the row's place in the input)")
    if args.report is not None:
        from minml.validation.report import write_report

        write_report(table, result, args.report, title=f"MIN-ML validation of {args.input.name}", **_reading(args))
        print(f"wrote {args.report}")
    return 0


def _add_map(sub) -> None:
    p = sub.add_parser(
        "map",
        help="classify a quantified EDS/WDS map pixel by pixel",
        description="Phase map, confidence map, modal bar chart, per-pixel table and modal abundances of a quantified "
        "map: a folder of per-element or per-oxide grids (CSV/TXT/TIFF/.hspy), a .npz, .npy (with --channels), .tif "
        "or HyperSpy .hspy/.zspy file, or a raw spectrum image (.bcf, .rpl, .msa) with --k-factors or --standards.",
    )
    p.add_argument("input", type=Path, help="map folder or file")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="folder for phase_map.png, confidence.png, modes.png, pixels.parquet and modes.csv",
    )
    p.add_argument("--channels", nargs="+", default=None, help="channel names of a .npy or multi-page TIFF, in order")
    p.add_argument(
        "--units", choices=["wt%", "at%"], default=None, help="units of element channels (default: the file's, or wt%%)"
    )
    p.add_argument(
        "--pixel-size",
        type=_map_option("--pixel-size", _map_check("pixel_size")),
        default=None,
        help="micrometres per pixel (for the scale bar)",
    )
    p.add_argument(
        "--min-total",
        type=_map_option("--min-total", _map_check("min_total")),
        default=80.0,
        help="pixels with a lower oxide sum are masked: epoxy, holes, cracks (default: 80)",
    )
    p.add_argument(
        "--max-total",
        type=_map_option("--max-total", _map_check("max_total")),
        default=110.0,
        help="pixels with a higher oxide sum are unknown: no analysis (default: 110)",
    )
    p.add_argument(
        "--clean",
        type=_map_option("--clean", _map_check("min_region"), int, off=0),
        default=0,
        metavar="N",
        help="replace mineral pixels with fewer than N like neighbours by the local majority (default: off)",
    )
    p.add_argument(
        "--beam-width",
        type=_map_option("--beam-width", _map_check("beam_width")),
        default=2.0,
        metavar="UM",
        help="micrometres over which the beam mixes neighbouring grains: sets the neighbourhood of mixed pixels "
        "(default: 2)",
    )
    p.add_argument(
        "--min-area",
        type=_map_option("--min-area", _map_check("min_area")),
        default=None,
        metavar="UM2",
        help="phases under this area (µm²) are listed apart, not drawn as phases (default: 10 pixels)",
    )
    p.add_argument("--index", default=None, help="map of an index of one phase: Fo, An, Mg_number, Wo, ...")
    p.add_argument("--index-phase", default=None, help="the phase of --index (default: the largest phase with it)")
    p.add_argument(
        "--profile", type=_map_profile, default=None, metavar="X0,Y0,X1,Y1", help="oxides and phase along a line"
    )
    p.add_argument("--k-factors", type=Path, default=None, help="CSV of element,k (relative to Si) for raw spectra")
    p.add_argument(
        "--standards", type=Path, default=None, help="CSV of standards (spectrum file, oxide wt%%) for raw spectra"
    )
    p.set_defaults(run=_run_map)


def _run_map(args) -> int:
    import minml.maps
    from minml.plot import require_matplotlib

    require_matplotlib()  # the pictures are figures: known before the map is classified
    _writable_folder(args.output)
    k_factors = args.k_factors
    if args.standards is not None:
        k_factors, notes = minml.maps.standards_k_factors(args.standards)
        print("k-factors from the standards: " + ", ".join(f"{e} {k:.3f}" for e, k in k_factors.items()))
        for note in notes:
            print(note)
    oxide_map = minml.maps.read_map(
        args.input,
        channels=args.channels,
        units=args.units,
        pixel_size=args.pixel_size,
        k_factors=k_factors,
        progress=sys.stderr.isatty(),
    )
    for note in oxide_map.notes:
        print(note)
    h, w = oxide_map.shape
    print(f"{h} x {w} pixels, species: {', '.join(oxide_map.data)}")
    result = minml.maps.classify_map(
        oxide_map,
        min_total=args.min_total,
        max_total=args.max_total,
        beam_width=args.beam_width,
        progress=sys.stderr.isatty() or h * w >= 1_000_000,  # off a terminal: a line now and then, large maps only
    )
    if args.clean:
        result = minml.maps.clean(result, min_region=args.clean)
    written = minml.maps.write_outputs(
        result,
        args.output,
        title=args.input.name,
        oxide_map=oxide_map,
        min_area=args.min_area,
        index=args.index,
        index_phase=args.index_phase,
        profile=args.profile,
    )
    modes = result.modes(min_area=args.min_area)
    shown = ["pixels", "area_percent", "mode_percent", "sd_percent", "sd_map_percent", "listed_apart"]
    print(modes[shown].to_string(float_format=lambda x: f"{x:.2f}"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _writable_folder(folder: Path) -> None:
    """Refuse, before any work, an output folder that is a file or cannot be made or written."""
    from minml.io import writable_path

    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is a file; -o names the folder the map's outputs go to.")
    existing = next(p for p in [folder, *folder.parents] if p.exists())
    writable_path(existing / "modes.csv")  # the folder itself, or the one it will be made in


def _add_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="retrain the shipped models",
        description="Train the shipped Bayesian network (classifier) and the autoencoder with its "
        "clusters (latent) on the shared training data.",
    )
    p.add_argument("--shared", type=Path, default=Path("../shared/data"), help="shared data folder")
    p.add_argument("--which", choices=("classifier", "latent", "all"), default="all", help="what to train")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="model file (default: the package's data/default-v1.npz or latent-v1.npz; "
        "only with --which classifier or latent)",
    )
    p.set_defaults(run=_run_train)


def _require_torch() -> None:
    """Refuse, before the training data are built, to train without PyTorch."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise ImportError('Training needs PyTorch: pip install "min-ml[train]" (here: pip install torch==2.13.0).')


def _run_train(args) -> int:
    from minml._resources import data_path
    from minml.classifier.predict import DEFAULT_MODEL
    from minml.unsupervised.latent import DEFAULT_LATENT_MODEL

    if args.output and args.which == "all":
        raise ValueError("--output names one model file; add --which classifier or --which latent.")
    _require_torch()
    progress = sys.stderr.isatty()
    if args.which in ("classifier", "all"):
        from minml.training.shipped import train_default

        output = args.output or Path(str(data_path(DEFAULT_MODEL)))
        meta = train_default(args.shared, output, progress=progress)
        print(
            f"classifier: trained on {meta['training_rows']} rows in {meta['train_seconds']} s; calibrated on "
            f"{meta['calibration']['folds']} folds in {meta['calibration_seconds']} s "
            f"(temperature {meta['calibration']['temperature']:.2f})"
        )
        print(f"wrote {output} and {output.with_suffix('.json')}")
    if args.which in ("latent", "all"):
        from minml.training.latent_fit import train_default_latent

        output = args.output or Path(str(data_path(DEFAULT_LATENT_MODEL)))
        meta = train_default_latent(args.shared, output, progress=progress)
        print(
            f"latent: autoencoder trained on {meta['training_rows']} rows in {meta['train_seconds']} s; "
            f"{meta['clusters']} clusters in {meta['cluster_seconds']} s ({meta['training_noise']:.1%} noise)"
        )
        print(f"wrote {output} and {output.with_suffix('.json')}")
    return 0


def _add_latent(sub) -> None:
    p = sub.add_parser(
        "latent",
        help="place analyses in the latent space and its clusters",
        description="Encode each analysis with the autoencoder and write the input's columns plus LV1, LV2, "
        "cluster (-1: noise), cluster_probability, cluster_mineral (the cluster's majority training label, "
        "for reporting), reconstruction_error (wt%%, RMS over the oxides), flag. No labels are used.",
    )
    _add_table_arguments(p)
    _add_output(p, "_latent.csv")
    _add_model_arguments(p, "a latent model .npz (default: the shipped one)")
    p.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="FILE",
        help="also draw the latent space (PNG and SVG beside it), e.g. latent.png",
    )
    p.add_argument(
        "--color-by",
        choices=("cluster", "cluster_mineral", "mineral", "probability", "reconstruction_error"),
        default="cluster",
        help="what colours the plot; mineral and probability run the classifier (default: cluster)",
    )
    p.add_argument(
        "--plot-reconstruction",
        type=Path,
        default=None,
        metavar="FILE",
        help="also draw rebuilt against measured oxides (PNG and SVG), e.g. reconstruction.png",
    )
    p.set_defaults(run=_run_latent)


def _run_latent(args) -> int:
    from minml.unsupervised.latent import LatentModel, latent

    output = _outputs(
        args, _default_output(args, "_latent.csv"), *_figure_files(args.plot), *_figure_files(args.plot_reconstruction)
    )
    table = _read_input(args, output)
    model = LatentModel.load(args.model) if args.model else None
    result = latent(table, model, fill_missing=args.fill_missing, progress=sys.stderr.isatty(), **_reading(args))
    prefixed = _write_beside_input(table, result, output, _bom(args), "latent_")
    counts = result["cluster_mineral"].astype(str).replace("", "noise").value_counts()
    found = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(
        f"{len(result)} {'analysis' if len(result) == 1 else 'analyses'} placed: {found}"
        + (_prefixed_note("latent_") if prefixed else "")
    )
    written = [output]
    if args.plot:
        from minml.plot import latent_space, save_figure

        shown = result
        if args.color_by in ("mineral", "probability"):
            from minml.classifier.predict import classify

            shown = result.assign(
                **classify(table, fill_missing=args.fill_missing, **_reading(args))[["mineral", "probability"]]
            )
        written += save_figure(latent_space(shown, args.color_by, model=model), args.plot)
    if args.plot_reconstruction:
        from minml.plot import reconstruction, save_figure
        from minml.unsupervised.latent import reconstruct

        rebuilt = reconstruct(table, model, fill_missing=args.fill_missing, **_reading(args))
        written += save_figure(reconstruction(table, rebuilt, **_reading(args))[0], args.plot_reconstruction)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _figure_files(path: Path | None) -> list[Path]:
    """The files :func:`minml.plot.save_figure` writes for ``path`` (PNG and SVG)."""
    return [] if path is None else [path.with_suffix(".png"), path.with_suffix(".svg")]


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="cross-validate and test the shipped model; write its model card",
        description="Nested and source-grouped cross-validation, GDA baseline, LEPR, glass; writes the model card.",
    )
    p.add_argument("--shared", type=Path, default=Path("../shared/data"), help="shared data folder")
    p.add_argument("--model", type=Path, default=None, help="model .npz (default: the shipped model)")
    p.add_argument(
        "--latent-model", type=Path, default=None, help="latent model .npz (default: the shipped latent-v1.npz)"
    )
    p.add_argument("--card", type=Path, default=Path("docs/model_card.md"), help="model card to write")
    p.add_argument("--quick", action="store_true", help="a fast smoke run (fewer folds and epochs)")
    p.set_defaults(run=_run_evaluate)


def _run_evaluate(args) -> int:
    from minml._resources import data_path
    from minml.classifier.predict import DEFAULT_MODEL
    from minml.training.shipped import evaluate_model, write_model_card

    _require_torch()  # cross-validation trains networks
    model = args.model or Path(str(data_path(DEFAULT_MODEL)))
    results = evaluate_model(
        args.shared, model, latent_path=args.latent_model, quick=args.quick, progress=sys.stderr.isatty()
    )
    path = write_model_card(results, args.card)
    nested, lepr = results["nested"], results["lepr"]
    print(
        f"nested CV macro-F1 {nested['macro_f1'][0]:.4f} ± {nested['macro_f1'][1]:.4f}; "
        f"grouped CV accuracy {results['grouped']['accuracy']:.4f}; LEPR accuracy {lepr['accuracy']:.4f}"
    )
    print(f"wrote {path}")
    return 0


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
            status = args.run(args)
            sys.stdout.flush()  # a reader that left is met here, not at exit, however stdout is buffered
            return status
        except (FileNotFoundError, ValueError, KeyError, ImportError) as error:  # ImportError: a missing extra
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            print(f"minml {args.command}: error: {message}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `minml validate ... | head`: the reader left; no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor one at exit, flushing
            return 141  # as a shell reports a process ended by SIGPIPE


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
