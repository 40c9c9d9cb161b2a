"""Reading and writing Excel workbooks: MIN-ML's reader and writer against pandas' defaults.

    python benchmarks/bench_excel.py [--rows 100000] [--shared ../shared/data]

The table is `minml classify`'s output for real LEPR analyses (lepr_allphases_lim.csv)
repeated to --rows: the input's 16 columns and the 8 result columns. Times, side by side in
one run (each the faster of two):

* writing: `minml.write_table` (openpyxl's package, the rows rendered as openpyxl renders
  them), openpyxl's write-only mode cell by cell, and `DataFrame.to_excel` (openpyxl);
* reading: `minml.read_table` (calamine) and `pandas.read_excel` with openpyxl,
  asserting both give the same table.

No issue target: the figures back docs/guide/performance.md's sentence on Excel files.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best_time(call, repeats: int = 2) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()

    import pandas as pd

    import minml
    from minml.io._xlsx import _excel_cells, _write_sheet_openpyxl

    lepr = pd.read_csv(args.shared / "test" / "lepr_allphases_lim.csv").drop(columns=["Unnamed: 0"])
    table = pd.concat([lepr] * (-(-args.rows // len(lepr))), ignore_index=True).iloc[: args.rows]
    table = pd.concat([table, minml.classify(table)], axis=1)
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours.xlsx", Path(tmp) / "pandas.xlsx"
        header = [str(name) for name in table.columns]
        cells = [_excel_cells(table[name], name, lambda value: value) for name in table.columns]
        write = {
            "minml.write_table": best_time(lambda: minml.write_table(table, ours)),
            "openpyxl write-only, cell by cell": best_time(
                lambda: _write_sheet_openpyxl(header, iter([cells]), len(table), Path(tmp) / "cells.xlsx", False)
            ),
            "DataFrame.to_excel": best_time(lambda: table.to_excel(theirs, index=False)),
        }
        read = {
            "minml.read_table (calamine)": best_time(lambda: minml.read_table(ours)),
            "pandas.read_excel (openpyxl)": best_time(lambda: pd.read_excel(ours, engine="openpyxl")),
        }
        pd.testing.assert_frame_equal(minml.read_table(ours), pd.read_excel(ours, engine="openpyxl"))
    print(f"{len(table):,} rows x {table.shape[1]} columns (minml classify's output), faster of 2:")
    for title, times in (("write", write), ("read", read)):
        first = next(iter(times.values()))
        for name, seconds in times.items():
            print(f"  {title:5s} {name:36s} {seconds:7.2f} s  ({seconds / first:5.1f}x minml's time)")


if __name__ == "__main__":
    main()
