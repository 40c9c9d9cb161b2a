"""The web app (AppTest) on tables the command line reads without a word: columns named like a
result (``notes``, ``flag``, ``probability``, a label column ``mineral``), an oxide with no
column, and the warnings the library gives while reading, checking and classifying."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")

import minml
from minml.cli import main
from tests.conftest import EXAMPLE


def _upload(at, path: Path):
    at.file_uploader(key="table_file").set_value((path.name, path.read_bytes(), "text/csv"))
    return at.run()


def _table(at, column: str) -> pd.DataFrame:
    """The (first) table on the page with ``column``."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _cli(tmp_path: Path, *argv: str) -> pd.DataFrame:
    """What a ``minml`` command writes (its ``-o`` file), read back."""
    output = tmp_path / f"{argv[0]}_cli.csv"
    assert main([*argv, "-o", str(output)]) == 0
    return pd.read_csv(output)


def _same_as_written(at, tmp_path: Path, expected: pd.DataFrame) -> pd.DataFrame:
    """The page's table with the columns of ``expected``, checked equal to it as a CSV file
    reads it back (the page's table is what its download writes)."""
    found = [df.value for df in at.dataframe if list(df.value.columns) == list(expected.columns)]
    assert found, [list(df.value.columns) for df in at.dataframe]
    path = tmp_path / "page.csv"
    minml.write_table(found[0], path)
    pd.testing.assert_frame_equal(pd.read_csv(path), expected, check_exact=False, rtol=1e-6)
    return found[0]


def _classify_and_compare(at, tmp_path: Path, source: Path) -> pd.DataFrame:
    at.button(key="run_classify").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return _same_as_written(at, tmp_path, _cli(tmp_path, "classify", str(source)))


def _validate_and_compare(at, tmp_path: Path, source: Path, label: str) -> None:
    assert at.selectbox(key="label_column").value == label  # the column holding phase names
    at.button(key="run_validate").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _same_as_written(at, tmp_path, _cli(tmp_path, "validate", str(source), "--label-column", label))


@pytest.fixture
def with_notes(tmp_path) -> Path:
    """The example with a column ``notes`` of its own (the check's column of notes has that name)."""
    table = pd.read_csv(EXAMPLE)
    path = tmp_path / "sample_notes.csv"
    table.assign(notes="ok").to_csv(path, index=False)
    return path


def test_a_column_named_notes_is_kept_beside_the_check_columns(app, with_notes, tmp_path):
    at = _upload(app, with_notes)
    assert not at.exception and not at.error
    flagged = _table(at, "check_flag")
    assert {"notes", "check_notes", "check_total", "check_iron_rule"} <= set(flagged.columns)
    assert (flagged["notes"] == "ok").all() and (flagged["check_flag"] != "").all()
    _classify_and_compare(at, tmp_path, with_notes)


def test_a_classified_table_uploaded_again_is_classified_and_validated(app, tmp_path):
    source = tmp_path / "classified.csv"
    assert main(["classify", str(EXAMPLE), "-o", str(source)]) == 0  # has flag, mineral, probability
    at = _upload(app, source)
    assert not at.exception and not at.error
    assert "check_flag" in _table(at, "check_flag").columns
    shown = _classify_and_compare(at, tmp_path, source)
    assert {"flag", "classify_flag", "mineral", "classify_mineral"} <= set(shown.columns)
    _validate_and_compare(at, tmp_path, source, "Mineral")


def test_a_probability_column_is_validated(app, tmp_path):
    source = tmp_path / "sample_prob.csv"
    pd.read_csv(EXAMPLE).assign(probability=0.5).to_csv(source, index=False)
    at = _upload(app, source)
    at.button(key="run_classify").click().run()
    assert not at.exception and not at.error
    _validate_and_compare(at, tmp_path, source, "Mineral")


def test_a_label_column_named_mineral_is_validated(app, tmp_path):
    source = tmp_path / "lower_case.csv"
    pd.read_csv(EXAMPLE).rename(columns={"Mineral": "mineral"}).to_csv(source, index=False)
    at = _upload(app, source)
    shown = _classify_and_compare(at, tmp_path, source)
    assert shown["mineral"].tolist() == pd.read_csv(source)["mineral"].tolist()  # the input's labels
    assert "classify_mineral" in shown
    _validate_and_compare(at, tmp_path, source, "mineral")
    at.checkbox(key="filter_disputed").check().run()
    assert not at.exception and not at.error


@pytest.fixture
def without_p2o5(tmp_path) -> Path:
    """The example labelled in a column ``mineral`` (the result's name), without P2O5."""
    table = pd.read_csv(EXAMPLE).rename(columns={"Mineral": "mineral"}).drop(columns="P2O5")
    path = tmp_path / "app_in.csv"
    table.to_csv(path, index=False)
    return path


def test_an_oxide_without_a_column_is_said_as_minml_check_says_it(app, without_p2o5, capsys):
    at = _upload(app, without_p2o5)
    assert not at.exception and not at.error
    assert main(["check", str(without_p2o5)]) == 0
    printed = capsys.readouterr().out.splitlines()[1:]  # after the file's name
    summary = next(c.value for c in at.code if "Columns (header -> read as)" in c.value)
    assert "(no column) -> P2O5" in summary
    assert summary.splitlines() == printed
    mapping = next(df.value for df in at.dataframe if "read as" in df.value.columns)
    assert mapping.loc[mapping["column"] == "(no column)", "read as"].tolist() == ["P2O5"]


def test_the_warnings_of_classify_and_validate_are_said_once_on_the_page(app, without_p2o5, monkeypatch):
    from minml.app import _work

    with pytest.warns(UserWarning, match="No column for P2O5") as raised:
        minml.classify(minml.read_table(without_p2o5))
    (said,) = [str(w.message) for w in raised]  # the command line's "warning: No column for P2O5: ..."

    def on_page(at) -> int:
        return [w.value for w in at.warning].count(said)

    monkeypatch.setattr(_work, "CHUNK_ROWS", 20)  # four chunks: each warns, the page says it once
    at = _upload(app, without_p2o5)
    assert on_page(at) == 0  # reading and checking say it in the summary, not as a warning
    at.button(key="run_classify").click().run()
    assert not at.exception and not at.error
    assert on_page(at) == 1
    at.multiselect(key="filter_mineral").set_value(["olivine"]).run()  # the page drawn again: still once
    assert on_page(at) == 1
    at.button(key="run_validate").click().run()  # validating says it again: the page, once
    assert not at.exception and not at.error
    assert on_page(at) == 1
    texts = [w.value for w in at.warning]
    assert len(texts) == len(set(texts))  # the latent space's and the formulas' words too, once each


def test_a_warning_while_reading_is_on_the_page(app, tmp_path):
    table = pd.read_csv(EXAMPLE).assign(method="EMP, 20 °C")
    source = tmp_path / "windows.csv"
    source.write_bytes(table.to_csv(index=False).encode("cp1252"))
    with pytest.warns(UserWarning) as raised:
        minml.read_table(source)
    said = [str(w.message) for w in raised]
    at = _upload(app, source)
    assert not at.exception and not at.error
    assert [w.value for w in at.warning if "UTF-8" in w.value] == [m for m in said if "UTF-8" in m]
    at.button(key="run_classify").click().run()  # a redraw, the table read from the cache
    assert len([w.value for w in at.warning if "UTF-8" in w.value]) == 1
