"""The app's Pictures, Formulas and Maps tabs, and how warnings and failures are shown (Streamlit)."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import streamlit as st

import minml
from minml.app import _work

_SAID = "_said"  # the warnings of this drawing of the page, in the session state


def warnings_box():
    """A place near the top of the page for every warning the library raises while the page
    is drawn (reading, checking, classifying, validating, the pictures), each said once, filled
    by :func:`say_warnings` once the page is drawn."""
    st.session_state[_SAID] = []
    return st.container()


def say_warnings(box) -> None:
    """Fill the ``box`` of :func:`warnings_box`: each warning kept by :func:`shown` once, in order."""
    with box:
        for text in dict.fromkeys(st.session_state.pop(_SAID, [])):
            st.warning(text)


def shown(outcome: _work.Outcome):
    """Say what a step raised: its warnings kept for the :func:`warnings_box` (a warning of
    every chunk, or of two tabs, said once), its failure, if any, here (never a stack trace).
    Returns its value (None when it failed)."""
    st.session_state.setdefault(_SAID, []).extend(outcome.warnings)
    if outcome.error:
        st.error(outcome.error)
    return outcome.value


def once(name: str, key: str, make):
    """``make()``, computed once per table, reading options and results (``key``) and kept in the
    session: Streamlit reruns the page on every click, and a 100k-row table must stay responsive."""
    kept = st.session_state.setdefault("_kept", {})
    if kept.get(name, (None,))[0] != key:
        kept[name] = (key, make())
    return kept[name][1]


def _figure(draw, name: str, key: str, kept: str) -> None:
    """Show the figure ``draw()`` makes (drawn once per ``kept`` key), with a PNG download under it."""
    made = once(
        f"png {key}", kept, lambda: _work.attempt(lambda: _work.figure_png(draw()), f"{name} could not be drawn")
    )
    png = shown(made)
    if png is None:
        return
    st.image(png, width="content")
    st.download_button(f"{name} (PNG)", png, f"{key}.png", "image/png", key=f"png_{key}")


def pictures_tab(table, result, validated, options) -> None:
    """Probability histogram, confusion matrix, latent space and the two ternaries."""
    if result is None:
        st.info("Classify first (tab 2): the pictures show its results.")
        return
    from minml.plot import confusion_matrix, latent_space

    left, right = st.columns(2)
    with left:
        st.subheader("How sure the model is")
        _histogram(result, options["key"])
    with right:
        st.subheader("Published label vs MIN-ML")
        if validated is None:
            st.info("Validate the labels (tab 3) to see the confusion matrix.")
        else:
            _figure(
                lambda: confusion_matrix(validated["label_class"].astype(str), validated["mineral"].astype(str)),
                "Confusion matrix",
                "confusion",
                options["key"] + str(id(validated)),
            )
    st.subheader("Latent space")
    by = st.radio(
        "Colour by",
        ["mineral", "cluster_mineral", "cluster"],
        horizontal=True,
        key="latent_by",
        help="mineral: the classifier's answer; cluster: density clusters found without labels",
    )
    placed = shown(
        once(
            "latent",
            options["key"],
            lambda: _work.attempt(
                lambda: minml.latent(table, fill_missing=options["fill_missing"], **options["reading"]),
                "The latent space could not be computed",
            ),
        )
    )
    if placed is not None:
        coloured = placed.assign(mineral=result["mineral"].astype(str).to_numpy())
        _figure(lambda: latent_space(coloured, by), "Latent space", "latent", options["key"] + by)
    _ternaries(table, result, options)


class _Ternary(NamedTuple):
    """A ternary of the Pictures tab: its heading, the minerals it plots, their three
    end-members, the word for one of them, and the figure's name and PNG name."""

    heading: str
    minerals: tuple[str, ...]
    ends: tuple[str, str, str]
    word: str
    name: str
    png: str


_PYROXENES = _Ternary(
    "Pyroxenes (Wo-En-Fs)",
    ("clinopyroxene", "orthopyroxene"),
    ("Wo", "En", "Fs"),
    "pyroxene",
    "Pyroxene quadrilateral",
    "pyroxenes",
)
_FELDSPARS = _Ternary(
    "Feldspars (An-Ab-Or)",
    ("plagioclase", "k-feldspar"),
    ("An", "Ab", "Or"),
    "feldspar",
    "Feldspar ternary",
    "feldspars",
)


def _histogram(result, kept: str) -> None:
    """The probabilities of the rows classified as a mineral, one histogram per mineral."""
    from minml.plot import probability_histogram

    named = result["mineral"].astype(str) != "unknown"
    if not named.any():
        st.info("No row was classified as a mineral (all unknown): no probabilities to plot.")
        return
    _figure(
        lambda: probability_histogram(
            result.loc[named, "probability"],
            result.loc[named, "mineral"].astype(str),
            xlabel="calibrated probability of the predicted mineral",
        ),
        "Probability histogram",
        "probability",
        kept,
    )


def _ternaries(table, result, options) -> None:
    """The pyroxene quadrilateral and the feldspar ternary of the rows predicted as such, side by side."""
    from minml.plot import feldspar_ternary, pyroxene_quadrilateral

    formulas = shown(
        once(
            "predicted formulas",
            options["key"],
            lambda: _work.attempt(
                lambda: _predicted_formulas(table, result, options), "Formulas could not be computed"
            ),
        )
    )
    if formulas is None:
        return
    drawn = [(_PYROXENES, pyroxene_quadrilateral), (_FELDSPARS, feldspar_ternary)]
    for column, (ternary, draw) in zip(st.columns(2), drawn, strict=True):
        with column:
            _ternary(formulas, result, ternary, draw, options["key"])


def _ternary(formulas, result, ternary: _Ternary, draw, kept: str) -> None:
    """One ternary of the rows with its end-members computed, or why there is none: no row of
    its minerals in the table (a table of olivines only), or none with a formula."""
    st.subheader(ternary.heading)
    rows = _work.end_member_rows(formulas, ternary.minerals, ternary.ends)
    if len(rows):
        a, b, c = (rows[end].to_numpy() for end in ternary.ends)
        _figure(lambda: draw(a, b, c, rows["mineral"]), ternary.name, ternary.png, kept)
        return
    predicted = int(result["mineral"].astype(str).isin(ternary.minerals).sum())
    if predicted:
        st.info(
            f"None of the {predicted:,} rows classified as {ternary.word} has its {'-'.join(ternary.ends)} "
            "computed: the flag column of tab 5 says why."
        )
    else:
        st.info(f"No {ternary.word} in this table: nothing to plot.")


def _predicted_formulas(table, result, options, column: str = "__minml_mineral"):
    """:func:`minml.formula` of each row as the mineral MIN-ML predicts (unknown rows: none)."""
    predicted = result["mineral"].astype(str).replace("unknown", "").to_numpy()
    return minml.formula(table.assign(**{column: predicted}), mineral_column=column, **options["reading"])


def formulas_tab(table, result, options) -> None:
    """Cations per formula unit, end-members and indices for a chosen mineral or the predicted ones."""
    from minml.chemistry.minerals import mineral_table

    choices = ["the predicted mineral of each row", *mineral_table()]
    chosen = st.selectbox("Formula of", choices, key="formula_of")
    if chosen == choices[0] and result is None:
        st.info("Classify first (tab 2), or choose one mineral for every row.")
        return
    if chosen == choices[0]:
        make = lambda: _predicted_formulas(table, result, options)  # noqa: E731
    else:
        make = lambda: minml.formula(table, chosen, **options["reading"])  # noqa: E731
    formulas = shown(
        once("formulas", options["key"] + chosen, lambda: _work.attempt(make, "Formulas could not be computed"))
    )
    if formulas is None:
        return
    done = formulas["mineral"] != ""
    st.caption(f"{int(done.sum()):,} of {len(formulas):,} formulas computed; the flag column says why not.")
    computed = formulas.dropna(axis=1, how="all")
    st.dataframe(computed, width="stretch", height=420)
    both = shown(  # as minml formula writes them: formula_ columns where a name is taken
        once(
            "formulas beside",
            options["key"] + chosen,
            lambda: _work.attempt(lambda: _work.beside(table, computed, "formula_"), "The formulas cannot be written"),
        )
    )
    if both is not None:
        csv = lambda: _work.table_bytes(both, ".csv")  # noqa: E731  (made when pressed)
        st.download_button("Formulas (CSV)", csv, "formulas.csv", "text/csv", key="dl_formulas")


def _classified_map(upload, pixel, low, high) -> _work.Outcome:
    """The uploaded (or the demo) map and its classification, with what reading and classifying
    it raised; no value, and a message, on failure."""
    if upload is not None:
        read = _work.attempt(
            lambda: _work.read_map_upload(upload.name, upload.getvalue(), pixel_size=pixel or None),
            f"{upload.name} could not be read as a map",
        )
    else:
        read = _work.attempt(_work.demo_map, "The demo map could not be made")
    if read.value is None:
        return read
    oxide_map = read.value
    done = _work.attempt(lambda: minml.classify_map(oxide_map, min_total=low, max_total=high), "The map failed")
    value = None if done.value is None else (oxide_map, done.value)
    return _work.Outcome(value, _work.joined(read, done), done.error)


def maps_tab() -> None:
    """Upload a quantified map; phase map, confidence map and modes."""
    st.markdown("A quantified EDS/WDS map: `.npz`, `.tif`, `.hspy`, or a `.zip` of per-oxide grids (CSV/TXT/TIFF).")
    upload = st.file_uploader("Map", type=_work.MAP_TYPES, key="map_file")
    c1, c2, c3 = st.columns(3)
    pixel = c1.number_input("Pixel size (µm, 0: unknown)", min_value=0.0, value=0.0, step=0.5, key="pixel_size")
    low = c2.number_input("Masked below this oxide sum (wt%)", 0.0, 100.0, 80.0, 1.0, key="min_total")
    high = c3.number_input("Unknown above this oxide sum (wt%)", 100.0, 200.0, 110.0, 1.0, key="max_total")
    if st.button("Use a synthetic demo map", key="demo_map"):
        st.session_state.map_demo = True
    if upload is None and not st.session_state.get("map_demo"):
        return
    import hashlib

    source = hashlib.sha256(upload.getvalue()).hexdigest() if upload is not None else "demo"
    with st.spinner("Reading and classifying the map ..."):
        made = once("map", f"{source} {pixel} {low} {high}", lambda: _classified_map(upload, pixel, low, high))
    found = shown(made)
    if found is None:
        return
    oxide_map, result = found
    for note in oxide_map.notes:
        st.caption(note)
    from minml.maps.figures import confidence_map, phase_map

    modes = result.modes()
    left, right = st.columns(2)
    with left:
        _figure(lambda: phase_map(result, modes=modes, title="Phase map"), "Phase map", "phase_map", str(id(result)))
    with right:
        _figure(lambda: confidence_map(result, title="Confidence"), "Confidence map", "confidence", str(id(result)))
    st.subheader("Modes (area %, and mode % with its uncertainty)")
    table = pd.DataFrame(modes).reset_index()
    st.dataframe(table, hide_index=True)
    st.download_button("Modes (CSV)", table.to_csv(index=False).encode(), "modes.csv", "text/csv", key="dl_modes")
