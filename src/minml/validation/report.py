"""A self-contained HTML report of a validation: tables, and figures embedded as PNG.

Made by ``minml validate --report report.html`` (needs the ``plot`` extra).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from minml.validation.verdicts import label_summary

__all__ = ["write_report"]

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f3f3f3}img{max-width:100%}.note{color:#555;font-size:13px}"""


_NONE = "<p class='note'>No row to show: none has both a label of a class and a mineral (see the verdicts above).</p>"


_ROW_NOTE = (
    "<p class='note'>validate_row: the row's place in the input, counted from 1 (the first row of analyses, "
    "below the column names, is 1), as in the validate_row column that minml validate writes.</p>"
)


_DISPUTED_COLUMNS = ("label", "mineral", "probability", "label_probability", "species", "species_verdict", "reason")
"""The columns of the table of disagreements; the species ones where validate named them."""


def _png(ax) -> str:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=110)
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _mol(oxides: pd.DataFrame, names) -> dict:
    """Moles of cations of CaO, MgO, FeOt, Na2O, K2O per 100 g (for Wo-En-Fs, An-Ab-Or) of
    checked ``oxides``."""
    from minml.chemistry.oxides import species_table

    table = species_table()
    return {
        name: np.nan_to_num(oxides[name].to_numpy(float))
        / table["FeO" if name == "FeOt" else name].molar_mass
        * (2 if name in ("Na2O", "K2O") else 1)
        for name in names
    }


def write_report(
    table: pd.DataFrame,
    validated: pd.DataFrame,
    path,
    *,
    title="MIN-ML validation",
    disputed_rows: int = 50,
    **check_options,
) -> Path:
    """Write the HTML report of :func:`minml.validate` output ``validated`` for ``table``.

    Parameters
    ----------
    table : pandas.DataFrame or OxideCheck
        The validated analyses, as read or as checked already (:func:`minml.check_oxides`).
    validated : pandas.DataFrame
        ``validate(table, ...)``.
    path : path-like
    title : str
    disputed_rows : int, default=50
        Disagreements listed with their reasons, each by its ``validate_row``: its place in
        ``table`` counted from 1, as ``minml validate`` numbers the rows it writes.
    **check_options
        How ``table`` was read by :func:`minml.validate` (``suffix``): see
        :func:`minml.check_oxides` (none for a checked table).
    """
    from minml.plot import confusion_matrix, probability_histogram
    from minml.tables.checks import OxideCheck, check_oxides

    checked = table if isinstance(table, OxideCheck) else check_oxides(table, total_range=None, **check_options)

    path = Path(path)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    counts = validated["verdict"].value_counts()
    parts.append("<h2>Verdicts</h2>" + counts.to_frame("rows").to_html())
    parts.append(
        "<p class='note'>disagree: the label's class is outside the calibrated prediction set; "
        "uncertain: inside it but not the top class, or the second class of an overlap composition "
        "cannot decide; unknown_phase: none of the classes; "
        "bad_analysis: no analysis or a bad one; unmapped_label: spelling not in labels.toml.</p>"
    )
    parts.append("<h2>Per label</h2>" + label_summary(validated).to_html(float_format=lambda x: f"{x:.3f}"))
    named = validated["label_class"].ne("") & validated["mineral"].ne("unknown")
    parts.append("<h2>Published label vs MIN-ML</h2>")
    parts.append(
        _png(confusion_matrix(validated.loc[named, "label_class"], validated.loc[named, "mineral"]))
        if named.any()
        else _NONE
    )
    parts.append("<h2>Probability of the published label</h2>")
    judged = validated["verdict"].isin(["agree", "disagree", "uncertain"])
    parts.append(
        _png(
            probability_histogram(
                validated.loc[judged, "label_probability"], validated.loc[judged, "verdict"].astype(str)
            )
        )
        if judged.any()
        else _NONE
    )
    parts += _disputed_figures(validated, checked.oxides)
    parts.append(_disagreements(validated, disputed_rows))
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _disagreements(validated: pd.DataFrame, rows: int) -> str:
    """The table of the ``rows`` most certain disagreements, each named by its ``validate_row``:
    its place in the input counted from 1, as ``minml validate`` numbers the rows it writes
    (whatever the table's index)."""
    numbered = validated.assign(validate_row=np.arange(1, len(validated) + 1))
    top = numbered[numbered["verdict"] == "disagree"].sort_values("rank", kind="stable").head(rows)
    shown = top[["validate_row", *(c for c in _DISPUTED_COLUMNS if c in top.columns)]]
    return (
        f"<h2>The {len(top)} most certain disagreements</h2>"
        + _ROW_NOTE
        + shown.to_html(index=False, float_format=lambda x: f"{x:.3g}")
    )


def _disputed_figures(validated: pd.DataFrame, oxides: pd.DataFrame) -> list[str]:
    """The pyroxene quadrilateral and the feldspar ternary of the disputed rows (label or
    answer a pyroxene, a feldspar), from the checked ``oxides``."""
    from minml.chemistry.labels import match_labels
    from minml.plot import feldspar_ternary, pyroxene_quadrilateral

    parts = []
    disputed = validated["verdict"].isin(["disagree", "uncertain"])
    label_classes = match_labels(validated["label"])["label_classes"]  # tuples, not the written text
    involves = lambda names: (  # noqa: E731
        disputed & (label_classes.map(lambda found: bool(set(found) & set(names))) | validated["mineral"].isin(names))
    )
    pyroxene = involves(["clinopyroxene", "orthopyroxene"])
    if pyroxene.any():
        mol = _mol(oxides[pyroxene.to_numpy()], ["CaO", "MgO", "FeOt"])
        total = mol["CaO"] + mol["MgO"] + mol["FeOt"]
        with np.errstate(invalid="ignore", divide="ignore"):
            wo, en, fs = (100 * mol[k] / total for k in ("CaO", "MgO", "FeOt"))
        groups = validated.loc[pyroxene, "label"].astype(str) + " → " + validated.loc[pyroxene, "mineral"].astype(str)
        parts.append("<h2>Disputed pyroxenes</h2>" + _png(pyroxene_quadrilateral(wo, en, fs, groups.to_numpy())))
    feldspar = involves(["plagioclase", "k-feldspar"])
    if feldspar.any():
        mol = _mol(oxides[feldspar.to_numpy()], ["CaO", "Na2O", "K2O"])
        groups = validated.loc[feldspar, "label"].astype(str) + " → " + validated.loc[feldspar, "mineral"].astype(str)
        parts.append(
            "<h2>Disputed feldspars</h2>"
            + _png(feldspar_ternary(mol["CaO"], mol["Na2O"], mol["K2O"], groups.to_numpy()))
        )
    return parts
