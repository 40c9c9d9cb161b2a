"""`minml classify` end to end, as a user runs it: CSV -> CSV and Parquet -> Parquet.

    python benchmarks/bench_end_to_end.py [--rows 100000 1000000] [--repeat 3] [--old ../main/src]
                                          [--formats csv parquet]

Rows are real LEPR analyses (lepr_allphases_lim.csv) repeated to each count, written once as
CSV and Parquet under a temporary folder.  Each run is a fresh process (`python -m minml.cli
classify IN -o OUT`): wall time, CPU time (user + system) and the process's peak resident
memory.  Each tree is byte-compiled first, as an install is (an editable tree run under
PYTHONDONTWRITEBYTECODE=1 would compile its source in every run).  ``--rows 10`` measures
the fixed cost of a run: start-up, imports, the model, before and after the rows.  With ``--old``, the
same command runs on another tree's ``src`` (e.g. the main branch's checkout) alternately with
this one, in the same run, so that both see the same load.  Prints the range (least - most)
over ``--repeat`` runs.  Target (issue 24): 1 M rows CSV -> CSV <= 2.5 s and <= 700 MiB on 2
cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("csv", "parquet")


def _inputs(shared: Path, rows: int, folder: Path) -> dict[str, Path]:
    """The first ``rows`` of LEPR repeated, as CSV and Parquet files in ``folder``."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_classify import _table

    table = _table(shared, rows)
    paths = {fmt: folder / f"lepr_{rows}.{fmt}" for fmt in FORMATS}
    table.to_csv(paths["csv"], index=False)
    table.to_parquet(paths["parquet"], index=False)
    return paths


def run_minml(src: Path, args: list[str]) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak MiB) of ``minml`` with ``args``, run as the program
    (``python -m minml.cli``, as a user runs ``minml``) in a fresh process on the tree ``src``:
    CPU time (user + system, all threads) is what a loaded machine changes least."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "minml.cli", *args]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a pipe nobody reads fills and stops the child
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest of all children
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        said = errors.read().decode(errors="replace")
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {said}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_once(src: Path, source: Path, output: Path) -> tuple[float, float, float]:
    """:func:`run_minml` of ``minml classify source -o output``."""
    return run_minml(src, ["classify", str(source), "-o", str(output)])


def _span(values: list[float], form: str) -> str:
    return f"{min(values):{form}}-{max(values):{form}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", type=Path, default=None, help="another tree's src to run alternately")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args()
    trees = [("new", ROOT / "src")] + ([("old", args.old)] if args.old else [])
    for _, src in trees:  # as an install is: the runs time the work, not compiling the source
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "minml")], check=True)
    print(f"command: python benchmarks/{Path(__file__).name} " + " ".join(sys.argv[1:]))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; {args.repeat} runs each")
    print(f"{'rows':>10} {'route':>18} {'tree':>4} {'seconds':>12} {'CPU s':>12} {'peak MiB':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            inputs = _inputs(args.shared, rows, Path(folder))
            for fmt in args.formats:
                found: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in trees}
                for _ in range(args.repeat):
                    for name, src in trees:  # alternately: both trees see the same load
                        found[name].append(run_once(src, inputs[fmt], Path(folder) / f"out_{name}.{fmt}"))
                for name, _ in trees:
                    seconds, cpu, peak = zip(*found[name], strict=True)
                    route = f"{fmt} -> {fmt}"
                    print(
                        f"{rows:>10,} {route:>18} {name:>4} {_span(seconds, '.2f'):>12} {_span(cpu, '.2f'):>12} "
                        f"{_span(peak, '.0f'):>10}"
                    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
