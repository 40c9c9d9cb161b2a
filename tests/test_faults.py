"""Faults, met as a user meets them: several runs writing one output, a run killed or failing
while it writes, damaged inputs and models.  Outputs are whole or absent, old results survive,
and every refusal is a message, never a traceback."""

from __future__ import annotations

import datetime
import decimal
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minml import check_oxides, read_table, write_table
from minml.cli import main

from .conftest import EXAMPLE, ROOT

MODEL = ROOT / "src" / "minml" / "data" / "default-v1.npz"
MINML = [sys.executable, "-m", "minml.cli"]


def _env() -> dict:
    """The environment of a subprocess running this checkout's minml."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _leftovers(folder: Path) -> list[str]:
    """What a write left beside its output: temporary folders of :func:`minml.io.atomic_path`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".minml-writing-"))


@pytest.fixture(scope="module")
def lepr(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", index_col=0)


# ---- outputs: whole or not at all ------------------------------------------------------------


def test_concurrent_runs_with_one_output_leave_one_runs_whole_output(lepr, tmp_path):
    """Two runs with the same -o interleaved into one file that parsed (a torn row read
    TiO2 = plagioclase); now the file is one run's output, byte for byte."""
    sources = {}
    for name, rows in (("a", lepr.head(4000)), ("b", lepr.tail(4000))):
        sources[name] = tmp_path / f"{name}.csv"
        rows.to_csv(sources[name], index=False)
        alone = tmp_path / f"alone_{name}.csv"
        subprocess.run([*MINML, "classify", str(sources[name]), "-o", str(alone)], env=_env(), check=True)
    out = tmp_path / "shared" / "out.csv"
    out.parent.mkdir()
    runs = [
        subprocess.Popen([*MINML, "classify", str(sources[name]), "-o", str(out)], env=_env(), stderr=subprocess.PIPE)
        for name in ("a", "b", "a", "b")
    ]
    errors = [run.communicate()[1] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4, errors
    written = out.read_bytes()
    assert written in ((tmp_path / "alone_a.csv").read_bytes(), (tmp_path / "alone_b.csv").read_bytes())
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.csv"]  # nothing else left in the folder


_KILLED_WRITER = """
import sys
import pandas as pd
from minml import write_table
table = pd.read_csv(sys.argv[1])
big = pd.concat([table] * (400_000 // len(table) + 1), ignore_index=True)
print("ready", flush=True)
write_table(big, sys.argv[2])
"""


@pytest.mark.parametrize("old", [True, False], ids=["over old results", "new file"])
def test_a_writer_killed_while_writing_leaves_the_old_file_or_none(tmp_path, old):
    """A run killed during a large CSV write left a short file that read as 16,384 clean rows."""
    out = tmp_path / "out.csv"
    if old:
        out.write_text("old results\n")
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(EXAMPLE), str(out)], env=_env(), stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # killed once the new file has begun
        parts = [p for folder in _leftovers(tmp_path) for p in (tmp_path / folder).iterdir()]
        if parts and parts[0].stat().st_size > 0:
            break
        assert writer.poll() is None, "the writer ended before it was killed"
        time.sleep(0.002)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL
    if old:
        assert out.read_text() == "old results\n"
    else:
        assert not out.exists()


def test_a_failing_writer_keeps_the_old_results(tmp_path):
    """A run that failed at write time emptied the previous results."""
    old = write_table(pd.read_csv(EXAMPLE), tmp_path / "out.xlsx")
    before = old.read_bytes()
    table = pd.DataFrame({"n": range(30_000)})
    # the last cell, after 29,999 rows were written, is one openpyxl cannot write: a signalling NaN
    # (a zoned date, which failed so before, is now written as text with its offset)
    table["when"] = [datetime.date(2020, 1, 1)] * (len(table) - 1) + [decimal.Decimal("sNaN")]
    with pytest.raises(decimal.InvalidOperation):
        write_table(table, old)
    assert old.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_ctrl_c_while_writing_keeps_the_old_results_and_leaves_nothing(tmp_path):
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"old results")
    # a background job of a non-interactive shell (as CI may start the suite) inherits SIGINT
    # ignored, and Python then never raises KeyboardInterrupt: restore the default handler
    script = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n" + _KILLED_WRITER.replace(
        "400_000", "100_000"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(EXAMPLE), str(out)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 120
    while not _leftovers(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.002)
    writer.send_signal(signal.SIGINT)
    _, err = writer.communicate(timeout=120)
    # the library lets it through; the CLI would print no traceback
    assert "KeyboardInterrupt" in err, (writer.returncode, err, out.read_bytes()[:20], _leftovers(tmp_path))
    assert out.read_bytes() == b"old results"
    assert _leftovers(tmp_path) == []


def test_models_and_figures_are_written_whole(tmp_path):
    """The model saves and figures go through the same temporary file and rename."""
    from minml.classifier._runtime import Runtime

    runtime = Runtime.load(MODEL)
    saved = runtime.save(tmp_path / "copy")  # numpy adds .npz; the path returned says so
    assert saved == tmp_path / "copy.npz"
    again = Runtime.load(saved)
    assert np.array_equal(again.params["W0_mu"], runtime.params["W0_mu"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.npz"]


# ---- damaged inputs: a message, not a traceback ------------------------------------------------


def _damaged_inputs(tmp_path: Path, table: pd.DataFrame) -> dict[str, tuple[Path, str]]:
    """name: (file, what its refusal must say)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = {}
    zipped = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    files["zip named .xlsx"] = (zipped, "a zip archive, but no workbook")
    whole = tmp_path / "whole.xlsx"
    table.to_excel(whole, index=False)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    files["truncated workbook"] = (cut, "cut short")
    text = tmp_path / "text.xlsx"
    table.to_csv(text, index=False)
    files["CSV named .xlsx"] = (text, "text, not a workbook: if it is a CSV file, give it the extension .csv")
    nested = pa.Table.from_pandas(table[["SiO2", "MgO"]], preserve_index=False)
    nested = nested.append_column("spots", pa.array([[1, 2]] * len(table)))
    pq.write_table(nested, tmp_path / "nested.parquet")
    files["Parquet list column"] = (tmp_path / "nested.parquet", "columns ['spots'] hold lists or records")
    twice = pa.table(
        [pa.array(table["SiO2"]), pa.array(table["MgO"]), pa.array(table["SiO2"])], ["SiO2", "MgO", "SiO2"]
    )
    pq.write_table(twice, tmp_path / "twice.parquet")
    files["Parquet repeated names"] = (tmp_path / "twice.parquet", "several columns named ['SiO2']")
    binary = tmp_path / "image.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    files["binary named .csv"] = (binary, "looks binary")
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join(["1"] * 100_000) + "\n")
    files["100k-field header"] = (wide, "its first line holds 100,000 fields")
    one_line = tmp_path / "one_line.csv"
    one_line.write_text(",".join(["1.5"] * 3_000_000))  # no line end in sight
    files["3M-field line"] = (one_line, "its first line holds at least")
    return files


def test_damaged_inputs_are_refused_with_a_message(lepr, tmp_path, capsys):
    table = lepr.head(40)
    for name, (path, message) in _damaged_inputs(tmp_path, table).items():
        with pytest.raises(ValueError) as refused:
            read_table(path)
        assert message in str(refused.value), name
        assert main(["classify", str(path), "-o", str(tmp_path / "out.csv")]) == 2, name
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, name
        assert not (tmp_path / "out.csv").exists()


def test_text_files_not_in_utf8(lepr, tmp_path):
    """GEOROC's precompiled files are cp1252 (a ‰ in an isotope header): read so, with a
    warning naming the byte; numbers as in the UTF-8 original.  A file in neither is refused."""
    table = lepr.head(30).assign(**{"d18O (‰)": 5.6, "site": "Mauna Loa – summit"})
    utf8 = tmp_path / "utf8.csv"
    table.to_csv(utf8, index=False)
    georoc = tmp_path / "GEOROC.CSV"  # and an upper-case extension
    georoc.write_bytes(utf8.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.warns(UserWarning, match=r"'GEOROC.CSV' is not UTF-8 text: byte 0x89 on line 1 .*read as cp1252"):
        read = read_table(georoc)
    pd.testing.assert_frame_equal(read, read_table(utf8))
    assert "d18O (‰)" in read.columns
    pd.testing.assert_frame_equal(read_table(georoc, encoding="cp1252"), read)  # the override, and no warning
    with pytest.raises(ValueError, match=r"not UTF-8 text: byte 0x89 on line 1 .*it reads as cp1252") as error:
        read_table(georoc, encoding="utf-8")  # cp1252 was not tried: the message does not say it was
    assert "nor cp1252" not in str(error.value) and "encoding='cp1252'" in str(error.value)
    neither = tmp_path / "neither.csv"
    neither.write_bytes(utf8.read_bytes().replace("‰".encode(), b"\x81"))  # 0x81: no character in cp1252
    with pytest.raises(ValueError, match=r"'neither.csv' is not UTF-8 text: byte 0x81 on line 1 .*nor cp1252"):
        read_table(neither)


def test_upper_case_extensions(lepr, tmp_path):
    table = lepr.head(5).reset_index(drop=True)
    for name in ("DATA.CSV", "Book.XLSX", "T.PARQUET", "tab.TSV"):
        written = write_table(table, tmp_path / name)
        assert written.name == name
        pd.testing.assert_frame_equal(read_table(written), table, check_dtype=False)
    with pytest.raises(
        ValueError, match=r"unknown extension '.JSON'. Use one of \['.csv', '.parquet', '.pq', '.tsv', '.txt', '.xls'"
    ):
        (tmp_path / "x.JSON").write_text("{}")
        read_table(tmp_path / "x.JSON")


# ---- text as written -------------------------------------------------------------------------


_WORDS = ["NA", "N/A", "None", "null", "nan", "#N/A"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_text_such_as_na_comes_back_as_written_in_every_output(lepr, tmp_path, suffix):
    """The README promises "exactly as written"; NA, None, ... came back empty."""
    table = lepr.head(len(_WORDS)).reset_index(drop=True)
    table.insert(0, "sample", _WORDS)
    table.insert(1, "note", list(reversed(_WORDS)))
    table["MnO"] = table["MnO"].astype(object)
    table.loc[0, "MnO"] = "NA"  # in an oxide column: not analysed
    source = tmp_path / "in.csv"
    table.to_csv(source, index=False)
    read = read_table(source)
    assert read["sample"].tolist() == _WORDS and read["note"].tolist() == list(reversed(_WORDS))
    assert read.loc[0, "MnO"] == "NA"  # in an oxide column too: the check notes it, naming the text
    assert "MnO 'NA'" in check_oxides(read).flags["notes"][0]
    out = tmp_path / f"out{suffix}"
    assert main(["classify", str(source), "-o", str(out)]) == 0
    if suffix == ".csv":
        back = pd.read_csv(out, keep_default_na=False, dtype=str)
    elif suffix == ".xlsx":
        back = pd.read_excel(out, keep_default_na=False, dtype=str, engine="openpyxl")
    else:
        back = pd.read_parquet(out)
    assert back["sample"].tolist() == _WORDS
    assert back["note"].tolist() == list(reversed(_WORDS))
    assert str(back["MnO"][0]) == "NA"
    from minml import classify

    assert back["mineral"].tolist() == classify(read)["mineral"].tolist()


# ---- models checked when they load -------------------------------------------------------------


def _model_with(tmp_path: Path, **changes) -> Path:
    arrays = dict(np.load(MODEL))
    arrays.update(changes)
    path = tmp_path / "model.npz"
    np.savez_compressed(path, **arrays)
    return path


def _flipped(tmp_path: Path, entry: str) -> Path:
    """The shipped model with one byte flipped inside ``entry``'s compressed data."""
    raw = bytearray(MODEL.read_bytes())
    with zipfile.ZipFile(MODEL) as archive:
        info = archive.getinfo(entry)
    name_len, extra_len = (
        int.from_bytes(raw[info.header_offset + k : info.header_offset + k + 2], "little") for k in (26, 28)
    )
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0xFF
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(raw))
    return path


def _corrupt_models(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    base = dict(np.load(MODEL))
    nan = base["param_W1_mu"].copy()
    nan[3, 4] = np.nan
    inf = base["param_b0_mu"].copy()
    inf[0] = np.inf
    zero = base["scaler_scale"].copy()
    zero[2] = 0.0
    cases = {
        "NaN weight": ({"param_W1_mu": nan}, "entry 'param_W1_mu' holds NaN"),
        "infinite bias": ({"param_b0_mu": inf}, "entry 'param_b0_mu' holds infinite values"),
        "zero scale": ({"scaler_scale": zero}, "entry 'scaler_scale' holds values <= 0"),
        "negative scale": ({"scaler_scale": -base["scaler_scale"]}, "entry 'scaler_scale' holds values <= 0"),
        "wrong shape": (
            {"param_W2_mu": base["param_W2_mu"][:, :-1]},
            f"entry 'param_W2_mu' has shape ({base['param_W2_mu'].shape[0]}, {base['param_W2_mu'].shape[1] - 1})",
        ),
        "one oxide too few": ({"scaler_mean": base["scaler_mean"][:-1]}, "entry 'scaler_mean' has shape (10,)"),
    }
    out = {}
    for name, (changes, message) in cases.items():
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        out[name] = (_model_with(folder, **changes), message)
    flipped = tmp_path / "flipped"
    flipped.mkdir()
    out["one flipped byte"] = (_flipped(flipped, "param_W0_mu.npy"), "its entry 'param_W0_mu' is damaged")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(MODEL.read_bytes()[:5000])
    out["cut short"] = (cut, "it is no .npz archive")
    return out


def test_damaged_models_are_refused_naming_the_entry(tmp_path, capsys):
    """NaN weights answered every row 'amphibole' with no flag; a flipped byte was BadZipFile."""
    from minml.classifier._runtime import Runtime

    for name, (path, message) in _corrupt_models(tmp_path).items():
        with pytest.raises(ValueError) as refused:
            Runtime.load(path)
        assert message in str(refused.value), name
        assert "copy it again" in str(refused.value), name  # and the fix
        out = tmp_path / "out.csv"
        assert main(["classify", str(EXAMPLE), "--model", str(path), "-o", str(out)]) == 2, name
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, name
        assert not out.exists()


def test_the_shipped_model_passes_its_checks():
    from minml.classifier._runtime import Runtime, _problem

    assert _problem(Runtime.load(MODEL)) is None


# ---- Excel cells with no value to read ----------------------------------------------------------


def _with_saved_value(path: Path, cell: str, value: str) -> None:
    """Give the formula of ``cell`` a saved result, as Excel saves one (openpyxl saves none)."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index(f'<c r="{cell}"')
    end = sheet.index("</c>", start)
    parts["xl/worksheets/sheet1.xml"] = (
        sheet[:start] + sheet[start:end].replace("<v />", f"<v>{value}</v>") + sheet[end:]
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_excel_error_cells_and_formulas_without_a_value_are_flagged(lepr, tmp_path):
    """#DIV/0!, #VALUE!, #REF! and formulas saved without their result were read as empty
    cells: 'not analysed', no flag.  Now they hold the text Excel shows, and the rows say so."""
    import openpyxl

    from minml import check_oxides, classify

    rows = lepr.head(6).reset_index(drop=True)
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*rows.columns, "note"])
    for values in rows.astype(object).where(rows.notna(), None).itertuples(index=False):
        sheet.append([*values, "ok"])
    si, mgo, note = (list(rows.columns).index(c) + 1 for c in ("SiO2", "MgO", "Mineral"))
    sheet.cell(2, si).value, sheet.cell(2, si).data_type = "#DIV/0!", "e"
    sheet.cell(3, mgo).value, sheet.cell(3, mgo).data_type = "#VALUE!", "e"
    sheet.cell(4, note).value, sheet.cell(4, note).data_type = "#REF!", "e"
    sheet.cell(5, si).value = "=1/0"  # saved by openpyxl without a result
    sheet.cell(6, si).value = "=40+5.5"
    book.save(path)
    _with_saved_value(path, f"{openpyxl.utils.get_column_letter(si)}6", "45.5")  # this formula has its result
    read = read_table(path)
    assert read.loc[0, "SiO2"] == "#DIV/0!" and read.loc[1, "MgO"] == "#VALUE!"
    assert read.loc[2, "Mineral"] == "#REF!" and read.loc[3, "SiO2"] == "=1/0"
    assert read.loc[4, "SiO2"] == 45.5  # a formula with its saved result reads as the number
    assert read.loc[5, "SiO2"] == pytest.approx(rows.loc[5, "SiO2"])  # other cells as they were
    flags = classify(read)["flag"].tolist()
    assert "SiO2 not a number: '#DIV/0!'" in flags[0]
    assert "MgO not a number: '#VALUE!'" in flags[1]
    assert "SiO2 not a number: '=1/0'" in flags[3]
    assert check_oxides(read).values.shape[0] == len(rows)
    header_row = read_table(path, header_row=1)  # the same cells, whichever way the header is given
    pd.testing.assert_frame_equal(header_row, read)
