"""The commands that read a table: classify, validate, formula, latent, check."""

from __future__ import annotations

import argparse
from pathlib import Path

import minml.pipelines as jobs  # each job's module imported when its command's parser is built
from minml.cli._options import (
    _add_model_arguments,
    _add_output,
    _add_table_arguments,
    _add_total_range,
    _coverage,
    _output,
    _run_job,
    names_folder,
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
        type=_output,
        default=None,
        help="write the canonical oxides and per-row flags (CSV, XLSX or Parquet, by extension)",
    )
    p.set_defaults(run=_run_job, job=jobs.check_file)


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
    _add_scheduler(p)
    p.set_defaults(run=_run_one_or_many, job=jobs.classify_file)


def _workbook(text: str) -> Path:
    """``--by-mineral``: an .xlsx file in an existing folder, checked before any work."""
    path = Path(text)
    if path.suffix.lower() != ".xlsx" or not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"name an .xlsx file in an existing folder, got {text!r}")
    return path


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
    p.set_defaults(run=_run_job, job=jobs.formula_file)


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
        type=_output,
        default=None,
        help="ranked table (CSV, XLSX or Parquet; default: INPUT_validated.csv); a folder ending in '/' for "
        "partitioned Parquet (see --scheduler)",
    )
    p.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FILE.html",
        help="also write a self-contained HTML report with figures (FILE ends in .html or .htm)",
    )
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
    _add_scheduler(p)
    p.set_defaults(run=_run_one_or_many, job=jobs.validate_file)


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
        help="also draw the latent space, written as PNG and SVG side by side: FILE ends in .png or .svg, e.g. "
        "latent.png (latent.svg beside it); other formats (.jpg, .pdf) are refused",
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
        help="also draw rebuilt against measured oxides (PNG and SVG side by side, as --plot), e.g. reconstruction.png",
    )
    p.set_defaults(run=_run_job, job=jobs.latent_file)


def _add_scheduler(p) -> None:
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on this Dask cluster (tcp://host:8786); with it, or with a folder or glob as INPUT, or -o ending "
        "in '/', the files are read in pieces and written as partitioned Parquet in the folder -o (dask extra)",
    )


def _many(args) -> bool:
    """Whether the command runs on Dask over files in pieces: a folder or glob as INPUT, an
    output folder (``-o DIR/``) or a scheduler."""
    text = str(args.input)
    return (
        args.scheduler is not None or args.input.is_dir() or any(c in text for c in "*?[") or names_folder(args.output)
    )


def _check_new_folder(folder: Path) -> None:
    """Refuse, before a cluster starts, an output folder that holds something already: the
    parts of a run are never mixed with other files, nor written over an earlier run's."""
    try:
        taken = folder.exists() and (not folder.is_dir() or any(folder.iterdir()))
    except OSError:  # a name too long: the library says so, naming the folder, before any work
        return
    if taken:
        what = "a folder that is not empty" if folder.is_dir() else "a file"
        raise ValueError(
            f"-o {str(folder)!r} is {what}: remove it, or give -o a new folder for the parts (e.g. {folder.name}-2/)."
        )


def _run_one_or_many(args) -> int:
    """One file through its pipeline, or many (or one past memory) through Dask."""
    if not _many(args):
        return _run_job(args)
    if args.output is None:
        raise ValueError("Name the output folder for the Parquet parts with -o DIR/.")
    given = [
        option
        for option, value in (
            ("--species", getattr(args, "species", False)),
            ("--by-mineral", getattr(args, "by_mineral", None)),
            ("--report", getattr(args, "report", None)),
            ("--sheet", args.sheet),
            ("--header-row", args.header_row),
            ("--encoding", args.encoding),
        )
        if value
    ]
    if given:
        raise ValueError(
            f"{', '.join(given)} cannot be used with a folder, a glob, -o DIR/ or --scheduler (files read in pieces on "
            "Dask); run the command on one file for them."
        )
    _check_new_folder(Path(args.output))
    import minml
    from minml import NoScheduler

    reading = {"suffix": args.suffix, "elements": args.elements, "total_range": tuple(args.total_range)}
    options = {"scheduler": args.scheduler, "model": getattr(args, "model", None), **reading}
    options["fill_missing"] = getattr(args, "fill_missing", None)
    try:
        if args.command == "classify":
            done = minml.classify_files(str(args.input), args.output, coverage=args.coverage, **options)
            what = "analyses classified"
        else:
            done = minml.validate_files(
                str(args.input), args.output, label_column=args.label_column, coverage=args.coverage, **options
            )
            what = "rows validated"
    except NoScheduler as error:  # one line, in the command's words, nothing written
        raise ValueError(
            f"no Dask scheduler answers at {error.address} ({error.why('DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT')}): "
            "start one (dask scheduler) or leave --scheduler out to run on a local cluster"
        ) from None
    counts = ", ".join(f"{name} {count}" for name, count in sorted(done.counts.items(), key=lambda kv: -kv[1]))
    print(f"{done.rows} {what}" + (f": {counts}" if counts else ""))
    if done.summary is not None:
        print(done.summary.head(20).to_string())
    print(f"wrote {done.out_dir} ({len(done.parts)} parts)")
    return 0
