"""``minml classify FOLDER -o DIR/`` and ``minml validate FOLDER -o DIR/``: the partitioned
Parquet holds the columns typed as the one-file route writes them (oxides as the numbers read),
and a scheduler that does not answer is one line of error, nothing written."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minml.cli import main

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def lepr(shared_data) -> pd.DataFrame:
    """1,500 LEPR rows as the file writes them (every cell its text)."""
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", dtype=str, keep_default_na=False)
    return table.sample(1500, random_state=7).sort_index()


def _split(table: pd.DataFrame, folder: Path, parts: int, suffix: str = ".csv") -> Path:
    """``table`` in one file beside ``folder``, and cut into ``parts`` files in ``folder``."""
    folder.mkdir()
    sep = "\t" if suffix == ".tsv" else ","
    for i, rows in enumerate(np.array_split(np.arange(len(table)), parts)):
        table.iloc[rows].to_csv(folder / f"part{i}{suffix}", sep=sep, index=False)
    whole = folder.with_name(f"{folder.name}_whole{suffix}")
    table.to_csv(whole, sep=sep, index=False)
    return whole


def _run(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


def _assert_same_parquet(parts: Path, single: Path, results: list[str]) -> pd.DataFrame:
    """The folder of parts reads back as the one file: each part's Arrow schema, every column's
    dtype, the input's values exactly and the results' (the network's float32 sums round the
    last bit differently for other batch sizes) to float32 rounding."""
    schema = pq.read_schema(single).remove_metadata()
    for part in sorted(parts.glob("part.*.parquet")):
        assert pq.read_schema(part).remove_metadata() == schema, part.name
    back, one = pd.read_parquet(parts), pd.read_parquet(single)
    assert list(back.columns) == list(one.columns)
    assert back.dtypes.astype(str).to_dict() == one.dtypes.astype(str).to_dict()
    inputs = [c for c in one.columns if c not in results]
    pd.testing.assert_frame_equal(back[inputs], one[inputs], check_exact=True)
    pd.testing.assert_frame_equal(back[results], one[results], rtol=1e-5, atol=1e-6)
    return back


def test_folder_parquet_holds_the_oxides_as_numbers(client, lepr, tmp_path):
    """The trial's case: 1,500 LEPR rows in 3 CSV files; SiO2 was written as text."""
    whole = _split(lepr, tmp_path / "csvs", 3)
    _run("classify", tmp_path / "csvs", "-o", f"{tmp_path / 'out'}/")
    _run("classify", whole, "-o", tmp_path / "one.parquet")
    results = list(pd.read_parquet(tmp_path / "one.parquet").columns[len(lepr.columns) :])
    back = _assert_same_parquet(tmp_path / "out", tmp_path / "one.parquet", results)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"part.0000{i}.parquet" for i in range(3)]
    oxides = ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MnO", "MgO", "NiO", "CoO", "CaO", "Na2O", "K2O", "P2O5"]
    assert (back[oxides].dtypes == np.float64).all() and back["entity_id"].dtype == np.int64
    assert back["SiO2"].mean() == pytest.approx(pd.to_numeric(lepr["SiO2"]).mean())


def test_a_column_is_typed_by_the_whole_table(client, lepr, tmp_path):
    """Text in one part types its column in every part, as one file reads: a ``bdl`` in the
    last part's MgO, a sample named ``007`` in the second, ``NA`` as a name, a whole number
    missing once (float), booleans; validate's parts (rewritten with their ranks) as well."""
    table = lepr.head(600).copy()
    table.insert(0, "sample", [f"S{i}" for i in range(len(table))])
    table.iloc[300, 0], table.iloc[20, 0] = "007", "NA"
    table["grain"] = [str(i) for i in range(len(table))]
    table.iloc[100, -1] = ""
    table["rim"] = ["True" if i % 3 else "False" for i in range(len(table))]
    table.iloc[550, table.columns.get_loc("MgO")] = "bdl"
    whole = _split(table, tmp_path / "csvs", 3)
    _run("classify", tmp_path / "csvs", "-o", f"{tmp_path / 'out'}/")
    _run("classify", whole, "-o", tmp_path / "one.parquet")
    results = list(pd.read_parquet(tmp_path / "one.parquet").columns[len(table.columns) :])
    back = _assert_same_parquet(tmp_path / "out", tmp_path / "one.parquet", results)
    assert back["MgO"].iloc[550] == "bdl" and back["sample"].iloc[300] == "007" and back["sample"].iloc[20] == "NA"
    assert back["grain"].dtype == np.float64 and back["rim"].dtype == bool and back["SiO2"].dtype == np.float64

    _run("validate", tmp_path / "csvs", "-o", f"{tmp_path / 'validated'}/")
    _run("validate", whole, "-o", tmp_path / "validated.parquet")
    one = pd.read_parquet(tmp_path / "validated.parquet").sort_values("validate_row", ignore_index=True)
    one.to_parquet(tmp_path / "in_order.parquet", index=False)
    results = [c for c in one.columns if c.startswith("validate_")]
    _assert_same_parquet(tmp_path / "validated", tmp_path / "in_order.parquet", results)


def _free_port() -> int:
    """A port nothing listens on: bound by the system, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_scheduler_is_one_line_and_writes_nothing(lepr, tmp_path, capsys):
    from minml import classify_files
    from minml._dask_files import NoScheduler

    whole = _split(lepr.head(60), tmp_path / "csvs", 2)
    address = f"tcp://127.0.0.1:{_free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        status = main(["classify", str(whole), "-o", f"{tmp_path / 'out'}/", "--scheduler", address])
        err = capsys.readouterr().err
        assert status == 2
        assert err.splitlines() == [
            f"minml classify: error: no Dask scheduler answers at {address} (no answer in 1 s, the wait set by "
            "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT): start one (dask scheduler) or leave --scheduler out to run "
            "on a local cluster"
        ]
        with pytest.raises(NoScheduler, match=r"No Dask scheduler answers at .*pass scheduler=None") as caught:
            classify_files(tmp_path / "csvs", tmp_path / "out", scheduler=address)
    assert isinstance(caught.value, ConnectionError) and caught.value.address == address
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csvs", "csvs_whole.csv"]  # no output, no staging
