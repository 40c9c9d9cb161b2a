"""The Dask paths on a real two-worker ``distributed.LocalCluster``: the same rows as in memory,
partitioned files read back whole, a worker killed mid-run, the model sent once."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import minml
from minml import _dask
from minml.classifier.features import MODEL_OXIDES

from .conftest import EXAMPLE

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE)


def _eager(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _same(lazy: pd.DataFrame, eager: pd.DataFrame) -> None:
    """Row for row: text, categories and integers exactly; floats to float32 rounding (the network's
    matrix products round the last bit differently for batches of other sizes, in memory too)."""
    assert list(lazy.index) == list(eager.index)
    for name in eager.columns:
        a, b = lazy[name], eager[name]
        if pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-5, atol=1e-5)
        else:
            assert a.astype(object).tolist() == b.astype(object).tolist(), name


def test_tables_as_in_memory(client, sample):
    ddf = dd.from_pandas(sample, npartitions=4)
    lazy = minml.classify(ddf)
    assert isinstance(lazy, dd.DataFrame) and lazy["mineral"].cat.known and lazy["group"].cat.known
    _same(lazy.compute(), _eager(minml.classify, sample))
    checked = _eager(minml.check_oxides, sample)
    _same(minml.check_oxides(ddf).compute(), checked.oxides.join(checked.flags))
    latent = minml.latent(ddf).compute()
    _same(latent, _eager(minml.latent, sample))
    for how in ({"mineral": "auto"}, {"mineral_column": "Mineral"}, {"mineral": "olivine"}):
        eager = _eager(minml.formula, sample, **how)
        lazy = minml.formula(dd.from_pandas(sample, npartitions=2), **how).compute()  # formula is slow
        assert set(eager.columns) <= set(lazy.columns)
        assert lazy.drop(columns=list(eager.columns)).isna().all().all()  # other classes' indices: NaN
        _same(lazy[eager.columns], eager)


def _ranked(validated: pd.DataFrame) -> np.ndarray:
    """``validate``'s rank recomputed from its own columns (the in-memory rule)."""
    keys = _dask._rank_keys(validated)
    rank = np.empty(len(validated), dtype=np.int64)
    rank[np.lexsort(keys)] = np.arange(1, len(validated) + 1)
    return rank


@pytest.mark.shared_data
def test_validate_rank_and_summary_across_partitions(client, shared_data):
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", nrows=3000, low_memory=False)
    eager = _eager(minml.validate, table)
    lazy = minml.validate(dd.from_pandas(table, npartitions=5))
    assert lazy["verdict"].cat.known
    found = lazy.compute()
    _same(found.drop(columns="rank"), eager.drop(columns="rank"))
    # table-wide, not per partition: the rank the in-memory rule gives the same columns
    assert (found["rank"].to_numpy() == _ranked(found)).all()
    disagree = int((eager["verdict"] == "disagree").sum())
    assert disagree > 10
    first = found["rank"] <= disagree
    assert (first == (eager["rank"] <= disagree)).all() and (found.loc[first, "verdict"] == "disagree").all()
    summary = minml.validation.verdicts.label_summary(lazy)
    assert isinstance(summary, dd.DataFrame)
    pd.testing.assert_frame_equal(
        summary.compute(), minml.validation.verdicts.label_summary(eager), check_names=False, check_dtype=False
    )


def test_model_loaded_once_per_worker_not_sent_per_partition(client, sample):
    ddf = dd.from_pandas(pd.concat([sample] * 4, ignore_index=True), npartitions=16)
    minml.classify(ddf).compute()
    minml.latent(ddf).compute()
    for loads in client.run(lambda: dict(_dask.LOADS)).values():
        assert loads and all(n == 1 for n in loads.values()), loads
    # a model object is one key of the graph, whatever the partitions
    import cloudpickle

    from minml.classifier.predict import load_default

    model = load_default()
    sizes = [
        len(cloudpickle.dumps(dict(minml.classify(ddf.repartition(npartitions=n), model).__dask_graph__())))
        for n in (2, 16)
    ]
    assert sizes[1] - sizes[0] < len(cloudpickle.dumps(model)) / 2, sizes


def _csv_parts(folder: Path, table: pd.DataFrame, n: int) -> list[Path]:
    folder.mkdir()
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(table)), n)):
        paths.append(folder / f"t{i}.csv")
        table.iloc[part].to_csv(paths[-1], index=False)
    return paths


def test_partitioned_files_read_back_equal(client, sample, tmp_path):
    _csv_parts(tmp_path / "in", sample, 3)
    done = minml.classify_files(str(tmp_path / "in" / "*.csv"), tmp_path / "out", scheduler=client)
    back = pd.read_parquet(tmp_path / "out")
    table = minml.read_table(EXAMPLE)  # the input's columns typed as one file reads them (oxides as numbers)
    assert done.rows == len(back) == len(sample) and [p.name for p in done.parts] == [
        f"part.0000{i}.parquet" for i in range(3)
    ]
    pd.testing.assert_frame_equal(back[list(table.columns)], table, check_exact=True)
    _same(back.drop(columns=list(table.columns)), _eager(minml.classify, table))
    assert done.counts == back["mineral"].astype(str).value_counts().to_dict()
    sample.to_parquet(tmp_path / "in.parquet")
    validated = minml.validate_files(tmp_path / "in.parquet", tmp_path / "validated", scheduler=client)
    back = pd.read_parquet(tmp_path / "validated")
    eager = _eager(minml.validate, sample)
    assert back["validate_row"].tolist() == list(range(1, len(sample) + 1))
    assert (back["validate_verdict"].astype(str) == eager["verdict"].astype(str)).all()
    assert (tmp_path / "validated" / "_summary.csv").is_file() and validated.summary["rows"].sum() == len(sample)


def test_files_refused_or_left_whole(client, sample, tmp_path):
    with pytest.raises(FileNotFoundError, match="No file matches"):
        minml.classify_files(str(tmp_path / "none*.csv"), tmp_path / "out", scheduler=client)
    paths = _csv_parts(tmp_path / "in", sample, 2)
    sample.to_parquet(tmp_path / "in" / "x.parquet")
    with pytest.raises(ValueError, match="must all be CSV"):
        minml.classify_files(tmp_path / "in", tmp_path / "out", scheduler=client)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        minml.classify_files(paths, tmp_path / "full", scheduler=client)
    # a row of the second file has more cells than names: the read fails mid-run, and nothing is left
    with open(paths[1], "a") as handle:
        handle.write(",".join(["1"] * (len(sample.columns) + 3)) + "\n")
    with pytest.raises(ValueError, match="cannot be read past byte"):
        minml.classify_files(paths, tmp_path / "out", scheduler=client)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "in"]  # no out, no staging folder


def test_worker_killed_mid_run_loses_and_repeats_no_row(client, sample, tmp_path):
    table = pd.concat([sample] * 16, ignore_index=True)
    table.insert(0, "row", np.arange(len(table)))
    paths = _csv_parts(tmp_path / "in", table, 16)
    outcome: dict = {}

    def run():
        try:
            outcome["done"] = minml.classify_files(paths, tmp_path / "out", scheduler=client)
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("out.incomplete-*/part.*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = sorted(client.scheduler_info()["workers"])[0]
    os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)  # a worker of this test's cluster
    worker.join(120)
    assert "error" not in outcome, outcome.get("error")
    back = pd.read_parquet(tmp_path / "out")
    assert sorted(back["row"].astype(int)) == list(range(len(table)))  # every row, once
    assert outcome["done"].rows == len(table) and not list((tmp_path / "out").glob(".*.tmp"))
    client.wait_for_workers(2, timeout=60)


def _map():
    """A synthetic thin section of grains of real LEPR analyses (the example file's)."""
    from minml.maps.synthetic import synthetic_map

    rows = pd.read_csv(EXAMPLE)
    rows = rows[rows["Mineral"].isin(["Olivine", "Clinopyroxene", "Orthopyroxene", "Plagioclase", "Spinel"])]
    rows = rows.assign(mineral=rows["Mineral"].str.lower())[[*MODEL_OXIDES, "mineral"]].fillna(0.0)
    return synthetic_map(rows, (96, 80), grains=8, cracks=1, random_state=3)[0]


def test_a_lazy_map_classifies_each_band_once(monkeypatch):
    """The second pass reads the first pass's bands; each is computed once (a Dask array made
    of them, sliced into delayed calls, had them computed again for every band that read it:
    52 first-pass bands for 8 on a 2048² map), and the map is the in-memory one."""
    import dask

    import minml.maps._lazy as lazy
    from minml.maps.classify import classify_map

    oxide_map = _map()  # 96 rows: bands of 20 rows, five of them
    bands = []
    band_classified = lazy._band_classified

    def counted(grids, channels, first_row, model, settings):
        bands.append(first_row)
        return band_classified(grids, channels, first_row, model, settings)

    monkeypatch.setattr(lazy, "_band_classified", counted)
    eager = _eager(classify_map, oxide_map)
    with dask.config.set(scheduler="synchronous"):
        found = lazy.classify_lazy(oxide_map, band_rows=20).compute()
        assert sorted(bands) == [0, 20, 40, 60, 80]
        np.testing.assert_array_equal(found.codes, eager.codes)
        bands.clear()  # the modes of a result not computed yet: the map's bands once, too
        modes = lazy.classify_lazy(oxide_map, band_rows=20).modes()
    assert sorted(bands) == [0, 20, 40, 60, 80]
    expected = eager.modes()
    assert list(modes.index) == list(expected.index)
    np.testing.assert_allclose(modes["area_percent"], expected["area_percent"], rtol=1e-12)


def test_map_from_zarr_as_in_memory(client, tmp_path):
    """Band by band on the cluster (bands of 37 rows, not a multiple of anything the map's
    steps use), the phase map is the in-memory one pixel for pixel, mixtures included: the
    mixture step gets the whole map's noise and enough rows of context."""
    zarr = pytest.importorskip("zarr")

    from minml.maps._lazy import classify_lazy, open_lazy
    from minml.maps.classify import classify_map, clean

    oxide_map = _map()
    group = zarr.open_group(str(tmp_path / "map.zarr"), mode="w")
    for name, grid in oxide_map.data.items():
        group.create_array(name, data=np.asarray(grid, dtype=np.float32), chunks=(40, 80))
    lazy_map = open_lazy(tmp_path / "map.zarr", band_rows=37)
    assert {type(a).__module__.split(".")[0] for a in lazy_map.data.values()} == {"dask"}
    eager = _eager(classify_map, oxide_map)
    lazy = classify_lazy(lazy_map, band_rows=37).persist()
    found = lazy.compute()
    np.testing.assert_array_equal(found.codes, eager.codes)
    assert len(set(found.codes.ravel().tolist())) > 5 and (found.codes == found.names.index("mixture")).sum() > 20
    np.testing.assert_allclose(found.probability, eager.probability, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(found.class_proba_sum, eager.class_proba_sum, rtol=1e-9)
    modes, expected = lazy.modes(), eager.modes()
    assert list(modes.index) == list(expected.index)
    np.testing.assert_allclose(modes["area_percent"], expected["area_percent"], rtol=1e-12)
    cleaned = classify_lazy(lazy_map, band_rows=37, min_region=3).compute()
    np.testing.assert_array_equal(cleaned.codes, clean(eager, min_region=3).codes)
    settings = {"beam_width": 3.0, "max_chi2": 2.0}  # a wider beam reads more rows of context
    np.testing.assert_array_equal(
        classify_lazy(lazy_map, band_rows=37, **settings).compute().codes,
        _eager(classify_map, oxide_map, **settings).codes,
    )
    with pytest.raises(TypeError, match=r"classify_lazy takes classify_map's settings .*; not min_area"):
        classify_lazy(lazy_map, min_area=5.0)
    written = lazy.write(tmp_path / "out")
    assert (zarr.open_group(str(written[0]), mode="r")["codes"][:] == found.codes).all()
    assert written[2].stat().st_size > 1000


@pytest.mark.parametrize("suffix", [".npy", ".tif"])
def test_lazy_readers_read_the_grids(tmp_path, suffix):
    tifffile = pytest.importorskip("tifffile")
    from minml.maps._lazy import open_lazy

    oxide_map = _map()
    for name, grid in oxide_map.data.items():
        grid = np.asarray(grid, dtype=np.float32)
        if suffix == ".npy":
            np.save(tmp_path / f"{name}.npy", grid)
        else:
            tifffile.imwrite(tmp_path / f"{name}.tif", grid, tile=(32, 32))
    (tmp_path / "BSE.npy" if suffix == ".npy" else tmp_path / "BSE.tif").write_bytes(b"")  # not a channel: left out
    lazy = open_lazy(tmp_path, band_rows=30)
    assert sorted(lazy.data) == sorted(oxide_map.data)
    for name, grid in lazy.data.items():
        assert grid.chunks[0][0] == 30
        np.testing.assert_array_equal(
            grid.compute(scheduler="sync"), np.asarray(oxide_map.data[name], dtype=np.float32)
        )
    with pytest.raises(ValueError, match="Zarr group or a folder"):
        open_lazy(tmp_path / f"SiO2{suffix}")


def test_command_on_a_cluster_writes_every_row_once(client, sample, tmp_path, capsys):
    """``minml classify GLOB -o DIR/ --scheduler ADDRESS`` and ``minml validate FOLDER -o DIR/``:
    the files in pieces on the cluster, partitioned Parquet, each input row once."""
    from minml.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    sample.iloc[:40].to_csv(folder / "a.csv", index=False)
    sample.iloc[40:].to_csv(folder / "b.csv", index=False)
    address = client.scheduler.address
    out = tmp_path / "classified"
    assert main(["classify", str(folder / "*.csv"), "-o", f"{out}/", "--scheduler", address]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{len(sample)} analyses classified") and "(2 parts)" in printed
    parts = pd.concat([pd.read_parquet(part) for part in sorted(out.glob("part.*.parquet"))], ignore_index=True)
    assert parts["entity_id"].astype(int).tolist() == sample["entity_id"].tolist()
    expected = _eager(minml.classify, sample)
    assert parts["mineral"].astype(str).tolist() == expected["mineral"].astype(str).tolist()
    assert main(["classify", str(folder), "-o", f"{tmp_path / 'x'}/", "--species"]) == 2  # refused, not dropped
    assert "--species cannot be used with a folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="species=True is not available on Dask"):
        minml.validate(dd.from_pandas(sample, npartitions=2), "Mineral", species=True)
    validated = tmp_path / "validated"
    assert main(["validate", str(folder), "-o", f"{validated}/", "--scheduler", address]) == 0
    assert f"{len(sample)} rows validated" in capsys.readouterr().out
    rows = pd.concat([pd.read_parquet(part) for part in sorted(validated.glob("part.*.parquet"))])
    assert sorted(rows["validate_row"].astype(int)) == list(range(1, len(sample) + 1))
