"""The Streamlit page of ``minml app`` (run by Streamlit, not imported)."""

from __future__ import annotations

import base64
import hashlib

import matplotlib

matplotlib.use("Agg")

import numpy as np
import streamlit as st

import minml
from minml.app import _work
from minml.app._show import formulas_tab, maps_tab, once, pictures_tab, say_warnings, shown, warnings_box
from minml.pipelines import read_as

state = st.session_state


@st.cache_data(show_spinner="Reading the table ...", max_entries=4)
def _read(name: str, data: bytes, sheet, header_row) -> _work.Outcome:
    """The upload read, with its warnings (kept with it: a cached table is not read again)."""
    return _work.attempt(
        lambda: _work.read_upload(name, data, sheet=sheet, header_row=header_row), f"{name} could not be read"
    )


def _sidebar():
    """The table and how to read it: the choices a user most often has to fix."""
    st.sidebar.title("MIN-ML")
    st.sidebar.caption("Which mineral is each analysis, and can its label be trusted?")
    upload = st.sidebar.file_uploader("Table of analyses (oxide wt%)", type=_work.TABLE_TYPES, key="table_file")
    if st.sidebar.button("Use the example: 76 LEPR analyses", key="use_example"):
        state.example = True
    if upload is not None:
        state.example = False
        source = (upload.name, upload.getvalue())
    elif state.get("example"):
        source = (_work.EXAMPLE, _work.example_bytes())
    else:
        return None, {}
    options = {}
    try:
        sheets = _work.sheet_names(*source)
    except Exception:  # not a workbook after all: reading it says so, below
        sheets = []
    if sheets:
        options["sheet"] = st.sidebar.selectbox("Sheet", sheets, key="sheet")
    options["header_row"] = _header_row()
    reading = {}
    suffix = st.sidebar.text_input("Phase suffix or prefix (e.g. _Cpx)", value="", key="suffix").strip()
    if suffix:
        reading["suffix"] = suffix
    reading["elements"] = st.sidebar.checkbox("Columns hold elements (Si, Fe, ...) in wt%", key="elements")
    fill = st.sidebar.checkbox("Read oxides the table lacks as 0 wt%", key="fill")
    low, high = st.sidebar.slider("Accepted oxide sum (wt%)", 50.0, 120.0, (88.0, 105.0), 0.5, key="total")
    options.update(reading=reading, fill_missing=0.0 if fill else None, total_range=(low, high))
    return source, options


def _header_row() -> int | None:
    """The row of the column names the user gave, or None (empty): the file read as ``minml``
    reads it without ``--header-row`` (the first row; a title above the names is said, and a
    file of another kind than its name says is named so)."""
    row = st.sidebar.number_input(
        "Row of the column names",
        min_value=1,
        value=None,
        step=1,
        key="header_row",
        placeholder="1 (the first row)",
        help="Counted from 1, as a spreadsheet shows rows: for a table with a title above its column names.",
    )
    return None if row is None else int(row)


def _read_tab(table, options, key):
    checked = shown(
        once(
            "checked",
            key,
            lambda: _work.attempt(
                lambda: _work.check(
                    table,
                    fill_missing=options["fill_missing"],
                    total_range=options["total_range"],
                    **options["reading"],
                ),
                "The columns could not be read",
            ),
        )
    )
    if checked is None:
        return None
    flags = checked.flags
    bad = int((flags["flag"] != "").sum())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Rows", f"{len(table):,}")
    c2.metric("Species columns", len(checked.mapping.mapped))
    c3.metric("Other columns (kept)", len(checked.mapping.unrecognised))
    c4.metric("Rows flagged", f"{bad:,}")
    said = read_as(table)
    if said is not None:
        st.info(f"Read as {said}.")
    st.subheader("Columns: what each header was read as")
    st.dataframe(_work.mapping_table(checked), hide_index=True, width="stretch")
    hints = checked.mapping.hints
    if hints:
        st.warning(
            "Some columns look like misspelt oxides: "
            + ", ".join(f"{col!r} (did you mean {sp}?)" for col, sp in hints.items())
            + ". Rename them in the file to have them read."
        )
    left, right = st.columns(2)
    left.subheader("Iron: the rule used per row")
    iron = flags["iron_rule"].astype(str).value_counts()
    left.dataframe(iron[iron > 0].rename_axis("iron rule").rename("rows").reset_index(), hide_index=True)
    right.subheader("Why rows are flagged")
    right.dataframe(checked.flag_counts(), hide_index=True)
    st.subheader("Rows flagged, with the reason")
    flagged = shown(_work.attempt(lambda: _work.flagged_rows(checked), "The flagged rows cannot be shown"))
    if flagged is not None:
        st.dataframe(flagged, width="stretch")
    with st.expander("The same facts as `minml check` prints them"):
        st.code(checked.summary(), language=None)
    return checked


def _classify_tab(table, options, key):
    species = st.checkbox(
        "Name the species too (augite, forsterite (Fo88); nepheline for rows that are none of the classes)",
        key="classify_species",
        help="From each row's formula; several times slower than classifying.",
    )
    if st.button("Classify", type="primary", key="run_classify"):
        bar = st.progress(0.0, text="Classifying ...")
        done = _work.attempt(
            lambda: _work.classify_in_chunks(
                table,
                lambda done: bar.progress(done, text=f"Classifying ... {done:.0%}"),
                fill_missing=options["fill_missing"],
                coverage=0.95,
                total_range=options["total_range"],
                species=species,
                **options["reading"],
            ),
            "Classification failed",
        )
        bar.empty()
        if done.value is None:
            shown(done)  # the failure, and what was said before it
        else:
            state.classified = (key, done.value, done.warnings)
    classified = state.get("classified")
    if classified is None or classified[0] != key:
        st.info("Press **Classify** to run the model on every row.")
        return None
    result = classified[1]
    shown(_work.Outcome(result, classified[2]))  # what classifying said, on every drawing of the page
    made = key + str(id(result))  # the results: classifying again (species) makes new ones
    # the table shown is the one downloaded: the input's columns, then the results as minml classify
    # writes them (prefixed classify_ where a name is taken)
    both = shown(
        once(
            "results beside",
            made,
            lambda: _work.attempt(
                lambda: _work.beside(table, result.drop(columns=["prediction_set"]), "classify_"),
                "The results cannot be put beside the table",
            ),
        )
    )
    if both is None:
        return result
    left, right = st.columns([1, 2])
    with left:
        st.subheader("Analyses per mineral")
        st.image(once("counts", made, lambda: _work.figure_png(_work.counts_figure(result["mineral"]))))
    with right:
        st.subheader("Results")
        _results_table(both, result, key)
    _downloads(table, both, result, options, key)
    return result


@st.fragment
def _results_table(both, result, key):
    """The filters and the table: a fragment, so that a filter redraws only this, not the page."""
    kept = _filtered(both, result, key)
    st.caption(f"{len(kept):,} of {len(result):,} rows shown; click a column name to sort.")
    st.dataframe(kept, width="stretch", height=420)


def _filtered(both, result, key):
    """The rows of ``both`` (the input beside the results) kept by the filters on ``result``:
    mineral, flag, probability and dispute."""
    c1, c2, c3, c4 = st.columns([3, 2, 3, 2])
    found = [m for m in result["mineral"].cat.categories if (result["mineral"] == m).any()]
    minerals = c1.multiselect("Mineral", found, default=[], key="filter_mineral", placeholder="all minerals")
    flag = c2.selectbox("Flag", ["all rows", "flagged only", "not flagged"], key="filter_flag")
    low, high = c3.slider("Probability", 0.0, 1.0, (0.0, 1.0), 0.01, key="filter_probability")
    validated = state.get("validated")
    validated = validated if validated is not None and validated[0] == key else None
    disputed = c4.checkbox("Disputed labels only", key="filter_disputed", disabled=validated is None)
    keep = np.ones(len(result), dtype=bool)
    if minerals:
        keep &= result["mineral"].isin(minerals).to_numpy()
    if flag != "all rows":
        keep &= (result["flag"] != "").to_numpy() == (flag == "flagged only")
    probability = result["probability"].fillna(0.0).to_numpy()
    keep &= (probability >= low) & (probability <= high)
    if disputed and validated is not None:
        keep &= (validated[1]["verdict"] == "disagree").to_numpy()
    return both[keep]


def _downloads(table, both, result, options, key):
    st.subheader("Download")
    c1, c2, c3 = st.columns(3)
    # the files are made when a button is pressed (deferred), not on every redraw of the page
    c1.download_button(
        "Results (CSV)", lambda: _work.table_bytes(both, ".csv"), "classified.csv", "text/csv", key="dl_csv"
    )
    c2.download_button(
        "Results (Excel)",
        lambda: _work.table_bytes(both, ".xlsx"),
        "classified.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_xlsx",
    )
    validated = state.get("validated")
    validated = validated[1] if validated is not None and validated[0] == key else None
    book = lambda: _work.by_mineral_bytes(table, result, validated, **options["reading"])  # noqa: E731
    c3.download_button(
        "One sheet per mineral, for Thermobar (Excel)",
        book,
        "by_mineral.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_thermobar",
        help="Columns named as Thermobar reads them (SiO2_Cpx, FeOt_Amp, SiO2_Liq, ...); rows the model is "
        "unsure of, flagged or whose label it disputes are on the sheet 'unsure or disputed'.",
    )


def _label_column(table, others):
    """The column of ``others`` offered first for the published labels: ``Mineral``, else the
    first that holds phase names (``mineral``, ``Phase``), else the first."""
    from minml.chemistry.labels import label_columns

    if "Mineral" in others:
        return "Mineral"
    likely = label_columns(table[others])
    return likely[0] if likely else others[0]


def _validate_tab(table, options, checked, key):
    others = list(checked.other.columns) if checked is not None else list(table.columns)
    if not others:
        st.info(
            "Validation compares each row's published mineral name with its analysis: the table has no column "
            "besides the oxides to hold one."
        )
        return
    default = others.index(once("label column", key, lambda: _label_column(table, others)))
    column = st.selectbox("Column with the published mineral", others, index=default, key="label_column")
    coverage = st.slider(
        "Coverage of the prediction sets",
        0.80,
        0.999,
        0.99,
        0.001,
        key="coverage",
        help="A true label is called 'disagree' for about 1 - coverage of rows.",
    )
    species = st.checkbox(
        "Check labels that name a species (augite, nepheline) against the species named from the formula",
        key="validate_species",
    )
    if st.button("Validate the labels", type="primary", key="run_validate"):
        with st.spinner("Validating ..."):
            done = _work.attempt(
                lambda: minml.validate(
                    table,
                    column,
                    coverage=coverage,
                    fill_missing=options["fill_missing"],
                    total_range=options["total_range"],
                    species=species,
                    **options["reading"],
                ),
                "Validation failed",
            )
        if done.value is None:
            shown(done)
        else:
            result = done.value
            report = _work.attempt(
                lambda: _work.report_html(table, result, "MIN-ML validation", **options["reading"]),
                "The report could not be made",
            )
            said = _work.Outcome(None, _work.joined(done, report), report.error)
            state.validated = (key, result, report.value, said)
            st.rerun()  # the Classify tab, drawn before this one, offers the disputed-only filter now
    validated = state.get("validated")
    if validated is None or validated[0] != key:
        st.info("Choose the label column and press **Validate the labels**.")
        return
    result, html = validated[1], validated[2]
    shown(validated[3])  # what validating and the report said, on every drawing of the page
    counts = result["verdict"].value_counts()
    counts = counts[counts > 0]
    for col, (verdict, n) in zip(st.columns(len(counts)), counts.items(), strict=True):
        col.metric(verdict.replace("_", " "), f"{n:,}")
    st.subheader("Rows, most certain disagreements first")
    ranked = shown(  # as minml validate writes it, whatever the label column is called
        once(
            "ranked",
            key + str(id(result)),
            lambda: _work.attempt(lambda: _work.ranked(table, result), "The verdicts cannot be put beside the table"),
        )
    )
    if ranked is None:
        return
    st.dataframe(ranked, width="stretch", height=360)
    c1, c2 = st.columns(2)
    c1.download_button(
        "Validated table (CSV)",
        lambda: _work.table_bytes(ranked, ".csv"),
        "validated.csv",
        "text/csv",
        key="dl_validated",
    )
    if html:
        c2.download_button(
            "Report (HTML)", html.encode("utf-8"), "validation_report.html", "text/html", key="dl_report"
        )
        st.subheader("Report")
        # a data: URL has an origin of its own: the report cannot reach the page (its labels come from the upload)
        st.iframe("data:text/html;base64," + base64.b64encode(html.encode("utf-8")).decode("ascii"), height=900)


def main():
    st.set_page_config(page_title="MIN-ML", page_icon=":rock:", layout="wide")
    st.title("MIN-ML: which mineral is each analysis?")
    box = warnings_box()
    _page()
    say_warnings(box)


def _page():
    """The page below the title: the sidebar, then the tabs for the table (or only Maps)."""
    source, options = _sidebar()
    if source is None:
        st.markdown(
            "Upload a table of electron-microprobe or EDS analyses (oxide wt%; CSV, TSV, Excel or Parquet) "
            "in the sidebar, or try the example. Nothing is sent anywhere: the app runs on this computer, "
            "and an upload is read from a temporary folder that is removed at once."
        )
        tabs = st.tabs(["Maps"])
        with tabs[0]:
            maps_tab()
        return
    name, data = source
    table = shown(_read(name, data, options.get("sheet"), options["header_row"]))
    if table is None:
        return
    st.caption(f"**{name}**: {len(table):,} rows, {table.shape[1]} columns")
    key = hashlib.sha256(data).hexdigest() + repr(sorted(options.items(), key=str))
    classified = state.get("classified")
    options["key"] = key + (str(id(classified[1])) if classified else "")  # of the results, for the pictures
    tabs = st.tabs(["1 · What was read", "2 · Classify", "3 · Validate", "4 · Pictures", "5 · Formulas", "6 · Maps"])
    with tabs[0]:
        checked = _guarded(lambda: _read_tab(table, options, key))
    with tabs[1]:
        result = _guarded(lambda: _classify_tab(table, options, key))
    with tabs[2]:
        _guarded(lambda: _validate_tab(table, options, checked, key))
    validated = state.get("validated")
    validated = validated[1] if validated is not None and validated[0] == key else None
    with tabs[3]:
        _guarded(lambda: pictures_tab(table, result, validated, options))
    with tabs[4]:
        _guarded(lambda: formulas_tab(table, result, options))
    with tabs[5]:
        _guarded(maps_tab)


def _guarded(draw):
    """``draw()``, the drawing of one tab: a failure no step foresaw is said in the tab, in
    words (never a stack trace), and the tabs after it are still drawn.  Returns its value
    (None when it failed).  Streamlit's own reruns and stops are no ``Exception``: they pass."""
    try:
        return draw()
    except Exception as failure:
        st.error(f"**This tab could not be drawn** ({type(failure).__name__}: {failure}); the other tabs still work.")
        return None


if __name__ == "__main__":  # as Streamlit runs it
    main()
