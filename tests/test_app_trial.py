"""The web app (AppTest) on the tables a trial found it failing on: tables of one mineral, of
oxides only, of glass, of one row, of rows no class fits (every tab drawn, the plots that do not
apply said so, never a stack trace); a file whose extension is not its kind (the message the
command line gives); Parquet files named ``.pq``."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")

import minml
from minml.cli import main

NO_PYROXENE = "No pyroxene in this table: nothing to plot."
NO_FELDSPAR = "No feldspar in this table: nothing to plot."
ALL_UNKNOWN = "No row was classified as a mineral (all unknown): no probabilities to plot."


@pytest.fixture(scope="module")
def lepr(shared_data) -> pd.DataFrame:
    """The LEPR test compilation (real analyses, with their published ``Mineral``)."""
    return pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", index_col=0, low_memory=False)


def _upload(at, name: str, data: bytes):
    at.file_uploader(key="table_file").set_value((name, data, "application/octet-stream"))
    return at.run()


def _classified(at, table: pd.DataFrame):
    """The page after uploading ``table`` (as CSV) and pressing Classify."""
    _upload(at, "analyses.csv", table.to_csv(index=False).encode())
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at.button(key="run_classify").click().run()


def _every_tab_drawn(at) -> None:
    """No stack trace, no failure; the Formulas tab (its table and download) and the Maps
    tab (its uploader) drawn below the Pictures tab."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "Formulas (CSV)" in [b.label for b in at.get("download_button")]
    assert "map_file" in [u.key for u in at.get("file_uploader")]


def _infos(at) -> list[str]:
    return [i.value for i in at.info]


def _pngs(at) -> set[str]:
    return {b.label for b in at.get("download_button") if b.label.endswith("(PNG)")}


def _formulas(at) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if "cation_sum" in df.value.columns)


def test_a_table_of_olivines_says_there_is_no_pyroxene_and_no_feldspar(app, lepr):
    olivines = lepr[lepr["Mineral"] == "Olivine"].head(6)
    at = _classified(app, olivines)
    _every_tab_drawn(at)
    assert NO_PYROXENE in _infos(at) and NO_FELDSPAR in _infos(at)
    assert not {"Pyroxene quadrilateral (PNG)", "Feldspar ternary (PNG)"} & _pngs(at)
    assert {"Probability histogram (PNG)", "Latent space (PNG)"} <= _pngs(at)
    # the Formulas tab holds the formulas of the predicted olivines: Fo as minml.formula gives it
    predicted = minml.classify(olivines)["mineral"].astype(str)
    assert set(predicted) == {"olivine"}
    expected = minml.formula(olivines, "olivine")
    np.testing.assert_allclose(_formulas(at)["Fo"].to_numpy(float), expected["Fo"].to_numpy(float), rtol=1e-9)


def test_a_table_of_clinopyroxenes_draws_the_quadrilateral_and_says_there_is_no_feldspar(app, lepr):
    at = _classified(app, lepr[lepr["Mineral"] == "Clinopyroxene"].head(6))
    _every_tab_drawn(at)
    assert "Pyroxene quadrilateral (PNG)" in _pngs(at) and "Feldspar ternary (PNG)" not in _pngs(at)
    assert NO_FELDSPAR in _infos(at) and NO_PYROXENE not in _infos(at)


def test_a_table_of_plagioclases_draws_the_ternary_and_says_there_is_no_pyroxene(app, lepr):
    at = _classified(app, lepr[lepr["Mineral"] == "Plagioclase"].head(6))
    _every_tab_drawn(at)
    assert "Feldspar ternary (PNG)" in _pngs(at) and "Pyroxene quadrilateral (PNG)" not in _pngs(at)
    assert NO_PYROXENE in _infos(at) and NO_FELDSPAR not in _infos(at)


def test_a_table_of_oxide_minerals_with_oxide_columns_only_draws_every_tab(app, lepr):
    oxides = lepr[lepr["Mineral"].isin(["Spinel", "FeTiOxide"])].groupby("Mineral").head(3)
    only = oxides.drop(columns=["entity_id", "Mineral", "method"])
    at = _classified(app, only)
    _every_tab_drawn(at)
    assert NO_PYROXENE in _infos(at) and NO_FELDSPAR in _infos(at)
    assert any("no column" in text for text in _infos(at))  # the Validate tab: no label column to check


def test_a_table_of_glasses_draws_every_tab(app, shared_data):
    glasses = pd.read_csv(shared_data / "test" / "glasses_df.csv").head(6)
    assert set(minml.classify(glasses)["mineral"].astype(str)) == {"glass"}
    at = _classified(app, glasses)
    _every_tab_drawn(at)
    assert NO_PYROXENE in _infos(at) and NO_FELDSPAR in _infos(at)


def test_a_table_of_one_row_draws_every_tab_and_validates(app, lepr):
    at = _classified(app, lepr[lepr["Mineral"] == "Garnet"].head(1))
    _every_tab_drawn(at)
    at.button(key="run_validate").click().run()
    _every_tab_drawn(at)
    assert "Confusion matrix (PNG)" in _pngs(at)
    assert NO_PYROXENE in _infos(at) and NO_FELDSPAR in _infos(at)


def test_rows_no_class_fits_say_so_instead_of_an_empty_histogram(app, lepr):
    first = lepr.head(400)
    unknown = first[(minml.classify(first)["mineral"].astype(str) == "unknown").to_numpy()].head(4)
    assert len(unknown) == 4
    at = _classified(app, unknown)
    _every_tab_drawn(at)
    assert ALL_UNKNOWN in _infos(at)
    assert "Probability histogram (PNG)" not in _pngs(at)
    assert NO_PYROXENE in _infos(at) and NO_FELDSPAR in _infos(at)
    # no formula for a row of no mineral; the table of formulas is still shown and downloadable
    assert "0 of 4 formulas computed; the flag column says why not." in [c.value for c in at.caption]


def test_a_text_file_named_parquet_gets_the_message_of_the_command_line(app, lepr, tmp_path, capsys):
    path = tmp_path / "fake.parquet"
    path.write_bytes(lepr[lepr["Mineral"] == "Olivine"].head(6).to_csv(index=False).encode())
    assert main(["check", str(path)]) == 2
    said = capsys.readouterr().err.strip().removeprefix("minml check: error: ")
    assert "not a Parquet file" in said
    at = _upload(app, "fake.parquet", path.read_bytes())
    assert not at.exception
    assert [e.value for e in at.error] == [f"**fake.parquet could not be read.** {said}"]


def test_a_parquet_file_is_read_unless_a_header_row_is_given(app, lepr):
    table = lepr[lepr["Mineral"] == "Olivine"].head(6).reset_index(drop=True)
    data = io.BytesIO()
    table.to_parquet(data)
    for name in ("olivines.parquet", "olivines.pq"):
        at = _upload(app, name, data.getvalue())
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.metric[0].value == "6"
    at.number_input(key="header_row").set_value(2).run()
    assert not at.exception
    assert any("header_row= applies to CSV and Excel files" in e.value for e in at.error)


def test_the_page_says_which_export_a_file_was_read_as(app, lepr, tmp_path):
    """As `minml check` says it (one function words it for both)."""
    from minml.pipelines import read_as

    from .layouts import write_aztec

    path = write_aztec(lepr[lepr["Mineral"] == "Olivine"].head(6), tmp_path / "aztec.csv", elements=True)
    said = read_as(minml.read_table(path))
    at = _upload(app, "aztec.csv", path.read_bytes())
    assert not at.exception and said is not None
    assert f"Read as {said}." in _infos(at)
