"""MIN-ML on Dask: tables in memory vs a two-worker LocalCluster, and a map from Zarr.

Tables: real LEPR rows (../shared/data/test/lepr_allphases_lim.csv) repeated with 1 % noise up to
each size, written as Parquet parts of ``--part-rows``; ``minml.classify`` on the whole table
in memory (``pd.read_parquet`` then ``classify``), and on a ``distributed.LocalCluster`` of 2
worker processes x 1 thread with ``--memory-limit`` each (``dd.read_parquet`` then
``minml.classify(ddf).compute()``), side by side; the ratio of throughputs; identity row for row
(mineral, flag exactly; probability to float32 rounding: the count of rows whose probability
differs at all is printed). Also ``minml.classify_files`` Parquet -> Parquet on the cluster.

Map: a synthetic map of real LEPR grains (``minml.maps.synthetic``) tiled to
``--map-side`` x ``--map-side`` pixels x 11 oxides, written to Zarr, classified with
``minml.maps._lazy.classify_lazy`` on the cluster and written to Zarr + PNG; the peak resident
memory of each worker process (``ru_maxrss``) is printed.

    python benchmarks/bench_dask.py --rows 10000 100000 1000000 --map-side 2048
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
LEPR = ROOT.parent / "shared" / "data" / "test" / "lepr_allphases_lim.csv"


def _rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of LEPR analyses, repeated with 1 % multiplicative noise on the oxides."""
    from minml.chemistry.oxides import map_columns

    base = pd.read_csv(LEPR, low_memory=False).drop(columns=["Unnamed: 0"], errors="ignore")
    oxides = list(map_columns(base.columns).mapped)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(base), n)
    out = base.iloc[pick].reset_index(drop=True)
    values = out[oxides].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    out[oxides] = values * rng.lognormal(0.0, 0.01, values.shape)
    return out


def _write_parts(table: pd.DataFrame, folder: Path, part_rows: int) -> None:
    folder.mkdir(parents=True)
    for i, start in enumerate(range(0, len(table), part_rows)):
        table.iloc[start : start + part_rows].to_parquet(folder / f"part.{i:05d}.parquet", index=False)


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peaks(client) -> list:
    return sorted(client.run(_peak_mib).values())


def bench_tables(client, sizes, part_rows: int, work: Path, files: bool = True) -> list:
    import dask.dataframe as dd

    import minml

    lines = []
    for n in sizes:
        folder = work / f"rows{n}"
        _write_parts(_rows(n), folder, part_rows)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eager = minml.classify(pd.read_parquet(folder))
        t_mem = time.perf_counter() - t
        t = time.perf_counter()  # the result written by the workers, part by part: compute() would gather
        minml.classify(dd.read_parquet(str(folder))).to_parquet(
            str(work / f"lazy{n}"), write_index=False, name_function=lambda i: f"part.{i:05d}.parquet"
        )  # parts named so that reading the folder back keeps their order
        t_dask = time.perf_counter() - t  # the whole result in one worker's memory, past its limit at 10 M rows
        lazy = pd.read_parquet(work / f"lazy{n}")
        shutil.rmtree(work / f"lazy{n}")
        differ = (lazy["mineral"].to_numpy() != eager["mineral"].to_numpy()) | (
            lazy["flag"].to_numpy() != eager["flag"].to_numpy()
        )
        if differ.any():  # what differs: rows at a threshold that float32 rounding of other batch sizes moves
            for i in np.flatnonzero(differ)[:4]:
                print(f"  row {i}: {eager['mineral'].iloc[i]} {eager['flag'].iloc[i]!r}")
                print(f"  {'':>{len(str(i)) + 5}}{lazy['mineral'].iloc[i]} {lazy['flag'].iloc[i]!r} (Dask)")
        moved = int(
            (lazy["probability"].to_numpy() != eager["probability"].to_numpy()).sum()
            - eager["probability"].isna().sum()
        )
        worst = float(np.nanmax(np.abs(lazy["probability"].to_numpy() - eager["probability"].to_numpy())))
        t_files = float("nan")
        if files:
            t = time.perf_counter()
            minml.classify_files(folder, work / f"out{n}", scheduler=client)
            t_files = time.perf_counter() - t
            shutil.rmtree(work / f"out{n}")
        lines.append(
            f"{n:>10,} {n / t_mem:>12,.0f} {n / t_dask:>12,.0f} {t_mem / t_dask:>7.2f} {n / t_files:>12,.0f} "
            f"{'yes' if not differ.any() else int(differ.sum()):>9} {moved:>7} {worst:>9.1e}"
        )
        shutil.rmtree(folder)
    return lines


def _in_memory_differs(store: Path, codes) -> int:
    """Pixels whose code differs from the map classified in memory (``classify_map``)."""
    import zarr

    from minml.maps import classify_map
    from minml.maps.read import OxideMap

    group = zarr.open_group(str(store), mode="r")
    eager = classify_map(OxideMap({name: array[:] for name, array in group.arrays()}))
    return int((np.asarray(codes) != eager.codes).sum())


def bench_map(client, side: int, work: Path, compare_max: int = 2048) -> str:
    import zarr

    from minml.classifier.features import MODEL_OXIDES
    from minml.maps._lazy import classify_lazy, open_lazy
    from minml.maps.synthetic import synthetic_map

    rows = pd.read_csv(ROOT / "examples" / "lepr_sample.csv")
    rows = rows[rows["Mineral"].isin(["Olivine", "Clinopyroxene", "Orthopyroxene", "Plagioclase", "Spinel"])]
    rows = rows.assign(mineral=rows["Mineral"].str.lower())[[*MODEL_OXIDES, "mineral"]].fillna(0.0)
    tile, _ = synthetic_map(rows, (512, 512), grains=40, cracks=2, random_state=3)
    group = zarr.open_group(str(work / "map.zarr"), mode="w")
    reps = -(-side // 512)
    for name, grid in tile.data.items():
        array = group.create_array(name, shape=(side, side), dtype=np.float32, chunks=(256, side))
        band = np.tile(np.asarray(grid, dtype=np.float32), (1, reps))[:, :side]
        for start in range(0, side, 512):
            stop = min(side, start + 512)
            array[start:stop] = band[: stop - start]
    t = time.perf_counter()
    result = classify_lazy(open_lazy(work / "map.zarr", band_rows=256), band_rows=256)
    written = result.write(work / "map_out")
    elapsed = time.perf_counter() - t
    peaks = _peaks(client)
    same = "not compared (larger than --compare-max)"
    if side <= compare_max:
        differ = _in_memory_differs(work / "map.zarr", zarr.open_group(str(written[0]), mode="r")["codes"][:])
        same = "identical to in memory" if differ == 0 else f"{differ} pixels differ from in memory"
    shutil.rmtree(work / "map.zarr")
    shutil.rmtree(work / "map_out")
    return (
        f"map {side} x {side} = {side * side / 1e6:.1f} Mpixel x {len(tile.data)} oxides: {elapsed:.1f} s "
        f"({side * side / elapsed / 1e6:.2f} Mpixel/s), worker peak RSS {', '.join(f'{p:.0f}' for p in peaks)} MiB; "
        f"{same}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--part-rows", type=int, default=250_000)
    parser.add_argument("--map-side", type=int, nargs="*", default=[2048], help="sides of square maps (none: no map)")
    parser.add_argument(
        "--compare-max", type=int, default=2048, help="maps up to this side are compared with classify_map in memory"
    )
    parser.add_argument("--memory-limit", default="900MiB")
    parser.add_argument("--no-files", action="store_true", help="leave out classify_files (Parquet -> Parquet)")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    print("command: python " + " ".join(["benchmarks/bench_dask.py", *sys.argv[1:]]))
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit=args.memory_limit, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        work = Path(tmp)
        print(
            f"LocalCluster: 2 workers x 1 thread, memory_limit {args.memory_limit} each; Parquet parts of {args.part_rows:,} rows"
        )
        print(
            f"{'rows':>10} {'memory r/s':>12} {'dask r/s':>12} {'ratio':>7} {'files r/s':>12} {'identical':>9} {'p moved':>7} {'max |dp|':>9}"
        )
        for line in bench_tables(client, args.rows, args.part_rows, work, files=not args.no_files):
            print(line)
        for side in args.map_side:
            print(bench_map(client, side, work, args.compare_max))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
