"""The web app through Streamlit's own test harness (AppTest), and its helpers on real data."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")

import minml
from minml.app import _work, streamlit_options
from minml.cli import main
from tests.conftest import EXAMPLE, two_phases


def _upload(at, name: str, data: bytes):
    at.file_uploader(key="table_file").set_value((name, data, "application/octet-stream"))
    return at.run()


def _mapping(at) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if "read as" in df.value.columns)


def test_upload_mapping_classify_filter_download(app):
    at = _upload(app, "lepr_sample.csv", EXAMPLE.read_bytes())
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][:4] == ["76", "13", "3", "12"]
    mapping = _mapping(at).set_index("column")
    assert mapping.loc["FeOt", "read as"] == "FeOt" and mapping.loc["Mineral", "read as"] == "(kept, not a species)"
    why = next(df.value for df in at.dataframe if list(df.value.columns) == ["reason", "rows"])
    pd.testing.assert_frame_equal(why, minml.check_oxides(minml.read_table(EXAMPLE)).flag_counts())
    at.button(key="run_classify").click().run()
    assert not at.exception and not at.error
    results = next(df.value for df in at.dataframe if "probability" in df.value.columns)
    expected = minml.classify(minml.read_table(EXAMPLE))
    assert results["mineral"].astype(str).tolist() == expected["mineral"].astype(str).tolist()
    at.multiselect(key="filter_mineral").set_value(["olivine", "quartz"]).run()
    shown = next(df.value for df in at.dataframe if "probability" in df.value.columns)
    assert set(shown["mineral"].astype(str)) == {"olivine", "quartz"}
    assert len(shown) == int(expected["mineral"].isin(["olivine", "quartz"]).sum())
    at.multiselect(key="filter_mineral").set_value([]).run()
    at.selectbox(key="filter_flag").set_value("flagged only").run()
    shown = next(df.value for df in at.dataframe if "probability" in df.value.columns)
    assert len(shown) == int((expected["flag"] != "").sum()) and (shown["flag"] != "").all()
    labels = [b.label for b in at.get("download_button")]
    assert {"Results (CSV)", "Results (Excel)", "One sheet per mineral, for Thermobar (Excel)"} <= set(labels)


def test_the_phase_suffix_on_the_page_changes_the_mapping(app):
    table = two_phases(minml.read_table(EXAMPLE))
    at = _upload(app, "two_phases.csv", table.to_csv(index=False).encode())
    # a mineral beside its liquid, equally full: refused, naming both choices (SiO2_Min was taken
    # for a statistic, and _Liq read alone without a word)
    assert any("suffix='_Min' or suffix='_Liq'" in e.value for e in at.error)
    at.text_input(key="suffix").set_value("_Min").run()
    assert not at.error and not at.exception
    mapping = _mapping(at).set_index("column")
    assert mapping.loc["SiO2_Min", "read as"] == "SiO2" and mapping.loc["SiO2_Min", "how"] == "suffix '_Min'"


def test_validate_embeds_the_report_and_the_confusion_matrix(app):
    at = _upload(app, "lepr_sample.csv", EXAMPLE.read_bytes())
    at.button(key="run_classify").click().run()
    assert at.selectbox(key="label_column").value == "Mineral"
    at.button(key="run_validate").click().run()
    assert not at.exception and not at.error
    verdicts = minml.validate(minml.read_table(EXAMPLE), "Mineral")["verdict"].value_counts()
    shown = {m.label: m.value for m in at.metric}
    assert shown["disagree"] == str(verdicts["disagree"]) and shown["agree"] == str(verdicts["agree"])
    labels = [b.label for b in at.get("download_button")]
    assert {"Report (HTML)", "Validated table (CSV)", "Confusion matrix (PNG)", "Latent space (PNG)"} <= set(labels)
    assert {"Pyroxene quadrilateral (PNG)", "Feldspar ternary (PNG)"} <= set(labels)
    at.checkbox(key="filter_disputed").check().run()
    shown = next(df.value for df in at.dataframe if "probability" in df.value.columns and "mineral" in df.value)
    assert len(shown) == verdicts["disagree"]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("broken.xlsx", b"not a workbook\n" * 10, "broken.xlsx could not be read"),
        ("empty.csv", b"", "empty.csv could not be read"),
        ("words.csv", b"Sample,Comment\na,b\n", "could not be read"),
        ("broken.parquet", b"PAR1 but not really", "broken.parquet could not be read"),
    ],
)
def test_a_bad_file_gives_a_message_never_a_stack_trace(app, name, data, words):
    at = _upload(app, name, data)
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any(words in m for m in messages), messages


def test_a_map_gives_phase_and_confidence_maps_and_modes(app):
    at = app
    at.button(key="demo_map").click().run()
    assert not at.exception and not at.error
    modes = next(df.value for df in at.dataframe if "area_percent" in df.value.columns)
    assert modes["area_percent"].sum() == pytest.approx(100.0, abs=0.01)
    labels = [b.label for b in at.get("download_button")]
    assert {"Phase map (PNG)", "Confidence map (PNG)", "Modes (CSV)"} <= set(labels)


def test_a_map_upload_that_is_not_a_map_gives_a_message(app):
    at = app
    at.file_uploader(key="map_file").set_value(("grids.zip", b"not a zip", "application/zip")).run()
    assert not at.exception
    assert any("grids.zip could not be read as a map" in e.value for e in at.error)


def test_classify_by_chunks_equals_classify_and_reports_progress(monkeypatch):
    table = minml.read_table(EXAMPLE)
    monkeypatch.setattr(_work, "CHUNK_ROWS", 20)
    seen = []
    chunked = _work.classify_in_chunks(table, seen.append, coverage=0.95)
    pd.testing.assert_frame_equal(chunked, minml.classify(table, coverage=0.95))
    assert seen == pytest.approx([20 / 76, 40 / 76, 60 / 76, 1.0])


def test_the_download_equals_the_command_line(tmp_path):
    table = minml.read_table(EXAMPLE)
    result = _work.classify_in_chunks(table, coverage=0.95).drop(columns="prediction_set")
    got = pd.read_csv(io.BytesIO(_work.table_bytes(_work.beside(table, result, "classify_"), ".csv")))
    assert main(["classify", str(EXAMPLE), "-o", str(tmp_path / "cli.csv")]) == 0
    pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "cli.csv"), check_exact=False, rtol=1e-6)


def test_uploads_leave_nothing_on_the_disk():
    before = set(Path(tempfile.gettempdir()).glob("minml-app-*"))
    _work.read_upload("lepr_sample.csv", EXAMPLE.read_bytes())
    with pytest.raises(Exception, match="Cannot detect file format|not a zip"):
        _work.read_upload("x.xlsx", b"junk")
    assert set(Path(tempfile.gettempdir()).glob("minml-app-*")) == before
    assert _work._safe_name("../../etc/passwd") == "passwd" and _work._safe_name("C:\\a\\b.csv") == "b.csv"


def test_the_upload_limit_and_the_command_are_checked(capsys):
    assert "--server.maxUploadSize=200" in streamlit_options("127.0.0.1", 8501, 200)
    assert "--server.address=127.0.0.1" in streamlit_options("127.0.0.1", 8501, 200)
    with pytest.raises(ValueError, match="at least 1, got 0"):
        streamlit_options("127.0.0.1", 8501, 0)
    assert main(["app", "--max-upload-mb", "0"]) == 2  # refused before anything starts
    assert "at least 1, got 0" in capsys.readouterr().err


def test_counts_figure_gives_each_mineral_its_palette_colour():
    from matplotlib.colors import to_hex

    from minml.palette import colour_of

    ax = _work.counts_figure(pd.Series(["olivine", "olivine", "garnet", "unknown"]))
    bars = {t.get_text(): to_hex(p.get_facecolor()).upper() for t, p in zip(ax.get_yticklabels(), ax.patches)}
    assert bars == {name: colour_of(name) for name in ("olivine", "garnet", "unknown")}
    assert np.allclose(sorted(p.get_width() for p in ax.patches), [1, 1, 2])


def test_a_workbook_sheet_and_header_row_are_chosen_on_the_page(app, tmp_path):
    from openpyxl import Workbook

    table = minml.read_table(EXAMPLE)
    book = Workbook()
    book.active.title = "notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("analyses")
    sheet.append(["Probe session 12, all values wt%"])  # a title above the header
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in row])
    book.save(tmp_path / "book.xlsx")
    at = _upload(app, "book.xlsx", (tmp_path / "book.xlsx").read_bytes())
    assert at.selectbox(key="sheet").options == ["notes", "analyses"]
    at.selectbox(key="sheet").set_value("analyses").run()
    at.number_input(key="header_row").set_value(2).run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric][:2] == ["76", "13"]
    assert _mapping(at).set_index("column").loc["SiO2", "read as"] == "SiO2"


def test_the_bundled_example_is_the_repository_example():
    assert _work.example_bytes() == EXAMPLE.read_bytes()


def test_species_are_named_on_request(app):
    at = _upload(app, "lepr_sample.csv", EXAMPLE.read_bytes())
    at.checkbox(key="classify_species").check().run()
    at.button(key="run_classify").click().run()
    assert not at.exception and not at.error
    results = next(df.value for df in at.dataframe if "probability" in df.value.columns)
    expected = minml.classify(minml.read_table(EXAMPLE), species=True)
    assert results["species"].tolist() == expected["species"].tolist()
    assert results["mineral"].astype(str).tolist() == expected["mineral"].astype(str).tolist()
