"""Oxides spelt with a digit for the letter it looks like (``Fe0T``, ``Na20``, ``A12O3``), as a
second user trial found them: a compilation with total iron misspelt in some rows, minor oxides
left unread while the model completed them, iron as ``Fe203`` alone read as 0 on the advice of
the refusal, and where a table says that it has no column for an oxide."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, classify, read_table
from minml.cli import main

ROOT = Path(__file__).resolve().parents[1]
OXIDES = ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MnO", "MgO", "NiO", "CaO", "Na2O", "K2O", "P2O5"]


@pytest.fixture(scope="module")
def lepr(shared_data):
    """Twelve good LEPR analyses of silicates (amphibole, biotite, clinopyroxene, garnet, ...), as
    published, each with the major oxides and Na2O analysed."""
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", usecols=["entity_id", "Mineral", *OXIDES])
    majors = table[["SiO2", "Al2O3", "FeOt", "MgO", "CaO", "Na2O"]].gt(0.1).all(axis=1)
    good = table[check_oxides(table).ok.to_numpy() & majors.to_numpy()]
    return good.groupby("Mineral").head(2).head(12).reset_index(drop=True)


def _written(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``table`` written to ``path`` and read back as every command reads it."""
    table.to_csv(path, index=False)
    return read_table(path)


# 1. a compilation whose iron is under the right name in some rows and misspelt in the others


@pytest.mark.parametrize(
    ("right", "wrong", "species", "rename"),
    [
        ("FeOT", "Fe0T", "FeOt", r"Rename 'Fe0T' to 'FeOt' in the table's header\."),
        # 'FeO' is taken: another spelling of FeO, read with it (a header naming a column twice is refused)
        (
            "FeO",
            "Fe0",
            "FeO (wt%)",
            r"Rename 'Fe0' to 'FeO \(wt%\)' in the table's header \('FeO' names a column already: the columns "
            r"of one species are read as one, merged row by row\)\.",
        ),
    ],
)
def test_a_compilation_with_iron_misspelt_in_some_rows_is_refused_by_every_reader(
    lepr, tmp_path, capsys, right, wrong, species, rename
):
    half = lepr.index < 6
    table = lepr.drop(columns="FeOt").assign(**{right: lepr["FeOt"].where(half), wrong: lepr["FeOt"].where(~half)})
    path = tmp_path / "compilation.csv"
    read = _written(table, path)
    with pytest.raises(
        ValueError,
        match=rf"^Column '{wrong}' not read: it spells {species.split()[0]} with the digit 0 for the letter O\. Iron is read "
        rf"from '{right}' only, so rows whose iron is in '{wrong}' \(6 of 12\) would be read without it\.\n{rename}$",
    ):
        check_oxides(read)
    with pytest.raises(ValueError, match=rename):  # filling would not read it either
        classify(read, fill_missing=0.0)
    assert main(["classify", str(path), "-o", str(tmp_path / "out.csv")]) == 2  # the command's own reader
    assert re.search(rename, capsys.readouterr().err)
    # the rename, followed, merges the two columns: every row's iron is read
    checked = check_oxides(read.rename(columns={wrong: species}))
    np.testing.assert_allclose(checked.oxides["FeOt"], lepr["FeOt"])
    assert (checked.flags["flag"] == "").all()


# 2. an oxide spelt with a digit for a letter, major or minor, is never left unread


@pytest.mark.parametrize(
    ("species", "column"),
    [
        ("Na2O", "Na20"),
        ("K2O", "K20"),
        ("MgO", "Mg0"),
        ("CaO", "Ca0"),
        ("TiO2", "Ti02"),
        ("MnO", "Mn0"),
        ("Cr2O3", "Cr203"),
        ("P2O5", "P205"),
        ("NiO", "Ni0"),
        ("Al2O3", "A12O3"),  # the digit 1 for the letter l
        ("Al2O3", "A1203"),
        ("SiO2", "Si02"),
    ],
)
def test_an_oxide_spelt_with_a_digit_for_a_letter_is_refused_naming_the_rename(lepr, tmp_path, species, column):
    table = _written(lepr.rename(columns={species: column}), tmp_path / "table.csv")
    checked = check_oxides(table)  # the check shows the near miss, and what classify makes of it
    assert checked.mapping.hints == {column: species}
    read = checked.columns_read().set_index("column")
    assert read.loc[column, "how"].startswith(f"did you mean '{species}'? Spelt with the digit")
    assert read.loc[column, "how"].endswith("never read: classify refuses the table until it is renamed")
    refusal = (
        rf"Missing: \['{species}'\]; the table has '{column}', which looks like {species} but is not read as it\.\n"
        rf"Rename '{column}' to '{species}' in the table's header"
    )
    for fill in (None, 0.0):  # completed from the class, or filled: either leaves the measured column unread
        with pytest.raises(ValueError, match=refusal):
            classify(table, fill_missing=fill)


def test_the_rename_followed_reads_the_measured_minor_oxides(lepr, tmp_path, capsys):
    path = tmp_path / "na20.csv"
    table = _written(lepr.rename(columns={"Na2O": "Na20", "K2O": "K20"}), path)
    assert main(["classify", str(path), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "Rename 'Na20' to 'Na2O', 'K20' to 'K2O' in the table's header" in err
    assert "--fill-missing 0.0" not in err
    renamed = classify(table.rename(columns={"Na20": "Na2O", "K20": "K2O"}))
    pd.testing.assert_frame_equal(renamed, classify(lepr))


def test_beside_its_column_holding_values_a_lookalike_is_a_note_only(lepr):
    table = lepr.assign(Na20=lepr["Na2O"])
    checked = check_oxides(table)
    assert "Na20" not in checked.mapping.hints
    assert checked.mapping.notes["Na20"] == (
        "Na2O spelt with the digit 0 for the letter O, not read: Na2O is read from 'Na2O', which holds a value "
        "in every row this column does"
    )
    pd.testing.assert_frame_equal(classify(table)[["mineral"]], classify(lepr)[["mineral"]])
    # where it holds the oxide in rows the right column leaves empty, those rows would lose it: refused
    half = lepr.index < 6
    split = lepr.assign(Na2O=lepr["Na2O"].where(half), Na20=lepr["Na2O"].where(~half))
    with pytest.raises(
        ValueError,
        match=r"Na2O is read from 'Na2O' only, so rows whose Na2O is in 'Na20' \(6 of 12\) would be read without "
        r"it\.\nRename 'Na20' to 'Na2O \(wt%\)' in the table's header \('Na2O' names a column already",
    ):
        check_oxides(split)
    renamed = check_oxides(split.rename(columns={"Na20": "Na2O (wt%)"}))  # the advice, followed
    np.testing.assert_allclose(renamed.oxides["Na2O"], lepr["Na2O"])


# 3. iron in a misspelt column alone: the advice names the rename only, and it works


@pytest.mark.parametrize(("column", "species", "factor"), [("Fe203", "Fe2O3", 1 / 0.8998), ("Fe0", "FeO", 1.0)])
def test_iron_in_a_misspelt_column_alone_is_refused_naming_only_the_rename(
    lepr, tmp_path, capsys, column, species, factor
):
    path = tmp_path / "iron.csv"
    table = _written(lepr.drop(columns="FeOt").assign(**{column: (lepr["FeOt"] * factor).round(2)}), path)
    out = tmp_path / "out.csv"
    assert main(["classify", str(path), "--fill-missing", "0.0", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Rename '{column}' to '{species}' in the table's header" in err
    assert "pass --fill-missing" not in err and not out.exists()
    with pytest.raises(ValueError, match=rf"Missing: \['FeOt'\]; the table has '{column}', which looks like {species}"):
        classify(table)
    checked = check_oxides(table.rename(columns={column: species}))
    np.testing.assert_allclose(checked.oxides["FeOt"], lepr["FeOt"], atol=0.006)


# 4. an oxide without a column is named once, not in each row's notes


def test_an_oxide_without_a_column_is_named_once_and_the_docs_say_where(lepr, tmp_path, capsys):
    path = tmp_path / "no_na2o.csv"
    lepr.drop(columns=["Na2O", "P2O5"]).to_csv(path, index=False)
    out = tmp_path / "checked.csv"
    assert main(["check", str(path), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("Na2O", "P2O5"):
        assert re.search(rf"\(no column\) -> {name}\s+\(no column: classify reads it as not analysed\)", printed)
    notes = pd.read_csv(out, keep_default_na=False)["notes"]
    assert not notes.str.contains("Na2O|P2O5|no column").any()  # a table's fact, said once
    docs = (ROOT / "docs" / "tables_as_they_come.md").read_text(encoding="utf-8")
    absent = docs.split("## Absent columns", 1)[1].split("##", 1)[0]
    assert "each row's notes say so" not in absent
    assert re.search(r"rows'\s+`notes`.*do not repeat it", absent, re.DOTALL)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_check_and_every_route_say_the_same_of_a_lookalike_column(lepr, tmp_path, capsys, suffix):
    """`minml check` said "classify reads it as not analysed" of Na2O beside a column 'Na20';
    classify refuses it, from CSV to CSV (Arrow) as from a workbook (pandas)."""
    table = lepr.rename(columns={"Na2O": "Na20"})
    source = tmp_path / f"na20{suffix}"
    table.to_csv(source, index=False) if suffix == ".csv" else table.to_excel(source, index=False)
    assert main(["check", str(source)]) == 0
    assert "classify refuses until 'Na20' is renamed Na2O" in capsys.readouterr().out
    assert main(["classify", str(source), "-o", str(tmp_path / "out.csv")]) == 2
    assert "Na20" in capsys.readouterr().err and not (tmp_path / "out.csv").exists()
