"""Run every ``minml`` command on the bundled examples and the shared files; record or compare
the sha256 of each output.

A refactor must not change what users get.  Run once before the change (``record``) and once
after (``compare``)::

    python benchmarks/same_outputs.py record  /tmp/before.json
    python benchmarks/same_outputs.py compare /tmp/before.json

Outputs whose bytes carry a creation time (``.xlsx`` packages) are compared by their cells.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MINML = [sys.executable, "-m", "minml.cli"]


_PARQUET_INPUT = "example.parquet"  # written in the run's folder from examples/lepr_sample.csv
_MAP_FILES = ("modes.csv", "pixels.parquet", "phase_map.png", "confidence.png", "modes.png")


def _prepare(folder: str, arguments: list[str]) -> None:
    """Inputs a run needs that are not files of the repository: the example as Parquet."""
    if _PARQUET_INPUT in arguments:
        import pandas as pd

        pd.read_csv(ROOT / "examples" / "lepr_sample.csv").to_parquet(Path(folder) / _PARQUET_INPUT, index=False)


def _runs() -> list[tuple[str, list[str], list[str]]]:
    """(name, arguments, outputs relative to the run's folder) of each command to compare."""
    example = str(ROOT / "examples" / "lepr_sample.csv")
    demo_map = str(ROOT / "examples" / "demo_map.npz")
    runs = [
        ("classify_example_csv", ["classify", example, "-o", "out.csv"], ["out.csv"]),
        ("classify_example_parquet", ["classify", example, "-o", "out.parquet"], ["out.parquet"]),
        ("classify_example_xlsx", ["classify", example, "-o", "out.xlsx"], ["out.xlsx"]),
        ("classify_parquet_to_parquet", ["classify", _PARQUET_INPUT, "-o", "out.parquet"], ["out.parquet"]),
        ("classify_example_coverage", ["classify", example, "--coverage", "0.95", "-o", "out.csv"], ["out.csv"]),
        ("validate_example", ["validate", example, "--label-column", "Mineral", "-o", "out.csv"], ["out.csv"]),
        ("formula_example", ["formula", example, "--mineral-column", "Mineral", "-o", "out.csv"], ["out.csv"]),
        ("formula_example_auto", ["formula", example, "--mineral", "auto", "-o", "out.csv"], ["out.csv"]),
        ("latent_example", ["latent", example, "-o", "out.csv"], ["out.csv"]),
        ("check_example", ["check", example, "-o", "out.csv"], ["out.csv"]),
        ("map_demo", ["map", demo_map, "-o", "map"], [f"map/{name}" for name in _MAP_FILES]),
        (  # fine pixels under a wide beam: the mixture step's widest neighbourhoods; the index map and a profile
            "map_demo_fine",
            [*("map", demo_map, "-o", "map", "--pixel-size", "0.5", "--beam-width", "6", "--index", "Fo")]
            + ["--profile", "5,5,120,90"],
            [f"map/{name}" for name in (*_MAP_FILES, "index_Fo.png", "profile.csv", "profile.png")],
        ),
    ]
    if SHARED.is_dir():
        for name in ("lepr_allphases_lim.csv", "lepr_allphases.csv", "glasses_df.csv"):
            path = str(SHARED / "test" / name)
            runs.append((f"classify_{name}", ["classify", path, "-o", "out.csv"], ["out.csv"]))
            runs.append((f"check_{name}", ["check", path, "-o", "out.csv"], ["out.csv"]))
        lepr = str(SHARED / "test" / "lepr_allphases.csv")
        runs += [
            ("validate_lepr", ["validate", lepr, "--label-column", "Mineral", "-o", "out.csv"], ["out.csv"]),
            ("formula_lepr", ["formula", lepr, "--mineral-column", "Mineral", "-o", "out.csv"], ["out.csv"]),
            ("latent_lepr", ["latent", str(SHARED / "test" / "lepr_allphases_lim.csv"), "-o", "out.csv"], ["out.csv"]),
        ]
        for workbook in sorted((SHARED / "training").glob("*.xlsx")):
            runs.append((f"classify_{workbook.stem}", ["classify", str(workbook), "-o", "out.csv"], ["out.csv"]))
    return runs


def _digest(path: Path) -> str:
    if path.suffix == ".xlsx":  # the package records its creation time: compare the cells
        import pandas as pd

        cells = pd.read_excel(path, sheet_name=None, engine="openpyxl", dtype=str)
        text = "\n".join(f"{name}\n{frame.to_csv(index=False)}" for name, frame in cells.items())
        return hashlib.sha256(text.encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record() -> dict[str, str]:
    digests: dict[str, str] = {}
    for name, arguments, outputs in _runs():
        with tempfile.TemporaryDirectory() as folder:
            _prepare(folder, arguments)
            done = subprocess.run(MINML + arguments, cwd=folder, capture_output=True, text=True)
            digests[f"{name}:exit"] = str(done.returncode)
            for output in outputs:
                path = Path(folder) / output
                digests[f"{name}:{output}"] = _digest(path) if path.exists() else "absent"
        print(f"{name}: exit {done.returncode}", flush=True)
    return digests


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"record", "compare"}:
        print(__doc__)
        return 2
    digests = record()
    if argv[0] == "record":
        Path(argv[1]).write_text(json.dumps(digests, indent=1))
        return 0
    before = json.loads(Path(argv[1]).read_text())
    changed = sorted(key for key in before.keys() | digests.keys() if before.get(key) != digests.get(key))
    for key in changed:
        print(f"CHANGED {key}: {before.get(key)} -> {digests.get(key)}")
    print(f"{len(before) - len(changed)} of {len(before)} outputs identical")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
