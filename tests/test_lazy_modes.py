"""``LazyMapResult.modes``: the in-memory modal table (:func:`minml.maps.modes.modal_table`),
every column, computed band by band with Dask.

The in-memory side is ``classify_map`` (+ ``clean``) with blocks of the lazy bands' rows: the
network's float32 products round the last bit of a few probabilities differently for batches
of other sizes (in memory too, between two ``block_pixels``), which moves the classification
term by ~1e-8; with the same batches the phase map, probabilities and mixtures are the same
bits, and the tables agree to float64 rounding (1e-9 relative is asserted).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from minml.classifier.features import MODEL_OXIDES
from minml.maps.classify import MASKED, MIXTURE, UNKNOWN, classify_map, clean
from minml.maps.read import OxideMap, read_map
from minml.maps.synthetic import synthetic_map

from .conftest import ROOT

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

DEMO = ROOT / "examples" / "demo_map.npz"
COLUMNS = [
    "pixels", "area_percent", "mode_percent", "sd_percent", "sd_map_percent", "sd_classification",
    "sd_boundary", "sd_sampling", "area_um2", "listed_apart",
]  # fmt: skip


def _same_table(lazy: pd.DataFrame, eager: pd.DataFrame) -> None:
    """The whole table: rows, columns in order, dtypes; counts and flags exactly, the rest to
    1e-9 relative (NaN where the in-memory table has NaN)."""
    assert list(eager.columns) == COLUMNS
    assert list(lazy.columns) == list(eager.columns)
    assert list(lazy.index) == list(eager.index) and lazy.index.name == eager.index.name
    assert lazy.dtypes.tolist() == eager.dtypes.tolist()
    for name in eager.columns:
        if pd.api.types.is_float_dtype(eager[name]):
            np.testing.assert_allclose(lazy[name], eager[name], rtol=1e-9, atol=0, err_msg=name)
        else:
            assert lazy[name].tolist() == eager[name].tolist(), name


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():  # the map's channel warnings: not what these tests look at
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _npy_folder(folder, oxide_map: OxideMap):
    folder.mkdir()
    for name, grid in oxide_map.data.items():
        np.save(folder / f"{name}.npy", np.asarray(grid, dtype=np.float32))
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo map in memory (``read_map``), and its channels as a folder of ``.npy`` files."""
    oxide_map = read_map(DEMO)
    return oxide_map, _npy_folder(tmp_path_factory.mktemp("demo") / "channels", oxide_map)


@pytest.fixture(scope="module")
def lepr_map(shared_data, tmp_path_factory):
    """A synthetic section of grains of six real LEPR phases, with an epoxy crack."""
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", low_memory=False)
    phases = ["Olivine", "Clinopyroxene", "Orthopyroxene", "Plagioclase", "Spinel", "Garnet"]
    rows = table[table["Mineral"].isin(phases)]
    rows = rows.assign(mineral=rows["Mineral"].str.lower())[[*MODEL_OXIDES, "mineral"]].fillna(0.0)
    oxide_map, _ = synthetic_map(rows, (90, 70), grains=10, cracks=1, random_state=7)
    return oxide_map, _npy_folder(tmp_path_factory.mktemp("lepr") / "channels", oxide_map)


def _eager(oxide_map: OxideMap, pixel_size, band_rows: int, min_region):
    """The in-memory path on the same pixels: classify_map (in blocks of ``band_rows`` rows),
    clean when asked."""
    grids = OxideMap({name: np.asarray(grid) for name, grid in oxide_map.data.items()}, pixel_size=pixel_size)
    result = _quiet(classify_map, grids, block_pixels=band_rows * grids.shape[1])
    return result if min_region is None else clean(result, min_region=min_region)


def _lazy(folder, pixel_size, band_rows: int, min_region):
    from minml.maps._lazy import classify_lazy, open_lazy

    oxide_map = open_lazy(folder, band_rows=band_rows, pixel_size=pixel_size)
    return _quiet(classify_lazy, oxide_map, band_rows=band_rows, min_region=min_region)


def _triple_unknowns(result) -> int:
    """Unknown pixels with three minerals or more within 2 pixels."""
    k = len(result.class_proba_sum)
    padded = np.pad(result.codes, 2, constant_values=-1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 5))
    found = 0
    for r, c in np.argwhere(result.codes == result.names.index(UNKNOWN)):
        near = windows[r, c]
        found += len(np.unique(near[(near >= 0) & (near < k)])) >= 3
    return found


def test_the_trial_script_gets_the_in_memory_table(demo):
    """The user's trial: channels written from ``demo_map.npz``, opened in bands of 37 rows,
    classified lazily with ``min_region=3``, against ``read_map`` + ``classify_map`` + ``clean``
    with their defaults (the map is one classification band: the same probabilities); then
    the same result read back in bands of 37 rows (as from a Zarr store chunked otherwise)."""
    import dataclasses

    from minml.maps._lazy import classify_lazy, open_lazy

    oxide_map, folder = demo
    eager = clean(_quiet(classify_map, oxide_map), min_region=3).modes()
    with dask.config.set(scheduler="synchronous"):
        lazy = _quiet(classify_lazy, open_lazy(folder, band_rows=37, pixel_size=oxide_map.pixel_size), min_region=3)
        _same_table(lazy.modes(), eager)
        kept = lazy.persist()
        chunked = dataclasses.replace(kept, codes=kept.codes.rechunk((37, -1)))
        _same_table(chunked.modes(), eager)
    # what the trial saw: the full uncertainty (3.8-4.9 % points), not a counting term
    assert (eager["sd_percent"].dropna() > 3.0).all() and (eager["sd_sampling"].dropna() > 3.0).all()
    assert eager.loc[MIXTURE, "pixels"] > 1000 and eager.loc[UNKNOWN, "pixels"] > 50


@pytest.mark.parametrize("pixel_size", [None, 0.5])
@pytest.mark.parametrize("min_region", [None, 3])
@pytest.mark.parametrize("band_rows", [7, 32, 37])
def test_demo_map_modes_band_by_band(demo, band_rows, min_region, pixel_size):
    """Bands of 7 and 37 rows (not dividing the 128 rows) and 32; cleaned or not; without a
    pixel size (areas in pixels) and with 0.5 µm (a wider beam in pixels, areas in µm²)."""
    oxide_map, folder = demo
    eager = _eager(oxide_map, pixel_size, band_rows, min_region)
    with dask.config.set(scheduler="synchronous"):
        lazy = _lazy(folder, pixel_size, band_rows, min_region)
        found = lazy.modes()
    _same_table(found, eager.modes())
    assert lazy.codes.numblocks[0] == -(-128 // band_rows)
    unit = (pixel_size or 1.0) ** 2
    assert found["area_um2"].sum() == pytest.approx(128 * 128 * unit, rel=1e-9)  # each pixel once (float32 shares)


@pytest.mark.shared_data
@pytest.mark.parametrize("pixel_size", [None, 0.5])
@pytest.mark.parametrize("min_region", [None, 3])
@pytest.mark.parametrize("band_rows", [4, 25, 32])
def test_lepr_map_modes_band_by_band(lepr_map, band_rows, min_region, pixel_size):
    """A 90 x 70 section of six LEPR phases: grains cut by many bands, unknown pixels where
    three minerals meet (their shares' float32 sum rounds as the whole map's phases lie), a
    crack; with another ``blocks``, ``random_state`` and ``min_area`` too.  On the threaded
    scheduler, bands classified side by side round a few probabilities otherwise (float32):
    there the table is the in-memory one of the same classified pixels."""
    oxide_map, folder = lepr_map
    eager = _eager(oxide_map, pixel_size, band_rows, min_region)
    assert (eager.codes == eager.names.index(MASKED)).sum() > 0
    if min_region is None:  # cleaned at 0.5 µm, none is left
        assert _triple_unknowns(eager) > 0
    other = {"blocks": 5, "random_state": 11, "min_area": 40.0}
    with dask.config.set(scheduler="synchronous"):
        lazy = _lazy(folder, pixel_size, band_rows, min_region).persist()
        _same_table(lazy.modes(), eager.modes())
        _same_table(lazy.modes(**other), eager.modes(**other))
    with dask.config.set(scheduler="threads"):
        lazy = _lazy(folder, pixel_size, band_rows, min_region).persist()
        found = lazy.compute()
        np.testing.assert_array_equal(found.codes, eager.codes)
        _same_table(lazy.modes(), found.modes())
        _same_table(lazy.modes(**other), found.modes(**other))


@pytest.mark.shared_data
def test_written_on_a_cluster_each_band_once(lepr_map, tmp_path, monkeypatch):
    """On a two-worker ``LocalCluster``: ``write`` classifies each band once and sums the modes
    in that pass; its ``modes.csv`` is the in-memory table (to the 4 decimals written), and
    ``modes()`` of the result the table itself."""
    import minml.maps._lazy as lazy_module

    oxide_map, folder = lepr_map
    eager = _eager(oxide_map, 0.5, 25, 3).modes()
    bands = []
    resolved = lazy_module._band_resolved

    def counted(*args):
        bands.append(args[5][0])  # the first row of the band's halo
        return resolved(*args)

    monkeypatch.setattr(lazy_module, "_band_resolved", counted)
    with dask.config.set(scheduler="synchronous"):
        _lazy(folder, 0.5, 25, 3).write(tmp_path / "sync")
    assert sorted(bands) == sorted(set(bands)) and len(bands) == 4  # 90 rows in bands of 25
    written = pd.read_csv(tmp_path / "sync" / "modes.csv", index_col="phase")
    assert list(written.index) == list(eager.index) and list(written.columns) == COLUMNS
    numbers = eager.columns.drop("listed_apart")
    np.testing.assert_allclose(written[numbers], eager[numbers], atol=5e-5, rtol=0)
    monkeypatch.undo()

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit="1GiB"
    )
    with cluster, distributed.Client(cluster):
        lazy = _lazy(folder, 0.5, 25, 3)
        paths = lazy.write(tmp_path / "cluster")
        _same_table(lazy.modes(), eager)
    assert pd.read_csv(paths[1], index_col="phase").equals(written)
