"""Speed of `minml.classify` through the Python API, import time and memory.

    python benchmarks/bench_classify.py [--rows 1000000] [--shared ../shared/data]

Rows are real LEPR analyses (lepr_allphases_lim.csv) repeated to the requested count.
Prints rows/s with uncertainty (the default analytic posterior predictive), the time of
`import minml` (median of 7 fresh interpreters) and the peak resident memory of a process
that classifies the table. Targets (issue 3): >= 1 M rows/s, import < 0.3 s, 1 M rows < 1 GiB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _table(shared: Path, rows: int):
    import pandas as pd

    lepr = pd.read_csv(shared / "test" / "lepr_allphases_lim.csv").drop(columns=["Unnamed: 0"])
    reps = -(-rows // len(lepr))
    return pd.concat([lepr] * reps, ignore_index=True).iloc[:rows]


def best_time(call, repeats: int = 3):
    """(least seconds of ``repeats`` calls, the last result)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def import_time(statement: str, runs: int = 7) -> float:
    """Median seconds of ``statement`` in fresh interpreters."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(times)


def peak_memory_mib(shared: Path, rows: int) -> float:
    code = (
        "import resource, sys; sys.path.insert(0, sys.argv[3]);"
        "from bench_classify import _table; from pathlib import Path; import minml;"
        "t = _table(Path(sys.argv[1]), int(sys.argv[2])); r = minml.classify(t);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(shared), str(rows), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out)


def rows_and_shared(doc: str) -> argparse.Namespace:
    """The ``--rows`` and ``--shared`` options of the row-speed benchmarks."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    return parser.parse_args()


def main() -> None:
    args = rows_and_shared(__doc__)

    import minml

    table = _table(args.shared, args.rows)
    minml.classify(table.head(1000))  # load the model once
    best, result = best_time(lambda: minml.classify(table))
    assert len(result) == args.rows
    print(
        f"classify: {args.rows:,} rows in {best:.2f} s = {args.rows / best / 1e6:.2f} M rows/s "
        f"(best of 3; target >= 1 M rows/s)"
    )
    print(f"import minml: {import_time('import minml'):.4f} s (median of 7 fresh interpreters; target < 0.3 s)")
    print(
        f"import minml + classifier runtime (numpy, model; pandas comes with the first DataFrame): "
        f"{import_time('import minml.classifier.predict; minml.classifier.predict.load_default()'):.3f} s; pandas alone: "
        f"{import_time('import pandas'):.3f} s"
    )
    print(
        f"peak memory, {args.rows:,} rows: {peak_memory_mib(args.shared, args.rows):.0f} MiB "
        f"(whole process incl. the table; target < 1024 MiB)"
    )


if __name__ == "__main__":
    main()
