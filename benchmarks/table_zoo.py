"""Done-when check of issue 20: ``minml classify`` with NO options on a zoo of real tables.

Each table is built from the same rows of the shared LEPR file (its oxide sum 88-105 wt%, a
random 2,000 by default), in a layout users' tables come in: minor columns dropped, two sources
merged with suffixes, missing-value codes planted, written as each instrument writes it,
upper-case names and extensions.  Every one is classified by ``minml classify IN -o OUT`` (a
fresh process, no options) and its answers compared row by row with the clean original's.
Target: every table classifies, with the same answers within 0.5 % of rows.  For the tables
without a column, the rows that differ are split by why: the removed oxide was a major one in
the row (>= 2 wt%: the row is another analysis without it, and *unknown* is its honest answer),
it was blank in the clean table (read as 0 there, completed here), or neither.

Run: ``PYTHONPATH=src:. python benchmarks/table_zoo.py [SHARED] [ROWS]``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tests.layouts import write_aztec, write_cameca, write_jeol, write_probe_for_epma

WITHOUT = {f"no {', '.join(r)}": list(r) for r in (("P2O5",), ("Cr2O3", "NiO", "CoO"), ("MnO", "P2O5"))}
"""The tables without columns: name -> the columns it lacks."""

MAJOR = 2.0
"""wt%: a removed oxide at or above this in a row made it another analysis (a spessartine without
MnO, a chromite without Cr2O3), not one whose minor oxide was left unanalysed."""

OXIDES = ["SiO2", "TiO2", "Al2O3", "Cr2O3", "FeOt", "MnO", "MgO", "NiO", "CoO", "CaO", "Na2O", "K2O", "P2O5"]


def _merged(table: pd.DataFrame, columns) -> pd.DataFrame:
    """Half the rows under the plain names, half under ``_Cpx`` names (a compilation of two sources)."""
    half = len(table) // 2
    out = table.copy()
    for col in columns:
        out[f"{col}_Cpx"] = np.nan
        out.loc[out.index[half:], f"{col}_Cpx"] = out[col].iloc[half:].to_numpy()
        out.loc[out.index[half:], col] = np.nan
    return out


def _coded(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["Na2O"] = out["Na2O"].fillna(-0.99)
    out["P2O5"] = out["P2O5"].fillna(-999)
    out["NiO"] = out["NiO"].fillna(9999)
    return out


def build(table: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """Every zoo table, written into ``folder``; name -> path."""
    zoo: dict[str, Path] = {}

    def csv(name: str, frame: pd.DataFrame) -> None:
        zoo[name] = folder / f"{name}.csv"
        frame.to_csv(zoo[name], index=False)

    csv("clean", table)
    for name, removed in WITHOUT.items():
        csv(name, table.drop(columns=removed))
    csv("merged NiO, NiO_Cpx", _merged(table, ["NiO"]))
    csv("merged: all oxides, _Cpx", _merged(table, OXIDES))
    csv("codes -0.99, -999, 9999", _coded(table))
    csv("UPPER-CASE NAMES", table.rename(columns={c: c.upper() for c in OXIDES}))
    zoo["upper-case extension"] = folder / "DATA.CSV"
    table.to_csv(zoo["upper-case extension"], index=False)
    zoo["AZtec oxide wt% (csv)"] = write_aztec(table, folder / "aztec.csv")
    zoo["AZtec oxide wt% (xlsx)"] = write_aztec(table, folder / "aztec.xlsx")
    zoo["AZtec element wt% (EDS)"] = write_aztec(table, folder / "aztec_elements.csv", elements=True)
    zoo["AZtec element wt% (xlsx)"] = write_aztec(table, folder / "aztec_elements.xlsx", elements=True)
    zoo["Cameca SX / PeakSight"] = write_cameca(table, folder / "cameca.txt")
    zoo["JEOL summary report"] = write_jeol(table, folder / "jeol.txt")
    groups = {f"{m} {k}": part for k, (m, part) in enumerate(table.groupby("Mineral", sort=False))}
    order = np.concatenate([part.index.to_numpy() for part in groups.values()])
    zoo["Probe for EPMA"] = write_probe_for_epma(groups, folder / "pfe.txt")
    zoo["Probe for EPMA"].with_suffix(".order").write_text(",".join(map(str, order)))
    return zoo


def _why_differ(table: pd.DataFrame, name: str, differ: np.ndarray) -> str:
    """For a table of :data:`WITHOUT`, how many differing rows held a removed oxide at >= MAJOR
    wt%, and how many had it blank in the clean table (read as 0 there, completed here)."""
    removed = WITHOUT.get(name)
    if removed is None or not differ.any():
        return ""
    major = (table[removed].fillna(0.0) >= MAJOR).any(axis=1).to_numpy()
    blank = table[removed].isna().any(axis=1).to_numpy() & ~major
    rest = differ & ~major & ~blank
    return (
        f"of the rows differing: {int((differ & major).sum())} held a removed oxide >= {MAJOR:g} wt%, "
        f"{int((differ & blank).sum())} had it blank in the clean table (0 there), {int(rest.sum())} other"
    )


def classify_file(path: Path, out: Path) -> tuple[int, str, float]:
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "minml.cli", "classify", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, (run.stderr.strip().splitlines() or [""])[-1], time.perf_counter() - start


def main(shared: Path, rows: int) -> int:
    lepr = pd.read_csv(shared / "data" / "test" / "lepr_allphases_lim.csv").drop(columns=["Unnamed: 0"])
    total = lepr[[c for c in OXIDES if c != "CoO"]].sum(axis=1)
    table = lepr[total.between(88, 105)].sample(rows, random_state=0).reset_index(drop=True)
    print(f"command: PYTHONPATH=src:. python benchmarks/table_zoo.py {shared} {rows}")
    print(f"{rows} LEPR rows (oxide sum 88-105 wt%, random_state=0); each table: minml classify IN -o OUT")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        zoo = build(table, folder)
        reference = None
        print(f"{'table':<28} {'rc':>3} {'rows':>6} {'same answers':>13} {'differ %':>9} {'s':>5}  message")
        for name, path in zoo.items():
            out = folder / f"out_{len(name)}_{abs(hash(name))}.csv"
            rc, message, seconds = classify_file(path, out)
            if rc != 0:
                failed += 1
                print(f"{name:<28} {rc:>3} {'':>6} {'':>13} {'':>9} {seconds:>5.1f}  {message[:80]}")
                continue
            answers = pd.read_csv(out, low_memory=False)["mineral"].astype(str).to_numpy()
            if name == "Probe for EPMA":  # its tables are per sample: back in the original order
                order = np.array(path.with_suffix(".order").read_text().split(","), dtype=int)
                answers = answers[np.argsort(order)]
            if reference is None:
                reference = answers
            comparable = len(answers) == len(reference)
            differ = float((answers != reference).mean()) if comparable else 1.0
            failed += differ > 0.005
            same = int((answers == reference).sum()) if comparable else 0
            why = _why_differ(table, name, answers != reference) if comparable else ""
            print(f"{name:<28} {rc:>3} {len(answers):>6} {same:>13} {100 * differ:>9.2f} {seconds:>5.1f}  {why}")
    print(f"{len(zoo) - failed} of {len(zoo)} tables classify with the clean table's answers within 0.5 % of rows")
    return 1 if failed else 0


if __name__ == "__main__":
    here = Path(__file__).resolve().parents[1]
    sys.exit(
        main(
            Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "shared",
            int(sys.argv[2]) if len(sys.argv) > 2 else 2000,
        )
    )
