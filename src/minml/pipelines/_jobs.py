"""``validate_file``, ``formula_file``, ``latent_file``, ``check_file``: a file in, the
results written beside the input's columns, a summary back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minml.pipelines._files import (
    Source,
    analyses,
    merged_cells_hint,
    prefixed_note,
    prepare_outputs,
    rows,
    write_beside,
)
from minml.tables.checks import DEFAULT_TOTAL_RANGE

__all__ = [
    "CheckSummary",
    "FormulaSummary",
    "LatentSummary",
    "ValidateSummary",
    "check_file",
    "formula_file",
    "latent_file",
    "ranked_table",
    "say_absent",
    "validate_file",
]


@dataclass
class ValidateSummary:
    """What :func:`validate_file` did: ``verdicts`` (rows per verdict, in the order of
    :data:`minml.validation.verdicts.VERDICTS` by count), the labels not in labels.toml,
    the rows without a label (and a hint when the column looks like merged cells), the
    per-label table, and the files written."""

    rows: int
    verdicts: list = field(default_factory=list)
    unmapped_labels: list = field(default_factory=list)
    unlabelled: int = 0
    unlabelled_hint: str = ""
    label_column: str = "Mineral"
    per_label: Any = None
    output: Path | None = None
    report: Path | None = None
    prefixed: bool = False

    def lines(self) -> list[str]:
        """The summary as the ``minml validate`` command prints it."""
        out = [
            f"{self.rows} rows: "
            + ", ".join(f"{k} {v}" for k, v in self.verdicts if v)
            + (prefixed_note("validate_") if self.prefixed else "")
        ]
        names = self.unmapped_labels
        if names:
            out.append(f"labels not in labels.toml ({len(names)}): " + ", ".join(names[:20]))
        if self.unlabelled:
            out.append(f"{rows(self.unlabelled)} without a label in {self.label_column!r}{self.unlabelled_hint}")
        out += ["\nper label (share of rows):", self.per_label.head(20).to_string(float_format=lambda x: f"{x:.3f}")]
        out.append(
            f"\nwrote {self.output} (most certain disagreements first; validate_row: the row's place in the input)"
        )
        if self.report is not None:
            out.append(f"wrote {self.report}")
        return out


def validate_file(
    src,
    dst=None,
    *,
    label_column: str = "Mineral",
    report=None,
    sheet=None,
    header_row: int | None = None,
    encoding: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
    model=None,
    coverage: float = 0.99,
    fill_missing: float | None = None,
    total_range: tuple[float, float] = DEFAULT_TOTAL_RANGE,
    species: bool = False,
    progress: bool = False,
) -> ValidateSummary:
    """Validate the labels of a file (:func:`minml.validate`) and write every row with its
    verdict, most certain disagreements first (``validate_row``: the row's place in the
    input); with ``report``, also a self-contained HTML report.

    Parameters
    ----------
    src, dst, sheet, header_row, encoding, suffix, elements, total_range, progress
        As :func:`classify_file` (``dst`` default: INPUT_validated.csv).
    label_column, model, coverage, fill_missing, species
        See :func:`minml.validate`.
    report : path-like, optional
        HTML report to write (needs matplotlib): a name ending in ``.html`` or ``.htm``;
        another (``.pdf``) is refused before any work.
    """
    from minml.chemistry.labels import is_label, require_label_column
    from minml.tables.checks import check_oxides
    from minml.validation.verdicts import label_summary, validate

    source = Source(src, sheet=sheet, header_row=header_row, encoding=encoding)
    output = source.default_output(dst, "_validated.csv")
    report = None if report is None else Path(report)
    prepare_outputs(source, output, report)
    if report is not None:
        _check_html(report)
    table = source.read(output)
    require_label_column(table, label_column, "label_column")
    checked = check_oxides(table, suffix=suffix, elements=elements, total_range=total_range, notes=False)
    result = validate(
        checked,
        label_column,
        model=model,
        coverage=coverage,
        fill_missing=fill_missing,
        species=species,
        progress=progress,
    )
    prefixed = _write_ranked(table, result, output, source, progress)
    unmapped = result.loc[result["verdict"] == "unmapped_label", "label"]
    given = unmapped[unmapped.map(is_label).astype(bool)]
    summary = ValidateSummary(
        rows=len(result),
        verdicts=list(result["verdict"].value_counts().items()),
        unmapped_labels=sorted(set(given.astype(str))),
        unlabelled=len(unmapped) - len(given),
        label_column=label_column,
        per_label=label_summary(result),
        output=output,
        prefixed=prefixed,
    )
    if summary.unlabelled:
        summary.unlabelled_hint = merged_cells_hint(table[label_column], label_column)
    if report is not None:
        from minml.validation.report import write_report

        summary.report = write_report(checked, result, report, title=f"MIN-ML validation of {source.path.name}")
    return summary


def _check_html(path: Path) -> None:
    """Refuse, before any work, a ``report`` path that does not end in .html or .htm: the
    report is a self-contained HTML page, whatever the name says."""
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(
            f"report={str(path)!r}: the report is a self-contained HTML page (open it in a browser, print it "
            f"from there for a PDF), not {path.suffix or 'a file without extension'}; name it "
            f"{str(path.with_suffix('.html'))!r}."
        )


def ranked_table(table, result):
    """``table`` with the verdicts of :func:`minml.validate` (``result``) beside it, as
    ``minml validate`` writes them: ``validate_`` columns (named apart again where the table
    has those names: a table validated before), ``validate_row`` the row's place in the input
    (from 1), most certain disagreements first, whatever the label column is called.

    Returns
    -------
    ranked : pandas.DataFrame
    prefixed : bool
        Whether the new columns had to be named apart from the table's own.

    Raises
    ------
    ValueError
        When the names apart are taken too.
    """
    import pandas as pd

    from minml.pipelines._files import named_apart

    found = result.drop(columns=["label"]).add_prefix("validate_")
    found["validate_row"] = range(1, len(found) + 1)  # sorting by it gives back the input's order
    columns = named_apart(table.columns, found.columns, "validate_")  # a table validated before
    rank = columns[list(found.columns).index("validate_rank")]
    ranked = pd.concat([table, found.set_axis(columns, axis=1)], axis=1).sort_values(rank, kind="stable")
    return ranked, columns != list(found.columns)


def _write_ranked(table, result, output: Path, source: Source, progress: bool) -> bool:
    """Write :func:`ranked_table` of ``table`` and ``result``; whether its columns were named apart."""
    from minml.io import write_table

    ranked, prefixed = ranked_table(table, result)
    write_table(ranked, output, bom=source.bom, progress=progress)
    return prefixed


@dataclass
class FormulaSummary:
    """What :func:`formula_file` did: formulas computed, those far from their class's
    end-members, rows per way of finding Fe3+, rows per reason for no formula (the ten most
    frequent, with a hint for merged label cells)."""

    rows: int
    computed: int = 0
    far: int = 0
    iron: list = field(default_factory=list)
    no_formula: list = field(default_factory=list)
    output: Path | None = None
    prefixed: bool = False

    def lines(self) -> list[str]:
        """The summary as the ``minml formula`` command prints it."""
        out = [
            f"{self.computed} of {self.rows} formulas computed" + (prefixed_note("formula_") if self.prefixed else "")
        ]
        if self.far:
            out.append(f"  far from their class's end-members (misfit above misfit_limit; see flag): {rows(self.far)}")
        out += [f"  iron: {name}: {rows(count)}" for name, count in self.iron]
        out += [f"  no formula: {reason}: {rows(count)}{hint}" for reason, count, hint in self.no_formula]
        return [*out, f"wrote {self.output}"]


def formula_file(
    src,
    dst=None,
    *,
    mineral: str | None = None,
    mineral_column: str | None = None,
    sheet=None,
    header_row: int | None = None,
    encoding: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
    progress: bool = False,
) -> FormulaSummary:
    """Mineral formulas of every row of a file (:func:`minml.formula`), written beside the
    input's columns (``dst`` default: INPUT_formula.csv).

    Parameters
    ----------
    mineral, mineral_column
        See :func:`minml.formula`.
    src, dst, sheet, header_row, encoding, suffix, elements, progress
        As :func:`classify_file`.
    """
    import pandas as pd

    from minml.chemistry.formulas import formula_rows

    source = Source(src, sheet=sheet, header_row=header_row, encoding=encoding)
    output = source.default_output(dst, "_formula.csv")
    prepare_outputs(source, output)
    table = source.read(output)
    result, cause = formula_rows(table, mineral, mineral_column=mineral_column, suffix=suffix, elements=elements)
    prefixed = write_beside(table, result, output, bom=source.bom, prefix="formula_", progress=progress)
    done = (result["mineral"] != "").to_numpy()
    iron = result.loc[done, "fe3_method"].value_counts() if "fe3_method" in result else pd.Series(dtype=int)
    why = pd.Series(cause[~done], dtype=object).value_counts().head(10)  # the reason, without the reader's flags
    return FormulaSummary(
        rows=len(result),
        computed=int(done.sum()),
        far=int((result["misfit"] > result["misfit_limit"]).sum()),
        iron=[(str(name), int(count)) for name, count in iron.items()],
        no_formula=[
            (
                reason,
                int(count),
                merged_cells_hint(table[mineral_column], str(mineral_column)) if reason == "no label" else "",
            )
            for reason, count in why.items()
        ],
        output=output,
        prefixed=prefixed,
    )


@dataclass
class LatentSummary:
    """What :func:`latent_file` did: rows placed, rows per cluster's mineral (``noise``
    for none), the files written."""

    rows: int
    clusters: list = field(default_factory=list)
    written: list = field(default_factory=list)
    prefixed: bool = False

    def lines(self) -> list[str]:
        """The summary as the ``minml latent`` command prints it."""
        found = ", ".join(f"{k} {v}" for k, v in self.clusters)
        return [
            f"{analyses(self.rows)} placed: {found}" + (prefixed_note("latent_") if self.prefixed else ""),
            "wrote " + ", ".join(str(p) for p in self.written),
        ]


def figure_files(path, keyword: str = "plot") -> list[Path]:
    """The files :func:`minml.plot.save_figure` writes for ``path``: PNG and SVG, side by side.

    A path ending in another extension (``.jpg``, ``.pdf``) is refused, before any work: the
    figure would not be written in the format its name asks for.  ``keyword`` is the option
    that gave ``path``, for the message."""
    if path is None:
        return []
    path = Path(path)
    if path.suffix.lower() not in ("", ".png", ".svg"):
        raise ValueError(
            f"{keyword}={str(path)!r}: figures are written as PNG and SVG (both, side by side), not as "
            f"{path.suffix}; name the file {str(path.with_suffix('.png'))!r} ({path.with_suffix('.svg').name} "
            "is written beside it)."
        )
    return [path.with_suffix(".png"), path.with_suffix(".svg")]


def latent_file(
    src,
    dst=None,
    *,
    plot=None,
    color_by: str = "cluster",
    plot_reconstruction=None,
    model=None,
    fill_missing: float | None = None,
    sheet=None,
    header_row: int | None = None,
    encoding: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
    progress: bool = False,
) -> LatentSummary:
    """Place every analysis of a file in the latent space (:func:`minml.latent`), written
    beside the input's columns (``dst`` default: INPUT_latent.csv); the table is checked once
    for the placing, the figures and the classifier a ``color_by`` of ``mineral`` or
    ``probability`` runs.

    Parameters
    ----------
    plot : path-like, optional
        Also draw the latent space, coloured by ``color_by``: ``plot`` as PNG and as SVG
        (``latent.png`` and ``latent.svg`` for ``"latent.png"``); a name ending in another
        extension (``.jpg``, ``.pdf``) is refused before any work.
    plot_reconstruction : path-like, optional
        Also draw rebuilt against measured oxides (PNG and SVG, as ``plot``).
    model, fill_missing
        See :func:`minml.latent` (``model``: a LatentModel or the path of one).
    src, dst, sheet, header_row, encoding, suffix, elements, progress
        As :func:`classify_file`.
    """
    from minml.tables.checks import check_oxides
    from minml.unsupervised.latent import LatentModel, latent

    source = Source(src, sheet=sheet, header_row=header_row, encoding=encoding)
    output = source.default_output(dst, "_latent.csv")
    figures = [*figure_files(plot), *figure_files(plot_reconstruction, "plot_reconstruction")]
    prepare_outputs(source, output, *figures)
    table = source.read(output)
    if model is not None and not isinstance(model, LatentModel):
        model = LatentModel.load(model)
    checked = check_oxides(table, suffix=suffix, elements=elements, notes=False)
    result = latent(checked, model, fill_missing=fill_missing, progress=progress)
    prefixed = write_beside(table, result, output, bom=source.bom, prefix="latent_", progress=progress)
    counts = result["cluster_mineral"].astype(str).replace("", "noise").value_counts()
    written = [output]
    if plot is not None:
        from minml.plot import latent_space, save_figure

        shown = result
        if color_by in ("mineral", "probability"):
            from minml.classifier.predict import classify

            shown = result.assign(**classify(checked, fill_missing=fill_missing)[["mineral", "probability"]])
        written += save_figure(latent_space(shown, color_by, model=model), plot)
    if plot_reconstruction is not None:
        from minml.plot import reconstruction, save_figure
        from minml.unsupervised.latent import reconstruct

        rebuilt = reconstruct(checked, model, fill_missing=fill_missing)
        written += save_figure(reconstruction(checked, rebuilt)[0], plot_reconstruction)
    return LatentSummary(
        rows=len(result), clusters=[(str(k), int(v)) for k, v in counts.items()], written=written, prefixed=prefixed
    )


@dataclass
class CheckSummary:
    """What :func:`check_file` found: the check's account (:meth:`minml.OxideCheck.summary`),
    the instrument export the file was read as (``layout``, in words: one of
    :data:`minml.io.instruments.INSTRUMENTS`; None for a plain table) and the file written, if any."""

    source: Path
    text: str
    output: Path | None = None
    prefixed: bool = False
    layout: str | None = None

    def lines(self) -> list[str]:
        """The summary as the ``minml check`` command prints it."""
        said = [] if self.layout is None else [f"read as {self.layout}"]
        out = [f"{self.source}", *said, self.text]
        if self.output is not None:
            out.append(f"\nwrote {self.output}" + (prefixed_note("check_") if self.prefixed else ""))
        return out


def read_as(table) -> str | None:
    """What instrument export :func:`minml.read_table` read a table as, in the words ``minml
    check`` and the web app say it; None for a plain table.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`minml.read_table` returns it (``attrs["minml_instrument"]``).
    """
    layout = table.attrs.get("minml_instrument")
    if layout is None:
        return None
    values = " of element wt% (with the oxygen of their oxides)" if table.attrs.get("minml_elements") else ""
    return f"an export of {layout}{values}; its statistics rows, if any, left out"


def say_absent(checked, fill_missing: float | None = None) -> None:
    """Name in ``checked.absent`` (in place) the model oxides the table has no column for, with
    what ``classify`` will make of each: the words of ``minml check``'s summary (``(no column)
    -> P2O5``), which the web app shows too.

    Parameters
    ----------
    checked : OxideCheck
    fill_missing : float, optional
        The amount (wt%) classify is to read an absent oxide as, where asked.
    """
    from minml.classifier.features import MINIMUM_OXIDES, _misspelt, missing_columns

    absent = missing_columns(checked)
    renames = {oxide: column for column, oxide in _misspelt(checked, absent).items()}

    def said(name: str) -> str:
        if name in renames:  # a column spells it otherwise (Na20): refused until renamed, fill or not
            return f"no column: classify refuses until {renames[name]!r} is renamed {name}"
        if fill_missing is not None:
            return f"no column: classify reads it as {fill_missing:g} wt%"
        return (
            "no column: classify needs it" if name in MINIMUM_OXIDES else "no column: classify reads it as not analysed"
        )

    checked.absent = {name: said(name) for name in absent}


def check_file(
    src,
    dst=None,
    *,
    sheet=None,
    header_row: int | None = None,
    encoding: str | None = None,
    suffix: str | None = None,
    elements: bool = False,
    total_range: tuple[float, float] = DEFAULT_TOTAL_RANGE,
    progress: bool = False,
) -> CheckSummary:
    """What the reader understands of a file (:func:`minml.check_oxides`); with ``dst``, the
    input's columns kept as they were, then the canonical oxides and the per-row flags
    written (nothing is written without it).

    Parameters
    ----------
    src, sheet, header_row, encoding, suffix, elements, total_range, progress
        As :func:`classify_file`.
    dst : path-like, optional
    """
    import pandas as pd

    from minml.tables.checks import check_oxides

    source = Source(src, sheet=sheet, header_row=header_row, encoding=encoding)
    output = None if dst is None else Path(dst)
    prepare_outputs(source, output)
    table = source.read(output)
    checked = check_oxides(table, total_range=total_range, suffix=suffix, elements=elements)
    say_absent(checked)
    summary = CheckSummary(source=source.path, text=checked.summary(), output=output, layout=read_as(table))
    if output is not None:
        both = pd.concat([checked.oxides, checked.flags], axis=1)
        summary.prefixed = write_beside(checked.other, both, output, bom=source.bom, prefix="check_", progress=progress)
    return summary
