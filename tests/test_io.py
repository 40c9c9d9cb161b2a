import pandas as pd
import pytest

from minml import read_table, write_table

from .conftest import EXAMPLE


@pytest.fixture()
def lepr():
    return pd.read_csv(EXAMPLE)


def test_csv_comma(lepr):
    pd.testing.assert_frame_equal(read_table(EXAMPLE), lepr)


def test_csv_semicolon_with_decimal_commas(lepr, tmp_path):
    path = tmp_path / "european.csv"
    text = lepr.head(5).to_csv(index=False, sep=";").replace(".", ",")
    path.write_text(text, encoding="utf-8")
    table = read_table(path)
    assert list(table.columns) == list(lepr.columns)
    from minml import check_oxides

    checked = check_oxides(table)
    pd.testing.assert_series_equal(checked.oxides["SiO2"], lepr["SiO2"].head(5).fillna(0.0), check_names=False)


def test_excel_sheets(lepr, tmp_path):
    path = tmp_path / "two.xlsx"
    with pd.ExcelWriter(path) as writer:
        lepr.head(3).to_excel(writer, sheet_name="Cpx", index=False)
        lepr.tail(2).to_excel(writer, sheet_name="Ol", index=False)
    with pytest.warns(UserWarning, match=r"two.xlsx has 2 sheets \['Cpx', 'Ol'\]; read the first, 'Cpx'"):
        first = read_table(path)
    assert len(first) == 3
    assert len(read_table(path, sheet="Ol")) == 2
    assert len(read_table(path, sheet=1)) == 2
    both = read_table(path, sheet="all")
    assert both["sheet"].tolist() == ["Cpx"] * 3 + ["Ol"] * 2
    with pytest.raises(ValueError, match=r"two.xlsx has no sheet 'Opx'; its sheets are \['Cpx', 'Ol'\]"):
        read_table(path, sheet="Opx")
    with pytest.raises(ValueError, match="no sheet number 5"):
        read_table(path, sheet=5)


def test_parquet_round_trip(lepr, tmp_path):
    path = write_table(lepr, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(path), lepr)


def test_xlsx_and_csv_round_trip(lepr, tmp_path):
    for name in ("t.xlsx", "t.csv"):
        back = read_table(write_table(lepr, tmp_path / name))
        pd.testing.assert_frame_equal(back, lepr, check_dtype=False)


def test_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file"):
        read_table(tmp_path / "missing.csv")
    odd = tmp_path / "table.json"
    odd.write_text("{}")
    with pytest.raises(ValueError, match=r"unknown extension '.json'"):
        read_table(odd)
    with pytest.raises(ValueError, match="sheet= applies to Excel files only"):
        read_table(EXAMPLE, sheet="Sheet1")
    with pytest.raises(ValueError, match="use .csv, .tsv, .xlsx or .parquet"):
        write_table(pd.DataFrame(), tmp_path / "x.json")


def test_csv_written_in_pieces_is_one_table(lepr, tmp_path, monkeypatch):
    import minml.io
    from minml import classify

    table = pd.concat([lepr, classify(lepr)], axis=1)  # numbers, text, categories, blanks
    whole = write_table(table, tmp_path / "whole.csv").read_bytes()
    monkeypatch.setattr(minml.io, "_CSV_PIECE", 7)  # 76 rows: 11 pieces on several threads
    pieces = write_table(table, tmp_path / "pieces.csv")
    assert pieces.read_bytes() == whole
    assert whole.count(b"\n") == len(table) + 1 and whole.startswith(b'"entity_id","Mineral"')
    back = read_table(pieces)
    assert back["mineral"].tolist() == table["mineral"].astype(str).tolist()
    pd.testing.assert_frame_equal(back[lepr.columns], lepr, check_dtype=False)
    # no rows: the header alone
    assert write_table(table.iloc[:0], tmp_path / "empty.csv").read_text().count("\n") == 1
