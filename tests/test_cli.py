import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from minml import __version__
from minml.cli import main

from .conftest import DATA, EXAMPLE, ROOT, as_elements, two_phases


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"minml {__version__}"


def test_help_lists_commands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert "check FILE" in out and "data build" in out


def test_check_reports_mapping_iron_and_flags(capsys, tmp_path):
    out_path = tmp_path / "checked.parquet"
    assert main(["check", str(EXAMPLE), "-o", str(out_path)]) == 0
    out = capsys.readouterr().out
    assert "FeOt -> FeOt    (exact)" in out
    assert re.search(r"Iron \(rule used per row\):\n  FeOt +76 rows\n\n", out)
    assert "Flagged rows: 12 of 76" in out
    written = pd.read_parquet(out_path)
    assert {"entity_id", "SiO2", "FeOt", "iron_rule", "total", "notes", "flag"} <= set(written.columns)
    assert (written["flag"] != "").sum() == 12
    own = tmp_path / "own_flags.csv"  # a table with columns of the check's names: kept, the check's prefixed
    pd.read_csv(EXAMPLE).assign(flag="mine", notes="mine").to_csv(own, index=False)
    assert main(["check", str(own), "-o", str(out_path)]) == 0
    assert "(result columns prefixed check_: the input has some of the same names)" in capsys.readouterr().out
    again = pd.read_parquet(out_path)
    assert (again["flag"] == "mine").all() and again["check_flag"].tolist() == written["flag"].tolist()


def test_check_total_range_option(capsys):
    assert main(["check", str(EXAMPLE), "--total-range", "98", "102"]) == 0
    assert "total outside 98-102" in capsys.readouterr().out


def test_errors_are_one_clear_line(capsys, tmp_path):
    assert main(["check", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"minml check: error: No such file: '{tmp_path / 'missing.csv'}'"
    bad = tmp_path / "bad.csv"
    bad.write_text("Si02,Name\n50,a\n")
    assert main(["check", str(bad)]) == 2
    assert "did you mean 'SiO2'?" in capsys.readouterr().err


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
def test_output_cut_short_by_the_reader_is_no_error(unbuffered):
    """`minml check FILE | head -1` once the reader has left: stdout is a pipe nobody reads
    (set up before the command runs, so the outcome does not hang on timing)."""
    import os

    code = (
        "import os, sys; r, w = os.pipe(); os.close(r); os.dup2(w, 1); "
        "from minml.cli import main; sys.exit(main(['check', sys.argv[1]]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    done = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 141 and done.stderr == "", done.stderr


def test_data_build(capsys, tmp_path):
    assert main(["data", "build", "--source", str(DATA / "training"), "-o", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "rows read" in captured.out and "content sha256" in captured.out
    assert (tmp_path / "training.parquet").exists() and (tmp_path / "report.json").exists()
    # off a terminal the progress is a line now and then, not a bar redrawn on one line
    lines = [line.strip() for line in captured.err.splitlines() if line.strip()]
    files = len(list((DATA / "training").glob("*.xlsx")))
    assert lines[0].startswith(f"reading: 0/{files} file (")
    assert lines[-1].startswith(f"reading: {files}/{files} file (")
    assert all("\r" not in line for line in lines)


def test_installed_command_runs():
    result = subprocess.run(
        [sys.executable, "-m", "minml.cli", "check", str(EXAMPLE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Flagged rows" in result.stdout


# What `minml classify` on CSV or Parquet never needs, and would pay for in start-up time on
# every run (issue 24): pandas and the libraries of other commands and routes, pyarrow.compute
# (its import wraps ~300 functions), the modules of the other commands
_NOT_FOR_CLASSIFY = (
    "pandas",
    "scipy",
    "sklearn",
    "matplotlib",
    "dask",
    "distributed",
    "tqdm",
    "torch",
    "openpyxl",
    "python_calamine",
    "streamlit",
    "xml.etree",
    "pyarrow.compute",
    "pyarrow.dataset",
    "numpy.ma",  # 8 ms, imported by the first np.unique of numpy 2
    "minml.cli._maps",
    "minml.cli._training",
    "minml.cli._app",
    "minml.pipelines._jobs",
    "minml.maps",
    "minml.training",
    "minml.validation",
    "minml.unsupervised",
    "minml.plot",
    "minml.thermobar",
)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_classify_imports_only_what_it_needs(tmp_path, suffix):
    """A fresh ``minml classify`` process, its modules listed once it has run: none of the
    above (Parquet's reader only for a Parquet file)."""
    import json
    import os

    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        source.write_bytes(EXAMPLE.read_bytes())
    else:
        pd.read_csv(EXAMPLE).to_parquet(source, index=False)
    out = tmp_path / f"out{suffix}"
    code = (
        "import json, sys; from minml.cli import main; "
        f"status = main(['classify', {str(source)!r}, '-o', {str(out)!r}]); "
        "print(json.dumps([status, sorted(sys.modules)]))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    status, modules = json.loads(done.stdout.splitlines()[-1])
    unneeded = _NOT_FOR_CLASSIFY + (("pyarrow.parquet",) if suffix == ".csv" else ())
    assert status == 0 and {"numpy", "pyarrow", "minml.classifier.predict"} <= set(modules)
    assert [m for m in modules if m in unneeded or m.startswith(tuple(f"{u}." for u in unneeded))] == []
    assert len(pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)) == 76


def _openblas_after(code: str, env: dict) -> str:
    """The last line ``code`` prints in a fresh process, followed by the threads of numpy's
    OpenBLAS and OPENBLAS_NUM_THREADS as that process leaves them."""
    code += (
        "; import os; from threadpoolctl import threadpool_info; "
        "print([i['num_threads'] for i in threadpool_info() if i['internal_api'] == 'openblas'], "
        "os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]


def _skip_unless_openblas() -> None:
    """numpy on Accelerate (macOS arm64 wheels) or MKL has no OpenBLAS pool to set."""
    code = (
        "import numpy; from threadpoolctl import threadpool_info; print([i['internal_api'] for i in threadpool_info()])"
    )
    apis = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    if "openblas" not in apis:
        pytest.skip(f"numpy here runs on {apis.strip()}, not OpenBLAS: OPENBLAS_NUM_THREADS does not apply")


def _without_openblas_choice() -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


_RUN_AS = {  # the arguments of each command that holds OpenBLAS to one thread, on the bundled examples
    "classify": [str(EXAMPLE), "-o", "{out}/o.csv"],
    "validate": [str(EXAMPLE), "--label-column", "Mineral", "-o", "{out}/v.csv"],
    "formula": [str(EXAMPLE), "--mineral-column", "Mineral", "-o", "{out}/f.csv"],
    "map": [str(ROOT / "examples" / "demo_map.npz"), "-o", "{out}"],
    "latent": [str(EXAMPLE), "-o", "{out}/l.csv"],
    "check": [str(EXAMPLE), "-o", "{out}/c.csv"],
}


def test_every_command_that_holds_openblas_is_run_by_the_test_below():
    from minml.cli import _ONE_BLAS_THREAD

    assert sorted(_RUN_AS) == sorted(_ONE_BLAS_THREAD)


@pytest.mark.parametrize("command", sorted(_RUN_AS))
@pytest.mark.parametrize("chosen", [None, "2"])
def test_classifying_commands_run_openblas_on_one_thread_unless_one_chose(tmp_path, chosen, command):
    """Run as the program (``minml classify``: main() reads sys.argv), its work runs on the
    command's own threads; OpenBLAS's pool is not started (numpy is imported by the command,
    as it runs); a user's choice stands, the environment is left as it was."""
    import os

    _skip_unless_openblas()
    env = _without_openblas_choice()
    if chosen:
        env["OPENBLAS_NUM_THREADS"] = chosen
    arguments = [a.format(out=tmp_path) for a in _RUN_AS[command]]
    code = f"import sys; from minml.cli import main; sys.argv = ['minml', {command!r}, *{arguments!r}]; print(main())"
    threads = 1 if chosen is None else min(int(chosen), os.cpu_count() or 1)
    pools, left = _openblas_after(code, env).rsplit(" ", 1)
    counts = [int(n) for n in pools.strip("[]").split(",")]  # numpy's OpenBLAS, and scipy's where loaded (maps)
    assert counts and set(counts) == {threads} and left == (chosen or "unset")


def test_classify_called_from_python_leaves_the_callers_openblas_alone(tmp_path):
    """main(["classify", ...]) called from a Python program, before it imports numpy, does not
    set that program's OpenBLAS to one thread for the rest of its run."""
    _skip_unless_openblas()
    env = _without_openblas_choice()
    default = _openblas_after("import numpy", env)
    code = f"from minml.cli import main; print(main(['classify', {str(EXAMPLE)!r}, '-o', {str(tmp_path / 'o.csv')!r}]))"
    assert _openblas_after(code, env) == default


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_classify_each_format(tmp_path, capsys, suffix):
    from minml import read_table, write_table

    source = write_table(read_table(EXAMPLE), tmp_path / f"in{suffix}")
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "76 analyses classified" in printed
    # the example's unknowns: 3 empty rows, 9 bad analyses (fractions, sums off) and 3 K-rich
    # quench phases without Al2O3 labelled KFeldspar in LEPR
    assert (
        "\nunknown 15: 3 without an analysis (empty or statistics rows), 9 bad analyses, 3 none of the classes\n"
        in printed
    )
    result = read_table(out)
    if suffix != ".parquet":  # from Excel (a workbook, or a CSV file of the example: plain UTF-8)
        csv_out = tmp_path / f"from{suffix}.csv"
        assert main(["classify", str(source), "-o", str(csv_out)]) == 0
        assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf") == (suffix == ".xlsx")
    assert list(result.columns) == list(read_table(EXAMPLE).columns) + [
        "mineral",
        "group",
        "probability",
        "uncertainty",
        "second_mineral",
        "second_probability",
        "ood_score",
        "flag",
    ]
    assert result["mineral"].notna().all()
    assert (result["flag"].fillna("") != "").sum() >= 12  # the reader's flags come through


def _messy_csv(path):
    """The example as a European spreadsheet would export it: ';', decimal commas, text cells."""
    table = pd.read_csv(EXAMPLE).astype({"MgO": object, "CaO": object, "SiO2": object})
    table.loc[[0, 5], "MgO"] = "bdl"
    table.loc[4, "SiO2"] = f"{table.loc[4, 'SiO2']:.2f}(21)"  # a mean and its spread
    table.loc[[1, 7], "CaO"] = "<0.01"
    table.loc[2, "CaO"] = "n.a."
    table.loc[3, "MgO"] = "12..5"  # junk: flagged
    table.insert(0, "", range(len(table)))  # a blank header
    path.write_text(table.to_csv(index=False, sep=";").replace(".", ","), encoding="utf-8-sig")
    return path


def _two_phase_csv(path):
    """Thermobar's layout: the same oxides of two phases side by side, told apart by suffix."""
    two_phases(pd.read_csv(EXAMPLE), "_Cpx").to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "make, suffix",
    [
        (lambda tmp: EXAMPLE, None),
        (lambda tmp: _messy_csv(tmp / "messy.csv"), None),
        (lambda tmp: _two_phase_csv(tmp / "pairs.csv"), "_Cpx"),
    ],
)
def test_classify_csv_without_pandas_answers_as_the_dataframe_route(tmp_path, capsys, make, suffix):
    from minml import classify, read_table
    from minml.io import read_csv_arrow

    source = make(tmp_path)
    assert read_csv_arrow(source, suffix=suffix) is not None  # the route without pandas
    options = ["--suffix", suffix] if suffix else []
    assert main(["classify", str(source), "-o", str(tmp_path / "fast.csv"), "--coverage", "0.9", *options]) == 0
    printed = capsys.readouterr().out
    fast = read_table(tmp_path / "fast.csv")
    expected = classify(read_table(source), coverage=0.9, suffix=suffix)
    assert list(fast.columns) == list(read_table(source).columns) + list(expected.columns)
    for name in ["mineral", "group", "second_mineral", "flag", "prediction_set"]:
        assert fast[name].fillna("").tolist() == expected[name].astype(str).tolist(), name
    for name in ["probability", "uncertainty", "second_probability", "ood_score"]:
        np.testing.assert_allclose(fast[name], expected[name].astype(float), rtol=1e-6, err_msg=name)
    counts = expected["mineral"].value_counts()
    counts = counts[counts > 0]  # the classes found, most frequent first
    assert f"{len(expected)} analyses classified: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "\n" in printed
    assert f"{(expected['flag'] != '').sum()} flagged" in printed


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])  # the route without pandas, and the DataFrame's
def test_element_columns_are_read_with_the_elements_option(tmp_path, capsys, suffix):
    from minml import classify, formula, read_table, validate

    source = tmp_path / "eds.csv"
    as_elements(read_table(EXAMPLE)).to_csv(source, index=False)
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(source), "-o", str(out)]) == 2
    assert "name elements" in capsys.readouterr().err and not out.exists()
    assert main(["classify", str(source), "--elements", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    answered, expected = read_table(out), classify(read_table(EXAMPLE))
    assert answered["mineral"].tolist() == expected["mineral"].astype(str).tolist()
    np.testing.assert_allclose(answered["probability"], expected["probability"].astype(float), rtol=1e-6)
    assert printed.startswith("76 analyses classified: unknown 15, quartz 12")
    assert main(["check", str(source), "--elements"]) == 0
    assert "Si -> SiO2    (element Si wt% x 2.1393)" in capsys.readouterr().out
    checked = tmp_path / "formula.csv"
    assert main(["formula", str(source), "--elements", "--mineral-column", "Mineral", "-o", str(checked)]) == 0
    cations = formula(read_table(EXAMPLE), mineral_column="Mineral")
    np.testing.assert_allclose(read_table(checked)["formula_Si"], cations["Si"], rtol=1e-9)
    verdicts = tmp_path / "validated.csv"
    assert main(["validate", str(source), "--elements", "-o", str(verdicts)]) == 0
    assert sorted(read_table(verdicts)["validate_verdict"]) == sorted(validate(read_table(EXAMPLE))["verdict"])


def test_advice_that_ends_a_sentence_names_the_bare_flag(tmp_path, capsys, analyses):
    """``elements=True.`` at a sentence's end read as the value ``True.``: the command printed
    "pass --elements True." (an argument --elements does not take)."""
    from .real_layouts import write_edax_spectrum

    source = write_edax_spectrum(analyses.head(1), tmp_path / "24_081_1.csv", "Emae", "24_081", atomic=True)
    assert main(["classify", str(source), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "look like atomic %" in err and err.rstrip().endswith("then pass --elements.")


def test_classify_missing_oxides_names_the_option(tmp_path, capsys):
    # three oxides of an olivine: refused with the command line's option, then classified with it
    source = tmp_path / "olivine.csv"
    source.write_text("SiO2,MgO,FeOt,Cr2O3 (ppm)\n40.5,49.1,10.2,350\n")
    assert main(["classify", str(source), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "Missing: ['Al2O3', 'CaO']" in err and "--fill-missing 0" in err
    assert "\nUnrecognised: 'Cr2O3 (ppm)' (in ppm, not read: divide by 10,000 for wt% and name the column Cr2O3" in err
    assert not (tmp_path / "out.csv").exists()
    assert main(["classify", str(source), "-o", str(tmp_path / "out.csv"), "--fill-missing", "0"]) == 0
    assert "1 analysis classified: olivine 1\n" in capsys.readouterr().out  # the classes found only
    header = tmp_path / "header.csv"
    header.write_text("SiO2,MgO,FeOt\n")
    assert main(["classify", str(header), "-o", str(tmp_path / "none.csv"), "--fill-missing", "0"]) == 0
    assert "0 analyses classified\n" in capsys.readouterr().out
    assert (tmp_path / "none.csv").read_text().count("\n") == 1  # the header alone


@pytest.mark.parametrize("command", ["classify", "latent"])
def test_fill_missing_is_refused_before_any_work(tmp_path, capsys, command):
    for value in ("-1", "nan", "abc", "150"):
        with pytest.raises(SystemExit):
            main([command, str(EXAMPLE), "-o", str(tmp_path / "out.csv"), "--fill-missing", value])
        assert (
            "argument --fill-missing: --fill-missing must be an amount in wt% between 0 and 100 (0.0: below "
            "detection), got "
        ) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_classify_default_output_and_clash(tmp_path, capsys):
    import shutil

    from minml import read_table

    source = shutil.copy(EXAMPLE, tmp_path / "mine.csv")
    assert main(["classify", str(source)]) == 0
    first = pd.read_csv(tmp_path / "mine_classified.csv")
    capsys.readouterr()
    # a table with a column of the results' names (a label column 'mineral', or results of an
    # earlier run): the new results are written beside it, prefixed, never over it
    for route in (".csv", ".xlsx"):
        assert main(["classify", str(tmp_path / "mine_classified.csv"), "-o", str(tmp_path / f"again{route}")]) == 0
        assert "(result columns prefixed classify_: the input has some of the same names)" in capsys.readouterr().out
        again = read_table(tmp_path / f"again{route}")
        assert list(again.columns[: len(first.columns)]) == list(first.columns)
        assert again["classify_mineral"].tolist() == first["mineral"].tolist()
    assert main(["classify", str(tmp_path / "again.csv")]) == 2  # classify_mineral taken as well
    assert "already has columns ['classify_mineral', 'classify_group'" in capsys.readouterr().err


def test_classify_reads_a_windows_csv_with_its_encoding(tmp_path, capsys):
    from .test_io import _windows_csv

    path, _ = _windows_csv(tmp_path / "windows.csv")
    assert main(["classify", str(path), "-o", str(tmp_path / "cp1252.csv")]) == 0  # read as cp1252, and said
    assert "not UTF-8 text: byte 0xb0 on line 4 ('59740,1200°C" in capsys.readouterr().err
    assert main(["classify", str(path), "-o", str(tmp_path / "out.csv"), "--encoding", "cp1252"]) == 0
    assert main(["classify", str(EXAMPLE), "-o", str(tmp_path / "utf8.csv")]) == 0
    # written as UTF-8, with the byte-order mark by which Excel (whose CSV this was) reads it right
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (tmp_path / "utf8.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # plain in, plain out
    out = pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")
    assert out.loc[2, "run"] == "1200°C"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cp1252.csv", encoding="utf-8-sig"), out)
    pd.testing.assert_frame_equal(out.drop(columns="run"), pd.read_csv(tmp_path / "utf8.csv"))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_classify_header_row_option(tmp_path, capsys, suffix):
    from .test_io import supplementary_table

    path, _ = supplementary_table(tmp_path, suffix)
    sheet = ["--sheet", "S3"] if suffix == ".xlsx" else []
    assert main(["classify", str(path), "-o", str(tmp_path / "out.csv"), *sheet]) == 2
    assert "if the column names are there, pass --header-row 3.\n" in capsys.readouterr().err  # in the command's words
    assert main(["classify", str(path), "-o", str(tmp_path / "out.csv"), "--header-row", "3", *sheet]) == 0
    assert main(["classify", str(EXAMPLE), "-o", str(tmp_path / "plain.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out.csv"), pd.read_csv(tmp_path / "plain.csv"))


@pytest.mark.parametrize(
    "command", [["classify"], ["formula", "--mineral", "auto"], ["validate"], ["latent"], ["check"]]
)
def test_outputs_are_refused_before_any_work(tmp_path, capsys, command):
    import shutil

    source = shutil.copy(EXAMPLE, tmp_path / "mine.csv")
    before = source.read_bytes()
    cases = [
        (["-o", str(source)], "mine.csv' is the input; write to another file"),
        (["-o", str(tmp_path / "..." / "out.csv")], "there is no folder"),
        (["-o", str(tmp_path / "out.json")], "use .csv, .tsv, .xlsx or .parquet"),
    ]
    if command == ["validate"]:
        cases.append((["--report", str(source)], "mine.csv' is the input"))
        cases.append((["-o", str(tmp_path / "r.csv"), "--report", str(tmp_path / "r.csv")], "named for two outputs"))
    if command == ["latent"]:
        cases.append((["--plot", str(tmp_path / "no" / "latent.png")], "there is no folder"))
    for options, message in cases:
        assert main([command[0], str(source), *command[1:], *options]) == 2, options
        err = capsys.readouterr().err
        assert err.startswith(f"minml {command[0]}: error: ") and message in err, (options, err)
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv"]  # nothing written


def test_classify_coverage_option(tmp_path, capsys):
    out = tmp_path / "sets.csv"
    assert main(["classify", str(EXAMPLE), "-o", str(out), "--coverage", "0.95"]) == 0
    result = pd.read_csv(out)
    assert "prediction_set" in result.columns
    named = result["mineral"] != "unknown"
    assert (result.loc[named, "prediction_set"].str.split("|").str[0] == result.loc[named, "mineral"]).all()
    with pytest.raises(SystemExit):
        main(["classify", str(EXAMPLE), "--coverage", "95"])
    assert "coverage must lie between 0 and 1" in capsys.readouterr().err


def test_formula_command(tmp_path, capsys):
    out = tmp_path / "formulas.csv"
    assert main(["formula", str(EXAMPLE), "--mineral-column", "Mineral", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"\d+ of 76 formulas computed", printed) and "charge balance (Droop 1987)" in printed
    # why the others have none, counted (the example's 4 FeTiOxide rows, its 3 empty rows labelled
    # Apatite, and one with SiO2 146.6 wt%)
    assert (
        "  no formula: label 'FeTiOxide' may be magnetite or ilmenite or spinel (name one): 4 rows\n"
        "  no formula: empty row: 3 rows\n"
        "  no formula: unusable values: 1 row\n"
    ) in printed
    result = pd.read_csv(out)
    olivine = result["Mineral"].eq("Olivine") & result["flag"].isna()
    assert result.loc[olivine, "Fo"].between(50, 100).all()
    assert main(["formula", str(EXAMPLE), "--mineral", "nepheline"]) == 2
    assert "it is none of the classes" in capsys.readouterr().err


def test_validate_command(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, report = tmp_path / "validated.csv", tmp_path / "report.html"
    assert main(["validate", str(EXAMPLE), "-o", str(out), "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "76 rows: agree" in printed and "per label" in printed
    result = pd.read_csv(out)
    assert result["validate_rank"].tolist() == sorted(result["validate_rank"])
    assert {"validate_verdict", "validate_reason", "validate_label_misfit"} <= set(result.columns)
    back = result.sort_values("validate_row").drop(columns=[c for c in result if c.startswith("validate_")])
    pd.testing.assert_frame_equal(back.reset_index(drop=True), pd.read_csv(EXAMPLE))  # the input, in its order
    capsys.readouterr()
    assert main(["validate", str(out), "-o", str(tmp_path / "again.csv")]) == 0  # a validated table, again
    assert "(result columns prefixed validate_: the input has some" in capsys.readouterr().out
    again = pd.read_csv(tmp_path / "again.csv")  # the earlier verdicts kept, beside the new ones
    earlier = result.sort_values("validate_row")["validate_verdict"].tolist()
    assert again.sort_values("validate_row")["validate_verdict"].tolist() == earlier
    assert again["validate_validate_rank"].tolist() == sorted(again["validate_validate_rank"])
    assert report.read_text().startswith("<!doctype html>")
    assert main(["validate", str(EXAMPLE), "--label-column", "Phase"]) == 2
    assert "No label column 'Phase'" in capsys.readouterr().err


def test_labels_in_merged_cells_are_pointed_at(tmp_path, capsys):
    """Supplementary tables merge the label cell over a block of rows: read, only its first row
    has the label. The commands say how to fill them down; they fill nothing themselves."""
    table = pd.read_csv(EXAMPLE)
    table.loc[table["Mineral"].eq(table["Mineral"].shift()), "Mineral"] = None
    merged = tmp_path / "merged.csv"
    table.to_csv(merged, index=False)
    assert main(["validate", str(merged), "-o", str(tmp_path / "v.csv")]) == 0
    printed = capsys.readouterr().out
    assert "56 rows without a label in 'Mineral' (one label per block of rows, as merged cells leave them? " in printed
    assert "df['Mineral'].ffill())" in printed
    assert main(["formula", str(merged), "--mineral-column", "Mineral", "-o", str(tmp_path / "f.csv")]) == 0
    assert "no formula: no label: 55 rows (one label per block of rows" in capsys.readouterr().out
    table["Mineral"] = pd.read_csv(EXAMPLE)["Mineral"].where(lambda m: m.index != 5)  # one label missing
    table.to_csv(merged, index=False)
    assert main(["validate", str(merged), "-o", str(tmp_path / "v.csv")]) == 0
    printed = capsys.readouterr().out
    assert "1 row without a label in 'Mineral'\n" in printed and "merged cells" not in printed


def test_latent_command(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, figure, rebuilt = tmp_path / "placed.parquet", tmp_path / "latent.png", tmp_path / "rebuilt.png"
    assert (
        main(
            [
                "latent",
                str(EXAMPLE),
                "-o",
                str(out),
                "--plot",
                str(figure),
                "--color-by",
                "mineral",
                "--plot-reconstruction",
                str(rebuilt),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert printed.startswith("76 analyses placed: ") and "latent.svg" in printed
    result = pd.read_parquet(out)
    assert list(result.columns[-7:]) == [
        "LV1",
        "LV2",
        "cluster",
        "cluster_probability",
        "cluster_mineral",
        "reconstruction_error",
        "flag",
    ]
    assert result["Mineral"].tolist() == pd.read_csv(EXAMPLE)["Mineral"].tolist()  # input columns kept
    assert all(p.stat().st_size > 1000 for p in (figure, figure.with_suffix(".svg"), rebuilt))
    side_by_side = tmp_path / "two_phases.csv"
    two_phases(pd.read_csv(EXAMPLE)).to_csv(side_by_side, index=False)
    assert (
        main(["latent", str(side_by_side), "--suffix", "_Min", "-o", str(out), "--plot-reconstruction", str(rebuilt)])
        == 0
    )  # the figure reads the columns latent did
    pd.testing.assert_series_equal(pd.read_parquet(out)["LV1"], result["LV1"])
    capsys.readouterr()
    placed = pd.read_csv(EXAMPLE).assign(LV1=0.0)  # a name the results use: they are prefixed
    clash = tmp_path / "clash.csv"
    placed.to_csv(clash, index=False)
    assert main(["latent", str(clash), "-o", str(out)]) == 0
    assert "(result columns prefixed latent_: the input has some of the same names)" in capsys.readouterr().out
    apart = pd.read_parquet(out)
    assert (apart["LV1"] == 0).all()
    pd.testing.assert_series_equal(apart["latent_LV1"], result["LV1"], check_names=False)
    placed.assign(latent_LV1=1.0).to_csv(clash, index=False)  # and the prefixed name too: refused
    assert main(["latent", str(clash)]) == 2
    assert "already has columns ['latent_LV1']" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["latent", "--plot", "{tmp}/latent.png"], ["validate", "--report", "{tmp}/r.html"], ["map"]]
)
def test_figures_without_matplotlib_are_refused_before_any_work(tmp_path, capsys, monkeypatch, command):
    import minml.plot

    def missing():
        raise ImportError("Figures need matplotlib: pip install 'min-ml[plot]'.")

    monkeypatch.setattr(minml.plot, "_pyplot", missing)
    source = ROOT / "examples" / "demo_map.npz" if command[0] == "map" else EXAMPLE
    options = [part.format(tmp=tmp_path) for part in command[1:]]
    assert main([command[0], str(source), "-o", str(tmp_path / "out.csv"), *options]) == 2  # was a traceback
    assert f"minml {command[0]}: error: Figures need matplotlib: pip install 'min-ml[plot]'." in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing computed, nothing written


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["data", "build", "-o", "out"], "--source"),
        (["train", "--which", "classifier"], "--shared"),
        (["evaluate", "--card", "card.md"], "--shared"),
        (["evaluate", "--shared", "data"], "--card"),
    ],
)
def test_maintainer_commands_name_the_folder_they_need(command, missing, capsys, tmp_path, monkeypatch):
    # no default points into a folder beside the repository: the command says what to pass
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(command)
    assert exit_.value.code == 2
    assert f"the following arguments are required: {missing}" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_train_refuses_one_output_for_two_models(capsys, tmp_path):
    assert main(["train", "--shared", str(tmp_path), "-o", str(tmp_path / "m.npz")]) == 2
    assert "--which classifier or --which latent" in capsys.readouterr().err


def test_train_without_torch_says_so_before_building_the_data(capsys, tmp_path, monkeypatch):
    import importlib.util

    import minml.training.shipped

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setattr(minml.training.shipped, "train_default", lambda *a, **k: pytest.fail("trained without torch"))
    assert main(["train", "--shared", str(tmp_path), "--which", "classifier", "-o", str(tmp_path / "m.npz")]) == 2
    assert 'minml train: error: Training needs PyTorch: pip install "min-ml[train]"' in capsys.readouterr().err
    monkeypatch.setattr(
        minml.training.shipped, "evaluate_model", lambda *a, **k: pytest.fail("evaluated without torch")
    )
    assert main(["evaluate", "--shared", str(tmp_path), "--card", str(tmp_path / "card.md")]) == 2
    assert "minml evaluate: error: Training needs PyTorch" in capsys.readouterr().err


def test_classify_csv_without_pandas_on_all_lepr_phases(shared_data, tmp_path, capsys):
    # 16k rows of 62 phase labels, many columns of text and blanks: the same answers as the
    # DataFrame route, and the input's columns read back as they were
    from minml import classify, read_table
    from minml.io import read_csv_arrow

    source = shared_data / "test" / "lepr_allphases.csv"
    assert read_csv_arrow(source) is not None
    assert main(["classify", str(source), "-o", str(tmp_path / "fast.csv")]) == 0
    fast, table = read_table(tmp_path / "fast.csv"), read_table(source)
    expected = classify(table)
    for name in ["mineral", "second_mineral", "flag"]:
        assert fast[name].fillna("").tolist() == expected[name].astype(str).tolist(), name
    np.testing.assert_allclose(fast["probability"], expected["probability"].astype(float), rtol=1e-6)
    pd.testing.assert_frame_equal(fast[table.columns], table)


def test_every_refusal_advice_followed_literally_classifies(tmp_path, capsys):
    import shlex

    from minml import classify

    table = pd.read_csv(EXAMPLE)
    two = table.rename(columns={c: f"{c}_Cpx" for c in ("SiO2", "Al2O3", "FeOt", "MgO", "CaO")})
    for col in ("SiO2", "Al2O3", "FeOt"):
        two[f"{col}_Liq"] = 50.0
    source, out = tmp_path / "two.csv", tmp_path / "out.csv"
    two.to_csv(source, index=False)
    assert main(["classify", str(source), "-o", str(out)]) == 0  # the fuller group is read, and said so
    assert "Phases side by side: --suffix _Cpx read, the group with the most species" in capsys.readouterr().err
    assert pd.read_csv(out)["mineral"].tolist() == classify(table)["mineral"].astype(str).tolist()
    for col in ("MgO", "CaO"):  # groups equally full: refused, naming each choice; each works
        two[f"{col}_Liq"] = 50.0
    two.to_csv(source, index=False)
    assert main(["classify", str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    options = err.split("Pass ")[1].split(":")[0].split(" or ")  # --suffix _Cpx or --suffix _Liq
    assert options == ["--suffix _Cpx", "--suffix _Liq"]
    for option in options:
        assert main(["classify", str(source), "-o", str(out), *shlex.split(option)]) == 0
    assert main(["classify", str(source), "-o", str(out), "--suffix", "_Cpx"]) == 0
    assert pd.read_csv(out)["mineral"].tolist() == classify(table)["mineral"].astype(str).tolist()
    # a table without a major oxide: the advice (--fill-missing 0) classifies it
    source.write_text("SiO2,MgO,FeOt\n40.5,49.1,10.2\n")
    assert main(["classify", str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Missing: ['Al2O3', 'CaO']" in err and "pass --fill-missing 0.0 " in err
    assert main(["classify", str(source), "-o", str(out), "--fill-missing", "0"]) == 0


def test_check_prints_what_was_read_in_one_table(tmp_path, capsys):
    table = pd.read_csv(EXAMPLE).drop(columns=["P2O5", "MgO"])
    table["Na2O"] = table["Na2O"].fillna(-0.99)
    source = tmp_path / "t.csv"
    table.to_csv(source, index=False)
    assert main(["check", str(source)]) == 0
    out = capsys.readouterr().out
    assert "Columns (header -> read as):" in out
    assert "Na2O -> Na2O    (exact)  codes: -0.99 in " in out
    assert "(no column) -> P2O5    (no column: classify reads it as not analysed)" in out
    assert "(no column) -> MgO     (no column: classify needs it)" in out
    assert "entity_id -> (kept)  (not a species)" in out
