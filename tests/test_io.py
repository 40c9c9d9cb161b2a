import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minml import classify, read_table, write_table
from minml.cli import main

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


def _european_lepr(shared_data, path, sep=";"):
    """50 real LEPR analyses as a European spreadsheet exports them (``sep``, decimal commas),
    with a column that is no oxide holding decimal commas (P_kbar) and a K2O below detection
    (<0,01). Returns the table written, as read with points."""
    lepr = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv").head(50)
    lepr.insert(4, "P_kbar", [f"{p / 10:.1f}".replace(".", ",") for p in range(50)])
    lepr.to_csv(path, sep=sep, decimal=",", index=False)
    return lepr


@pytest.mark.shared_data
def test_decimal_comma_oxides_are_read_as_the_numbers_they_are(shared_data, tmp_path):
    """A CSV file with ';' and decimal commas read its oxides as text ('47,24000168'): the
    checks read the numbers, but every output wrote the text back."""
    from minml.io import read_csv_arrow

    path = tmp_path / "european.csv"
    lepr = _european_lepr(shared_data, path)
    table = read_table(path)
    for name in ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MgO", "CaO", "Na2O", "K2O", "P2O5"]:
        assert table[name].dtype == np.float64, name
        np.testing.assert_array_equal(table[name].to_numpy(), lepr[name].to_numpy(), err_msg=name)
    assert table["P_kbar"].tolist() == lepr["P_kbar"].tolist()  # not an oxide: text as written
    assert table["Mineral"].tolist() == lepr["Mineral"].tolist()
    arrow = read_csv_arrow(path)  # the route without pandas reads the same numbers
    assert arrow is not None and str(arrow.schema.field("SiO2").type) == "double"
    np.testing.assert_array_equal(np.asarray(arrow.column("SiO2").to_pylist(), dtype=float), lepr["SiO2"].to_numpy())
    # an oxide column holding other text (below detection) stays as written, as a column with points does
    text = path.read_text().splitlines()
    cells = text[4].split(";")
    cells[text[0].split(";").index("K2O")] = "<0,01"
    text[4] = ";".join(cells)
    path.write_text("\n".join(text) + "\n")
    table = read_table(path)
    assert table["K2O"].tolist()[2:4] == [str(float(lepr["K2O"][2])).replace(".", ","), "<0,01"]
    assert table["SiO2"].dtype == np.float64
    assert read_csv_arrow(path).column("K2O").type == "string"
    # a file of commas reads a quoted decimal comma as it did: text, which the checks read
    comma = tmp_path / "comma.csv"
    comma.write_text('SiO2,MgO,FeO\n"40,5",49.3,9.6\n')
    assert read_table(comma)["SiO2"].tolist() == ["40,5"]


@pytest.mark.shared_data
@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".csv", ".tsv"])
def test_classify_writes_decimal_comma_oxides_as_the_numbers_read(shared_data, tmp_path, suffix, capsys):
    """`minml classify eu.csv -o out.xlsx` (or .parquet, .csv) wrote the oxides of a ';' file
    with decimal commas back as text; the guide promises the numbers read."""
    import openpyxl
    import pyarrow.parquet as pq

    source = tmp_path / "eu.csv"
    lepr = _european_lepr(shared_data, source)
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    written = read_table(out)
    oxides = ["SiO2", "TiO2", "Al2O3", "FeOt", "MgO", "CaO", "Na2O", "K2O"]
    for name in oxides:
        assert written[name].dtype == np.float64, name
        np.testing.assert_array_equal(written[name].to_numpy(), lepr[name].to_numpy(), err_msg=name)
    assert written["P_kbar"].tolist() == lepr["P_kbar"].tolist()  # other text as written
    assert written["Mineral"].tolist() == lepr["Mineral"].tolist()
    expected = classify(lepr.drop(columns="P_kbar"))
    assert written["mineral"].tolist() == expected["mineral"].astype(str).tolist()
    if suffix == ".xlsx":
        book = openpyxl.load_workbook(out, read_only=True)  # read-only keeps the file open until closed
        try:
            header = [cell.value for cell in next(book.active.iter_rows(max_row=1))]
            row = [cell.value for cell in next(book.active.iter_rows(min_row=2, max_row=2))]
        finally:
            book.close()
        assert row[header.index("SiO2")] == lepr["SiO2"][0] and row[header.index("P_kbar")] == "0,0"
    elif suffix == ".parquet":
        schema = pq.read_schema(out)
        assert str(schema.field("SiO2").type) == "double" and str(schema.field("P_kbar").type) != "double"
    else:
        import csv

        with open(out, newline="") as handle:
            header, first = list(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","))[:2]
        assert first[header.index("SiO2")] == str(float(lepr["SiO2"][0]))  # a number, not the text '47,24000168'


@pytest.mark.shared_data
def test_classify_carries_a_tab_file_with_decimal_commas_as_written(shared_data, tmp_path, capsys):
    """Tab to .tsv: the rows are the input's own text, written back as read (decimal commas
    included), the results beside them."""
    source = tmp_path / "eu.tsv"
    lepr = _european_lepr(shared_data, source, sep="\t")
    out = tmp_path / "out.tsv"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    lines, given = out.read_text().splitlines(), source.read_text().splitlines()
    assert [line[: len(row)] for line, row in zip(lines, given, strict=True)] == given
    assert main(["classify", str(source), "-o", str(tmp_path / "out.csv")]) == 0
    assert read_table(tmp_path / "out.csv")["mineral"].tolist() == read_table(out)["mineral"].tolist()
    np.testing.assert_array_equal(read_table(out)["SiO2"].to_numpy(), lepr["SiO2"].to_numpy())


def test_columns_aligned_with_spaces_as_microprobe_software_prints_them(lepr, tmp_path):
    path = tmp_path / "probe.txt"
    path.write_text(lepr.head(6).drop(columns=["method"]).to_string(index=False, na_rep="NaN"))
    table = read_table(path)
    pd.testing.assert_frame_equal(table, lepr.head(6).drop(columns=["method"]), check_dtype=False)


def test_rows_longer_than_the_header_are_refused_not_shifted(lepr, tmp_path):
    """pandas makes the first column the index when every row is one field longer than the
    header: each name then labelled its neighbour's values (SiO2 read from TiO2's column)."""
    longer = tmp_path / "longer.csv"
    longer.write_text("Sample,SiO2,MgO,FeO\nol1,40.5,49.3,9.6,0.3\nol2,40.1,48.9,10.1,0.2\n")
    with pytest.raises(
        ValueError,
        match=r"'longer.csv': line 2 has 5 fields but the header names 4 columns "
        r"\('ol1,40.5,49.3,9.6,0.3'\).*Add the missing column names",
    ):
        read_table(longer)
    spaced = tmp_path / "longer.txt"
    spaced.write_text("Sample SiO2 MgO FeO\nol1 40.5 49.3 9.6 0.3\n")
    with pytest.raises(ValueError, match=r"line 2 has 5 fields .* Separator read as spaces\."):
        read_table(spaced)
    ending = tmp_path / "ending.csv"  # a separator closing every data line: empty fields, nothing lost
    ending.write_text(lepr.head(4).to_csv(index=False).replace("\n", ",\n").replace(",\n", "\n", 1))
    pd.testing.assert_frame_equal(read_table(ending), lepr.head(4))


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


def test_workbook_sheets_of_notes_are_no_analyses(lepr, tmp_path):
    """Supplementary workbooks open with a sheet of notes and end with references: stacked
    by sheet='all', they were rows flagged 'empty row'; read first by default, a table with
    no oxide column and no word of the sheets that have them."""
    path = tmp_path / "supplement.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Notes": ["EPMA, 15 kV, 10 nA", "Fe as FeO"]}).to_excel(writer, sheet_name="README", index=False)
        lepr.head(3).to_excel(writer, sheet_name="Cpx", index=False)
        lepr.tail(2).to_excel(writer, sheet_name="Ol", index=False)
        pd.DataFrame({"Reference": ["Smith 2001"]}).to_excel(writer, sheet_name="References", index=False)
    with pytest.warns(UserWarning, match=r"sheets without oxide columns left out: \['README', 'References'\]"):
        both = read_table(path, sheet="all")
    assert both["sheet"].tolist() == ["Cpx"] * 3 + ["Ol"] * 2
    own = tmp_path / "own_sheet_column.xlsx"  # a column 'sheet' of the table's own is kept
    with pd.ExcelWriter(own) as writer:
        lepr.head(2).assign(sheet="thin section 4").to_excel(writer, sheet_name="Cpx", index=False)
        lepr.tail(1).assign(sheet="thin section 9").to_excel(writer, sheet_name="Ol", index=False)
    stacked = read_table(own, sheet="all")
    assert stacked["sheet"].tolist() == ["thin section 4"] * 2 + ["thin section 9"]
    assert stacked["source_sheet"].tolist() == ["Cpx", "Cpx", "Ol"]
    with pytest.warns(
        UserWarning,
        match=r"The first sheet of supplement.xlsx, 'README', has no oxide columns: read the sheets that have, "
        r"\['Cpx', 'Ol'\], stacked \(as sheet='all'\), the column 'sheet' naming each row's sheet; "
        r"left out: \['README', 'References'\]",
    ) as caught:
        default = read_table(path)  # no sheet given: the sheets with analyses, as sheet="all" reads them
    assert len(caught) == 1  # one warning says it all
    pd.testing.assert_frame_equal(default, both)
    first = tmp_path / "first_has_oxides.xlsx"  # a first sheet with oxide columns reads as before
    with pd.ExcelWriter(first) as writer:
        lepr.head(3).to_excel(writer, sheet_name="Cpx", index=False)
        pd.DataFrame({"Notes": ["none"]}).to_excel(writer, sheet_name="README", index=False)
    with pytest.warns(UserWarning, match=r"has 2 sheets \['Cpx', 'README'\]; read the first, 'Cpx'"):
        pd.testing.assert_frame_equal(read_table(first), read_table(first, sheet="Cpx"))
    notes = tmp_path / "notes.xlsx"
    with pd.ExcelWriter(notes) as writer:
        pd.DataFrame({"Notes": ["none"]}).to_excel(writer, sheet_name="a", index=False)
        pd.DataFrame({"Notes": ["none"]}).to_excel(writer, sheet_name="b", index=False)
    with pytest.raises(ValueError, match=r"No sheet of notes.xlsx names an oxide in its columns"):
        read_table(notes, sheet="all")


def test_header_row_of_every_sheet_never_leaves_out_a_sheet_with_its_names_elsewhere(lepr, tmp_path):
    """sheet='all' with header_row: a sheet whose column names sit on another row was left out
    as 'without oxide columns' (a warning, and its analyses lost)."""
    path = tmp_path / "mixed.xlsx"
    with pd.ExcelWriter(path) as writer:
        lepr.head(3).to_excel(writer, sheet_name="Cpx", index=False)
        pd.DataFrame([["Table 2. Run products"]]).to_excel(writer, sheet_name="Ol", index=False, header=False)
        lepr.tail(2).to_excel(writer, sheet_name="Ol", index=False, startrow=2)
        pd.DataFrame({"Reference": ["Smith 2001"]}).to_excel(writer, sheet_name="References", index=False)
    with pytest.warns(UserWarning, match=r"sheet 'Ol': column names found on row 3|left out: \['References'\]"):
        assert read_table(path, sheet="all")["sheet"].tolist() == ["Cpx"] * 3 + ["Ol"] * 2
    with pytest.raises(
        ValueError,
        match=r"'mixed.xlsx', sheet 'Cpx': row 3 holds no oxide names but row 1 does\. "
        r"header_row applies to every sheet: .* read them one at a time \(sheet=NAME with its header_row\)",
    ):
        read_table(path, sheet="all", header_row=3)
    stacked = pd.concat([read_table(path, sheet="Cpx"), read_table(path, sheet="Ol", header_row=3)])
    assert len(stacked) == 5  # the way the message gives
    same = tmp_path / "same_rows.xlsx"  # every sheet with its names on row 3: read, notes left out
    with pd.ExcelWriter(same) as writer:
        for name, part in (("Cpx", lepr.head(3)), ("Ol", lepr.tail(2))):
            pd.DataFrame([[f"Table: {name}"]]).to_excel(writer, sheet_name=name, index=False, header=False)
            part.to_excel(writer, sheet_name=name, index=False, startrow=2)
        pd.DataFrame({"Reference": ["Smith 2001"]}).to_excel(writer, sheet_name="References", index=False)
    with pytest.warns(UserWarning, match=r"left out: \['References'\]"):
        assert read_table(same, sheet="all", header_row=3)["sheet"].tolist() == ["Cpx"] * 3 + ["Ol"] * 2
    with pytest.raises(ValueError, match=r"sheet 'Cpx': row 40 holds no oxide names but row 3 does\. header_row"):
        read_table(same, sheet="all", header_row=40)
    notes = tmp_path / "notes.xlsx"
    with pd.ExcelWriter(notes) as writer:
        pd.DataFrame({"Reference": ["Smith 2001"]}).to_excel(writer, sheet_name="References", index=False)
        pd.DataFrame({"Notes": ["EPMA"]}).to_excel(writer, sheet_name="README", index=False)
    with pytest.raises(ValueError, match=r"No sheet of notes.xlsx names an oxide in its columns on row 5"):
        read_table(notes, sheet="all", header_row=5)  # every sheet too short: not 'has no row 5' of one


def test_parquet_round_trip(lepr, tmp_path):
    path = write_table(lepr, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(path), lepr)


def test_parquet_of_a_column_mixing_numbers_and_text(lepr, tmp_path):
    """An oxide column with 'bdl' cells beside numbers (as read from a workbook): pyarrow
    refused the whole table after the work ("Expected bytes, got a 'float' object")."""
    table = lepr.head(4).astype({"MgO": object})
    table.loc[1, "MgO"] = "bdl"
    with pytest.warns(UserWarning, match=r"t.parquet: columns \['MgO'\] mix numbers and text; written as text"):
        path = write_table(table, tmp_path / "t.parquet")
    back = read_table(path)
    assert back["MgO"].tolist() == [str(v) if v == v else None for v in table["MgO"]]
    pd.testing.assert_frame_equal(back.drop(columns="MgO"), table.drop(columns="MgO"))


@pytest.mark.parametrize("index", [["entity_id"], ["entity_id", "method"]])
def test_parquet_index_comes_back_as_columns(lepr, tmp_path, index):
    """pandas stores a frame's index in Parquet: read back as the index, it was dropped by
    every output (written without one), losing the sample IDs."""
    path = tmp_path / "indexed.parquet"
    lepr.set_index(index).to_parquet(path)
    table = read_table(path)
    pd.testing.assert_frame_equal(table[lepr.columns], lepr)
    sliced = tmp_path / "sliced.parquet"  # an unnamed range index (rows 10-19) is no data: left as it is
    lepr.iloc[10:20].to_parquet(sliced)
    assert list(read_table(sliced).columns) == list(lepr.columns)


def test_a_table_too_long_for_excel_is_refused_before_writing(lepr, tmp_path, monkeypatch):
    import minml.io
    from minml.cli import main

    monkeypatch.setitem(
        minml.io.FORMATS, ".xlsx", dataclasses.replace(minml.io.FORMATS[".xlsx"], max_rows=50)
    )  # 76 rows and a header, as 1,048,576 would be
    with pytest.raises(
        ValueError,
        match=r"76 rows do not fit an Excel sheet \(50 rows, the header's included\): "
        r"write big.csv or .parquet instead",
    ):
        write_table(lepr, tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()
    import minml.classifier.predict

    monkeypatch.setattr(
        minml.classifier.predict, "classify", lambda *a, **k: pytest.fail("classified a table it cannot write")
    )
    assert main(["classify", str(EXAMPLE), "-o", str(tmp_path / "big.xlsx")]) == 2
    assert write_table(lepr.head(49), tmp_path / "fits.xlsx").exists()


def test_text_beginning_with_an_equals_sign_stays_text_in_excel_output(lepr, tmp_path):
    """openpyxl stores a str beginning with '=' as a formula: a comment '=see note 3' became a
    formula in the output workbook (read back as empty: no value saved), and a cell such as
    '=HYPERLINK(...)' a live one."""
    import openpyxl

    table = lepr.head(3).assign(comment=["=see note 3", "plain", '=HYPERLINK("http://x")'])
    table = table.rename(columns={"method": "=method"})
    path = write_table(table, tmp_path / "t.xlsx")
    pd.testing.assert_frame_equal(read_table(path), table)
    book = openpyxl.load_workbook(path)
    assert not any(cell.data_type == "f" for row in book.active.iter_rows() for cell in row)
    book.close()


def test_excel_output_writes_what_pandas_wrote_and_text_excel_cannot_store(lepr, tmp_path, capsys):
    """The writer streams rows (openpyxl write-only, twice as fast as DataFrame.to_excel):
    every kind of column comes back as pandas' writer wrote it; control characters (a line
    break pasted from Word, \\x0b) failed the whole write with IllegalCharacterError."""
    import datetime
    import decimal

    import openpyxl

    table = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [1.5, np.nan, 2.25],
            "f32": np.array([0.1, 0.2, np.nan], dtype="float32"),
            "inf": [np.inf, -np.inf, 1.0],
            "oinf": [np.inf, "x", None],  # openpyxl dropped infinity: text, as pandas
            "b": [True, False, True],
            "I": pd.array([1, None, 3], dtype="Int64"),
            "s": pd.array(["a", None, "b"], dtype="string"),
            "c": pd.Categorical(["ol", None, "cpx"]),
            "o": [1.5, "bdl", None],
            "d": pd.to_datetime(["2020-01-01", None, "2021-05-03 10:00"], format="ISO8601"),
            "dec": [decimal.Decimal("1.25"), None, decimal.Decimal("3")],
            "date": [datetime.date(2020, 1, 1), None, None],
        }
    )
    ours, theirs = write_table(table, tmp_path / "ours.xlsx"), tmp_path / "pandas.xlsx"
    table.to_excel(theirs, index=False)
    cells = [
        [list(row) for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
        for path in (ours, theirs)
    ]
    assert cells[0] == cells[1]
    assert openpyxl.load_workbook(ours).active["A1"].font.b  # names in bold, as pandas wrote them
    pasted = lepr.head(3).assign(note=["ok", "line\x0bbreak", "bell\x07"])
    with pytest.warns(UserWarning, match=r"columns \['note'\] held control characters .* written as spaces"):
        path = write_table(pasted, tmp_path / "pasted.xlsx")
    assert read_table(path)["note"].tolist() == ["ok", "line break", "bell "]
    write_table(lepr, tmp_path / "bar.xlsx", progress=True)  # a bar on stderr while rows are written
    assert "writing bar.xlsx" in capsys.readouterr().err


def _zoo():
    """Cells that an Excel writer can get wrong."""
    return pd.DataFrame(
        {
            "s": [
                "",
                "   ",
                " x",
                "x ",
                "a&b<c>d",
                "=SUM(A1)",
                "#N/A",
                "#DIV/0!",
                "°C µm",
                "two\nlines",
                "tab\there",
                "cr\rhere",
                'quote"s',
                "it's",
                "\u2028sep",
                "emoji \U0001f642",
            ],
            "n": [
                0.0,
                -0.0,
                1e-20,
                1e300,
                0.1 + 0.2,
                45.86000061,
                np.nan,
                np.inf,
                -np.inf,
                2.5,
                1 / 3,
                1e16,
                123456789.123,
                -5.0,
                7,
                8,
            ],
            "i": [0, 1, -1, 2**53, 2**53 + 1, -(2**60), 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
            "b": [True, False] * 8,
            "o": [None, "x", 1.5, 2, True, "", None, "y", 3.25, None, "=1", "#REF!", 1e-7, "z", None, 0],
        }
    )


@pytest.mark.parametrize("which", ["classified", "zoo"])
def test_excel_rows_rendered_as_openpyxl_renders_them(lepr, tmp_path, monkeypatch, which):
    """The fast Excel writer renders the sheet's rows itself: byte for byte the XML openpyxl's
    write-only mode writes for the same cells, every part of the file the same (but the
    creation time), so that Excel reads what it reads from openpyxl; rows go a step at a time
    (7 here), numbered on across the steps."""
    import zipfile

    import minml.io
    from minml import classify
    from minml.io._xlsx import _excel_cells, _write_sheet_openpyxl

    table = pd.concat([lepr, classify(lepr)], axis=1) if which == "classified" else _zoo()
    header = [str(name) for name in table.columns]
    columns = [_excel_cells(table[name], name, lambda value: value) for name in table.columns]
    monkeypatch.setattr(minml.io._xlsx, "_EXCEL_ROWS_PER_STEP", 7)
    assert minml.io._xlsx._numbers_and_text(table)  # the rendered route
    write_table(table, tmp_path / "rendered.xlsx")
    _write_sheet_openpyxl(header, iter([columns]), len(table), tmp_path / "openpyxl.xlsx", False)
    parts = []
    for path in (tmp_path / "rendered.xlsx", tmp_path / "openpyxl.xlsx"):
        with zipfile.ZipFile(path) as book:
            parts.append(
                {info.filename: book.read(info) for info in book.infolist() if info.filename != "docProps/core.xml"}
            )
    assert parts[0] == parts[1]
    assert len(parts[0]["xl/worksheets/sheet1.xml"]) > 1000


def test_excel_output_keeps_text_as_text_and_says_what_it_cannot_hold(tmp_path):
    """openpyxl stored the text "#N/A" as an error cell (read back empty), wrote integers
    beyond 2**53 with their last digits lost, and cut text past 32,767 characters silently."""
    import openpyxl

    zoo = _zoo()
    back = read_table(write_table(zoo, tmp_path / "zoo.xlsx"))
    assert back["o"].tolist()[10:12] == ["=1", "#REF!"]
    assert back["i"].astype(str).tolist()[3:6] == [str(2**53), str(2**53 + 1), str(-(2**60))]
    assert [float(v) for v in back["n"].tolist()[7:9]] == [np.inf, -np.inf]  # written as text, read back
    cells = openpyxl.load_workbook(tmp_path / "zoo.xlsx").active
    assert not any(cell.data_type in ("e", "f") for row in cells.iter_rows() for cell in row)
    # as stored ('#N/A' is text in the file; pandas, reading it, takes it for missing)
    assert [row[0] for row in cells.iter_rows(min_row=6, max_row=9, values_only=True)] == [
        "a&b<c>d",
        "=SUM(A1)",
        "#N/A",
        "#DIV/0!",
    ]
    long = pd.DataFrame({"note": ["x" * 40_000], "SiO2": [40.0]})
    with pytest.warns(UserWarning, match=r"columns \['note'\] held text longer than an Excel cell's 32,767"):
        back = read_table(write_table(long, tmp_path / "long.xlsx"))
    assert len(back["note"][0]) == 32_767


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_an_index_that_says_something_is_written(lepr, tmp_path, suffix):
    """write_table dropped every index: sample names kept in the index (set_index, or a
    table built in Python) were lost from the file, in every format."""
    table = lepr.head(4)
    named = read_table(write_table(table.set_index("entity_id"), tmp_path / f"named{suffix}"))
    assert list(named.columns) == list(table.columns)
    labels = read_table(write_table(table.set_axis(["s1", "s2", "s3", "s4"]), tmp_path / f"labels{suffix}"))
    assert list(labels.columns) == ["index", *table.columns] and labels["index"].tolist() == ["s1", "s2", "s3", "s4"]
    levels = read_table(write_table(table.set_index(["entity_id", "Mineral"]), tmp_path / f"levels{suffix}"))
    assert list(levels.columns) == list(table.columns)
    # row positions (a filtered table) and an index repeating its column are not written
    assert list(read_table(write_table(table.iloc[[1, 3]], tmp_path / f"rows{suffix}")).columns) == list(table.columns)
    repeated = table.set_index("Mineral", drop=False)
    assert list(read_table(write_table(repeated, tmp_path / f"repeated{suffix}")).columns) == list(table.columns)
    with pytest.raises(ValueError, match=r"index is named 'Mineral', as one of its columns is.*rename_axis"):
        write_table(table.set_axis(pd.Index(["a", "b", "c", "d"], name="Mineral")), tmp_path / f"clash{suffix}")


def test_workbooks_read_alike_with_calamine_and_without(lepr, tmp_path, monkeypatch):
    """calamine reads workbooks (ten times faster); where it is missing, openpyxl reads the
    same table; either way pandas is told which, so it has no engine warning to give."""
    import importlib.util

    from minml.io._excel import _excel_reader

    path = write_table(lepr, tmp_path / "t.xlsx")
    assert _excel_reader() == "calamine"
    fast = read_table(path)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "python_calamine" else real(name, *a)
    )
    assert _excel_reader() == "openpyxl"
    pd.testing.assert_frame_equal(read_table(path), fast)


def test_identifiers_keep_their_leading_zeros(tmp_path):
    """pandas read sample IDs 007 and 0123 as the numbers 7 and 123 (and long ones as floats),
    and the outputs wrote them so; the CSV route without pandas kept them."""
    from minml.cli import main

    path = tmp_path / "ids.csv"
    path.write_text(
        "Sample,SiO2,MgO,FeOt,T,Spot,Spot\n007,40.1,48.0,10.2,1200,1,1\n0123,39.8,45.0,14.0,1250,2,02\n"
        "12345678901234567890,40.0,47.0,12.0,1300,3,3\n"
    )
    table = read_table(path)
    assert table["Sample"].tolist() == ["007", "0123", "12345678901234567890"]
    assert table["Spot.1"].tolist() == ["1", "02", "3"] and table["Spot"].tolist() == [1, 2, 3]
    assert table["T"].dtype.kind == "i" and table["SiO2"].dtype.kind == "f"  # numbers stay numbers
    titled = tmp_path / "titled.csv"  # --header-row takes the pandas route in the command too
    titled.write_text("Table 1\n" + path.read_text().replace(",Spot,Spot", ",Spot,Spot2"))
    out = tmp_path / "out.csv"
    assert main(["classify", str(titled), "--header-row", "2", "--fill-missing", "0", "-o", str(out)]) == 0
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == [
        '"007"',
        '"0123"',
        '"12345678901234567890"',
    ]


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
    with pytest.raises(ValueError, match=r"sheet= applies to Excel files \(.xlsx, .xlsm, .xls\) only"):
        read_table(EXAMPLE, sheet="Sheet1")
    with pytest.raises(ValueError, match="use .csv, .tsv, .xlsx or .parquet"):
        write_table(pd.DataFrame(), tmp_path / "x.json")


def _windows_csv(path):
    """The example as Excel on Windows saves 'CSV': cp1252, with the run temperature
    written 1200°C in a text column (row 3, so line 4 of the file)."""
    table = pd.read_csv(EXAMPLE)
    table.insert(1, "run", [f"run {i}" for i in range(len(table))])
    table.loc[2, "run"] = "1200°C"
    path.write_bytes(table.to_csv(index=False).encode("cp1252"))
    return path, table


def test_csv_not_in_utf8_is_read_as_cp1252_with_a_warning_naming_its_line(tmp_path):
    path, table = _windows_csv(tmp_path / "windows.csv")
    with pytest.warns(
        UserWarning, match=r"'windows.csv' is not UTF-8 text: byte 0xb0 on line 4 \('59740,1200°C,.*read as cp1252"
    ):
        pd.testing.assert_frame_equal(read_table(path), table)
    read = read_table(path, encoding="cp1252")  # encoding= stays an override, with no warning
    pd.testing.assert_frame_equal(read, table)
    assert read.loc[2, "run"] == "1200°C"
    pd.testing.assert_frame_equal(read_table(path, encoding="windows-1252"), table)  # any name Python knows
    with pytest.raises(ValueError, match="'windows.csv' is not ascii text"):
        read_table(path, encoding="ascii")
    with pytest.raises(ValueError, match="Unknown encoding 'latin-9x'"):
        read_table(path, encoding="latin-9x")
    parquet = write_table(table, tmp_path / "t.parquet")
    with pytest.raises(
        ValueError, match=r"encoding= applies to CSV files \(.csv, .tsv, .txt\) only; 't.parquet' is Parquet"
    ):
        read_table(parquet, encoding="cp1252")


def test_excel_unicode_text_is_read_by_its_byte_order_mark(lepr, tmp_path):
    """Excel's "Unicode Text" export is UTF-16 (with its mark) and tab-separated: refused as
    "not UTF-8", with a hint to try cp1252 that would have read NUL bytes."""
    from minml.io import bom_for

    path = tmp_path / "unicode.txt"
    path.write_text(lepr.to_csv(index=False, sep="\t"), encoding="utf-16")
    pd.testing.assert_frame_equal(read_table(path), lepr)
    assert bom_for(path)  # its output is for Excel again


def test_utf8_default_reads_a_byte_order_mark_and_names_an_empty_file(lepr, tmp_path):
    marked = tmp_path / "excel_utf8.csv"
    marked.write_bytes(lepr.to_csv(index=False).encode("utf-8-sig"))
    pd.testing.assert_frame_equal(read_table(marked), lepr)
    pd.testing.assert_frame_equal(read_table(marked, encoding="utf-8"), lepr)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="'empty.csv' is empty: not even a header row"):
        read_table(empty)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(lepr.head(3).to_csv(index=False) + "1,2,3" + ",4" * len(lepr.columns) + "\n")
    with pytest.raises(
        ValueError,
        match=rf"'ragged.csv' is not one table of rows as long as its header: Expected "
        rf"{len(lepr.columns)} fields in line 5, saw {len(lepr.columns) + 3}\. "
        r"Separator read as ','\.",
    ):
        read_table(ragged)


def supplementary_table(folder, suffix):
    """The example as journals' supplementary tables come: a title in row 1, row 2 blank,
    the column names in row 3."""
    table = pd.read_csv(EXAMPLE)
    title = "Table S3. Electron microprobe analyses of run products (wt%)"
    path = folder / f"supplement{suffix}"
    if suffix == ".xlsx":
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame([[title]]).to_excel(writer, sheet_name="S3", index=False, header=False)
            table.to_excel(writer, sheet_name="S3", index=False, startrow=2)
            table.head(4).to_excel(writer, sheet_name="plain", index=False)
    else:
        path.write_text(f"{title}\n\n" + table.to_csv(index=False), encoding="utf-8")
    return path, table


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_column_names_below_a_title_are_found_and_asked_for(tmp_path, suffix):
    path, table = supplementary_table(tmp_path, suffix)
    sheet = ", sheet 'S3'" if suffix == ".xlsx" else ""
    message = (
        f"'supplement{suffix}'{sheet}: row 1 holds no oxide names but row 3 does \\(SiO2, TiO2, Al2O3, Cr2O3, "
        r"FeOt, ...\): if the column names are there, pass header_row=3\."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbook's two sheets
        with pytest.raises(ValueError, match=message):
            read_table(path)
    options = {"sheet": "S3"} if suffix == ".xlsx" else {}
    pd.testing.assert_frame_equal(read_table(path, header_row=3, **options), table, check_dtype=False)
    if suffix == ".xlsx":
        with pytest.warns(UserWarning, match=r"sheet 'S3': column names found on row 3; the 2 rows above them"):
            stacked = read_table(path, sheet="all")
        assert stacked["sheet"].tolist() == ["S3"] * len(table) + ["plain"] * 4
        assert len(read_table(path, sheet="plain")) == 4  # names in row 1: read as always


def test_header_row_must_count_from_one(tmp_path):
    for bad in (0, -2, 2.0, "3", True):
        with pytest.raises(ValueError, match=r"header_row counts rows from 1 \(as a spreadsheet shows them\), got"):
            read_table(EXAMPLE, header_row=bad)
    parquet = write_table(pd.read_csv(EXAMPLE), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="header_row= applies to CSV and Excel files .* only; 't.parquet' is Parquet"):
        read_table(parquet, header_row=2)
    pd.testing.assert_frame_equal(read_table(EXAMPLE, header_row=1), pd.read_csv(EXAMPLE))
    # past the last row: said so (a CSV file was called "empty", a sheet read as no columns)
    with pytest.raises(ValueError, match=r"'lepr_sample.csv' has no row 1000 to read column names from"):
        read_table(EXAMPLE, header_row=1000)
    book = write_table(pd.read_csv(EXAMPLE), tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match=r"'t.xlsx' has no row 1000 to read column names from"):
        read_table(book, header_row=1000)


def test_a_sheet_named_by_a_number_is_read_by_its_name(lepr, tmp_path):
    """--sheet 2023 reaches the API as the number 2023: a workbook of yearly sheets was refused
    with 'no sheet number 2023'. A name that is a number wins over a position."""
    from minml.cli import main

    path = tmp_path / "years.xlsx"
    with pd.ExcelWriter(path) as writer:
        lepr.head(3).to_excel(writer, sheet_name="2021", index=False)
        lepr.tail(5).to_excel(writer, sheet_name="2023", index=False)
    assert len(read_table(path, sheet=2023)) == 5 and len(read_table(path, sheet=1)) == 5
    assert len(read_table(path, sheet=0)) == 3
    assert main(["check", str(path), "--sheet", "2023"]) == 0


def test_csv_output_carries_a_byte_order_mark_for_excel(lepr, tmp_path):
    from minml.io import bom_for

    windows, _ = _windows_csv(tmp_path / "windows.csv")
    marked = tmp_path / "excel_utf8.csv"
    marked.write_bytes(lepr.to_csv(index=False).encode("utf-8-sig"))
    workbook = write_table(lepr, tmp_path / "book.xlsx")
    parquet = write_table(lepr, tmp_path / "t.parquet")
    assert [bom_for(EXAMPLE), bom_for(marked), bom_for(windows, "cp1252"), bom_for(workbook), bom_for(parquet)] == [
        False,
        True,
        True,
        True,
        False,
    ]
    for bom in (False, True):
        path = write_table(lepr, tmp_path / f"out_{bom}.csv", bom=bom)
        assert path.read_bytes().startswith(b"\xef\xbb\xbf") == bom
        pd.testing.assert_frame_equal(read_table(path), lepr)
    mixed = lepr.assign(note=[1.5, "text"] * (len(lepr) // 2))  # pandas writes what pyarrow cannot type
    assert write_table(mixed, tmp_path / "mixed.csv", bom=True).read_bytes().startswith(b"\xef\xbb\xbf")


def test_outputs_are_checked_before_writing(lepr, tmp_path):
    from minml.io import writable_path

    with pytest.raises(ValueError, match="there is no folder .*nowhere'; create it first"):
        write_table(lepr, tmp_path / "nowhere" / "t.csv")
    with pytest.raises(ValueError, match="it is a folder; give a file name"):
        writable_path(tmp_path)
    with pytest.raises(ValueError, match="use .csv, .tsv, .xlsx or .parquet"):
        writable_path(tmp_path / "t.json")
    assert writable_path(tmp_path / "figure.png", table=False) == tmp_path / "figure.png"
    assert list(tmp_path.iterdir()) == []  # nothing written on the way


def test_a_read_only_folder_is_refused_before_the_work(lepr, tmp_path, monkeypatch):
    """The default output goes beside the input: an input in a read-only folder (shared data)
    raised PermissionError after the work, as a traceback. Access is asked of the system
    (faked here: root, as CI runs, may write anywhere)."""
    import os

    from minml.cli import main
    from minml.io import writable_path

    locked = tmp_path / "shared"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == locked else real_access(path, mode))
    with pytest.raises(ValueError, match=r"shared/t.csv': its folder is read-only here; write to another folder"):
        writable_path(locked / "t.csv")
    source = locked / "input.csv"
    lepr.to_csv(source, index=False)
    assert main(["classify", str(source)]) == 2  # the default output, beside the input
    assert main(["classify", str(source), "-o", str(tmp_path / "out.csv")]) == 0


def test_csv_written_in_pieces_is_one_table(lepr, tmp_path, monkeypatch):
    import minml.io
    from minml import classify

    table = pd.concat([lepr, classify(lepr)], axis=1)  # numbers, text, categories, blanks
    whole = write_table(table, tmp_path / "whole.csv").read_bytes()
    monkeypatch.setattr(minml.io._csv_arrow, "_CSV_PIECE", 7)  # 76 rows: 11 pieces on several threads
    pieces = write_table(table, tmp_path / "pieces.csv")
    assert pieces.read_bytes() == whole
    assert whole.count(b"\n") == len(table) + 1 and whole.startswith(b'"entity_id","Mineral"')
    back = read_table(pieces)
    assert back["mineral"].tolist() == table["mineral"].astype(str).tolist()
    pd.testing.assert_frame_equal(back[lepr.columns], lepr, check_dtype=False)
    # no rows: the header alone
    assert write_table(table.iloc[:0], tmp_path / "empty.csv").read_text().count("\n") == 1


def test_one_table_of_formats_gives_the_choices_and_the_messages(tmp_path, monkeypatch):
    """A format is one entry of minml.io.FORMATS: read_table, write_table and writable_path
    take it from there, and the refusals list its keys."""
    import minml.io

    table = pd.read_csv(EXAMPLE).head(4)
    with pytest.raises(ValueError, match=r"unknown extension '.dat'\. Use one of \['.csv', '.parquet', '.pq'"):
        (tmp_path / "probe.dat").write_text("SiO2\n1\n")
        read_table(tmp_path / "probe.dat")
    with pytest.raises(ValueError, match=r"Cannot write 'out.DAT': use .csv, .tsv, .xlsx or .parquet\."):
        write_table(table, tmp_path / "out.DAT")
    monkeypatch.setitem(minml.io.FORMATS, ".dat", minml.io.FORMATS[".tsv"])  # e.g. an instrument's text export
    written = write_table(table, tmp_path / "out.DAT")
    assert written.read_text().splitlines()[0].replace('"', "").split("\t") == list(table.columns)  # tabs
    pd.testing.assert_frame_equal(read_table(written), table)
    with pytest.raises(ValueError, match=r"An extension starts with a dot"):
        minml.io.register("dat", minml.io.FORMATS[".csv"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_dates_with_a_time_zone_come_back_as_the_same_instant(lepr, tmp_path, suffix, capsys):
    """A Parquet table with a zoned timestamp column classified into every format: Excel holds
    no time zone, so the dates go as ISO text with their offset (openpyxl raised a TypeError)."""
    when = pd.Series(pd.date_range("2024-01-01 09:30", periods=6, freq="7h", tz="Europe/Paris"))
    when[2] = pd.NaT
    table = lepr.head(6).reset_index(drop=True).assign(when=when)
    source = tmp_path / "in.parquet"
    table.to_parquet(source)
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    said = capsys.readouterr().err
    assert ("['when'] hold dates with a time zone" in said) == (suffix == ".xlsx"), said
    back = read_table(out)
    assert list(back.columns[: len(table.columns)]) == list(table.columns)
    instants = pd.to_datetime(back["when"], utc=True, format="ISO8601")
    pd.testing.assert_series_equal(instants, when.dt.tz_convert("UTC"), check_names=False, check_dtype=False)
    assert back["mineral"].tolist() == classify(lepr.head(6))["mineral"].tolist()
    # zoned dates among text in one column (a table built in Python)
    logged = pd.Series([t if i % 2 else "by hand" for i, t in enumerate(when.dt.tz_convert("UTC"))], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the xlsx note, and Parquet's note on a column of mixed types
        path = write_table(table.assign(logged=logged), tmp_path / f"mixed{suffix}")
    back = read_table(path)
    assert back["logged"][0] == "by hand" and pd.Timestamp(back["logged"][1]) == when[1]


def test_a_time_of_day_with_a_zone_goes_to_excel_as_text(tmp_path, lepr):
    import datetime

    table = lepr.head(2).assign(at=[datetime.time(9, 30, tzinfo=datetime.UTC), None])
    with pytest.warns(UserWarning, match=r"\['at'\] hold dates with a time zone"):
        path = write_table(table, tmp_path / "times.xlsx")  # openpyxl raised a TypeError
    assert read_table(path)["at"][0] == "09:30:00+00:00"
