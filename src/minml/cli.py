"""The ``minml`` command.  The only module that prints."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import warnings
from pathlib import Path

from minml import DEFAULT_TOTAL_RANGE, __version__
from minml.pipelines import check_file, check_option, classify_file, formula_file, latent_file, validate_file

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


def _sheet(value: str):
    return int(value) if value.lstrip("-").isdigit() else value


def _run_job(args) -> int:
    """Run the command's pipeline (``args.job``, from :mod:`minml.pipelines`) on INPUT with the
    options named as its keywords, and print its summary."""
    import inspect

    keywords = inspect.signature(args.job).parameters
    options = {name: value for name, value in vars(args).items() if name in keywords and name not in ("src", "dst")}
    if "total_range" in options:
        options["total_range"] = tuple(options["total_range"])
    options["progress"] = sys.stderr.isatty()
    summary = args.job(args.input, args.output, **options)
    for line in summary.lines():
        print(line)
    return 0


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
}
"""The library's keyword names and the command's options for them: the one place where
messages written for Python callers are put in the command's words."""

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
        if value and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        return flag if value in (None, "True") else f"{flag} {shlex.quote(value)}"

    message = _SAID_FOR_THE_COMMAND.sub("", message)
    message = _KEYWORD.sub(option, message)
    return _BARE.sub(lambda match: _FLAGS[match.group(1)], message)


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
    p.set_defaults(run=_run_job, job=check_file)


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
        required=True,
        help="folder of per-mineral .xlsx files, one per class of minerals.toml (the team's: ../shared/data/training)",
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
    p.add_argument(
        "--by-mineral",
        type=_workbook,
        default=None,
        metavar="FILE.xlsx",
        help="also write one sheet per mineral with Thermobar's column names (SiO2_Cpx, FeOt_Amp, ...) and the "
        "rows the model is unsure of (prediction set at --coverage, default 0.95) on a sheet of their own",
    )
    p.add_argument(
        "--species",
        action="store_true",
        help="add species (augite, forsterite (Fo88), ...; for unknown rows a phase outside the classes, such as "
        "nepheline, named from its formula), species_basis and species_misfit",
    )
    p.set_defaults(run=_run_job, job=classify_file)


def _workbook(text: str) -> Path:
    """``--by-mineral``: an .xlsx file in an existing folder, checked before any work."""
    path = Path(text)
    if path.suffix.lower() != ".xlsx" or not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"name an .xlsx file in an existing folder, got {text!r}")
    return path


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
    p.set_defaults(run=_run_job, job=formula_file)


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
    p.add_argument(
        "--species",
        action="store_true",
        help="add species and species_verdict: labels that name a species (augite, nepheline) against the species "
        "named from the formula",
    )
    p.set_defaults(run=_run_job, job=validate_file)


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
    p.add_argument(
        "--shared",
        type=Path,
        required=True,
        help="data folder holding training/ (one .xlsx per class) and test/ (glasses_df.csv, LEPR); "
        "the team's: ../shared/data",
    )
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
    p.set_defaults(run=_run_job, job=latent_file)


def _add_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="cross-validate and test the shipped model; write its model card",
        description="Nested and source-grouped cross-validation, GDA baseline, LEPR, glass; writes the model card.",
    )
    p.add_argument(
        "--shared",
        type=Path,
        required=True,
        help="data folder holding training/ (one .xlsx per class) and test/ (glasses_df.csv, LEPR); "
        "the team's: ../shared/data",
    )
    p.add_argument("--model", type=Path, default=None, help="model .npz (default: the shipped model)")
    p.add_argument(
        "--latent-model", type=Path, default=None, help="latent model .npz (default: the shipped latent-v1.npz)"
    )
    p.add_argument(
        "--card",
        type=Path,
        required=True,
        help="model card to write, e.g. docs/model_card.md (its data go beside it as .json, with lepr_unsettled.csv)",
    )
    p.add_argument("--quick", action="store_true", help="a fast smoke run (fewer folds and epochs)")
    p.set_defaults(run=_run_evaluate)


def _run_evaluate(args) -> int:
    from minml._resources import data_path
    from minml.classifier.predict import DEFAULT_MODEL
    from minml.training.card import write_model_card
    from minml.training.shipped import evaluate_model

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
    _add_app(sub)
    return parser


def _add_app(sub) -> None:
    p = sub.add_parser(
        "app",
        help="open the web app (upload, classify, validate, look, download)",
        description='Serve the MIN-ML web app (needs the app extra: pip install "min-ml[app]") and print its '
        "address; open it in a browser. Stop it with Ctrl-C.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this computer only)")
    p.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    p.add_argument("--max-upload-mb", type=int, default=200, help="largest upload accepted, in MB (default: 200)")
    p.set_defaults(run=_run_app)


def _run_app(args) -> int:
    from minml.app import free_port, launch, streamlit_options

    port = args.port or free_port(args.host)
    streamlit_options(args.host, port, args.max_upload_mb)  # refuses a bad limit before anything starts
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"MIN-ML app: open http://{shown}:{port} in a browser (Ctrl-C stops it)", flush=True)
    return launch(args.host, port, args.max_upload_mb)


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
