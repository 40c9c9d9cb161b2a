"""Arguments of the ``minml`` command that can be checked before the work are checked first,
and a refused run writes nothing; what an argument means is said in its help and its refusal."""

import numpy as np
import pandas as pd
import pytest

from minml.cli import main

from .conftest import EXAMPLE, ROOT

DEMO_MAP = ROOT / "examples" / "demo_map.npz"


def test_map_index_is_read_in_any_case(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert main(["map", str(DEMO_MAP), "-o", str(out), "--index", "fo", "--index-phase", "ol"]) == 0
    assert "index_Fo.png" in capsys.readouterr().out
    assert (out / "index_Fo.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--index", "Fo", "--index-phase", "cpx"],
            "'Fo' is no index of clinopyroxene; give --index-phase one of the classes with it (olivine)",
        ),
        (["--index", "Fo", "--index-phase", "olivene"], "--index-phase 'olivene' names no mineral class"),
        (["--index-phase", "olivine"], "give the index too, e.g. --index Fo"),
    ],
)
def test_map_index_phase_is_refused_before_the_map_is_read(tmp_path, capsys, options, message):
    pytest.importorskip("matplotlib")
    missing = tmp_path / "missing.npz"  # never read: the refusal comes first
    assert main(["map", str(missing), "-o", str(tmp_path / "out"), *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minml map: error: ") and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_map_unknown_index_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["map", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "out"), "--index", "Forsterite"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --index: 'Forsterite' is no index of minerals.toml; give one of: " in err
    assert "Fo, Fs" in err and "Mg_number" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--profile", "0,0,500,500"],
            "--profile point (500, 500) lies outside the map of 128 x 128 pixels; give x (column) from 0 to 127",
        ),
        (["--profile=-1,0,10,10"], "--profile point (-1, 0) lies outside the map"),
        (["--index", "prp"], "No phase of the map has index Prp (it is an index of garnet;"),
        (
            ["--index", "An", "--index-phase", "kfs"],
            "The map has no pixel of k-feldspar: its An map would be empty. Of the phases with 'An', one the map "
            "holds: plagioclase; give --index-phase one of them",
        ),
    ],
)
def test_map_refused_after_reading_leaves_no_outputs(tmp_path, capsys, options, message):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert main(["map", str(DEMO_MAP), "-o", str(out), *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minml map: error: ") and message in err, err
    assert not out.exists()  # no phase_map.png, modes.csv, ... of a refused run


def _workbook(path):
    """A workbook whose first sheet holds notes, its second the example's analyses."""
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"Note": ["analyses on the next sheet"]}).to_excel(book, sheet_name="Notes", index=False)
        pd.read_csv(EXAMPLE).to_excel(book, sheet_name="Analyses", index=False)
    return path


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_sheet_help_says_how_numbers_count(capsys):
    text = _help("check", capsys)
    assert (
        "a position counted from 0 (0 the first sheet, 1 the second, -1 the last; --header-row counts from 1)" in text
    )


def test_sheet_numbers_count_from_0_and_a_missing_one_lists_them(tmp_path, capsys):
    book = _workbook(tmp_path / "book.xlsx")
    assert main(["check", str(book), "--sheet", "1"]) == 0  # the second sheet: the analyses
    assert "Flagged rows: 12 of 76" in capsys.readouterr().out
    assert main(["check", str(book), "--sheet", "-1"]) == 0
    assert "Flagged rows: 12 of 76" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert main(["classify", str(book), "--sheet", "2", "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "minml classify: error: book.xlsx has no sheet number 2: --sheet counts sheets from 0 (-1 is the last), "
        "and its 2 sheets are 0 'Notes', 1 'Analyses'. Give one of these numbers, or the sheet's name.\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("option", ["--plot", "--plot-reconstruction"])
@pytest.mark.parametrize("suffix", [".jpg", ".pdf"])
def test_latent_figures_in_another_format_are_refused_before_any_work(tmp_path, capsys, option, suffix):
    pytest.importorskip("matplotlib")
    out = tmp_path / "placed.csv"
    figure = tmp_path / f"latent{suffix}"
    assert main(["latent", str(EXAMPLE), "-o", str(out), option, str(figure)]) == 2
    assert capsys.readouterr().err == (
        f"minml latent: error: {option} {figure}: figures are written as PNG and SVG (both, side by side), not as "
        f"{suffix}; name the file '{tmp_path / 'latent.png'}' (latent.svg is written beside it).\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_latent_figure_is_written_as_its_help_says(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    help_text = _help("latent", capsys)
    assert "written as PNG and SVG side by side: FILE ends in .png or .svg" in help_text
    assert main(["latent", str(EXAMPLE), "-o", str(tmp_path / "placed.csv"), "--plot", str(tmp_path / "l.svg")]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.png", "l.svg", "placed.csv"]
    assert (tmp_path / "l.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["report.pdf", "report"])
def test_validate_report_that_is_not_html_is_refused_before_any_work(tmp_path, capsys, name):
    pytest.importorskip("matplotlib")
    report = tmp_path / name
    assert main(["validate", str(EXAMPLE), "-o", str(tmp_path / "v.csv"), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"minml validate: error: --report {report}: the report is a self-contained HTML page")
    assert f"name it '{tmp_path / 'report.html'}'." in err
    assert list(tmp_path.iterdir()) == []


def _empty(table: pd.DataFrame) -> pd.Series:
    """The rows of the example with no oxide value (blank, or FeOt 0.0)."""
    return table.loc[:, "SiO2":"P2O5"].fillna(0.0).eq(0.0).all(axis=1)


def test_empty_rows_get_no_formula(tmp_path, capsys):
    table = pd.read_csv(EXAMPLE)
    empty = table.index[_empty(table)]
    assert len(empty) == 3  # the example's empty rows, labelled Apatite
    path = tmp_path / "olivine.csv"
    table.loc[[0, *empty]].to_csv(path, index=False)
    out = tmp_path / "formulas.csv"
    assert main(["formula", str(path), "--mineral", "olivine", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "1 of 4 formulas computed\n"
        "  far from their class's end-members (misfit above misfit_limit; see flag): 1 row\n"  # an amphibole
        "  iron: all Fe2+: 1 row\n  no formula: empty row: 3 rows\n"
    )
    written = pd.read_csv(out, keep_default_na=False)
    assert written["flag"].tolist()[1:] == ["no formula: empty row; empty row: no oxide values"] * 3
    assert written["fe3_method"].tolist()[1:] == [""] * 3 and written["cation_sum"].tolist()[1:] == [""] * 3
    assert main(["formula", str(EXAMPLE), "--mineral", "olivine", "-o", str(out)]) == 0
    assert "72 of 76 formulas computed" in capsys.readouterr().out  # the 3 empty rows and SiO2 146.6 wt%


def test_empty_rows_get_no_formula_from_the_api():
    import minml

    table = pd.read_csv(EXAMPLE)
    empty = _empty(table)
    result = minml.formula(table, "olivine")
    assert np.isnan(result.loc[empty, "cation_sum"]).all() and result.loc[empty, "fe3_method"].eq("").all()
    assert result.loc[empty, "mineral"].eq("").all()
    assert result.loc[empty, "flag"].eq("no formula: empty row; empty row: no oxide values").all()
    by_label = minml.formula(table, mineral_column="Mineral")  # labelled Apatite: still no formula
    assert by_label.loc[empty, "flag"].eq("no formula: empty row; empty row: no oxide values").all()
    assert (result.loc[~empty, "cation_sum"].notna()).sum() == 72
