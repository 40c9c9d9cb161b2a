"""EDS phase maps: accuracy on maps of analyses the classifier was NOT trained on, speed, memory.

    PYTHONPATH=src python benchmarks/bench_maps.py [--shared ../shared/data] [--quick] [--repeat 3]
                                                   [--old ../main/src]

1. Accuracy.  Maps of 512 x 512 pixels (1 µm), Voronoi grains of real LEPR analyses
   (data/test/lepr_allphases_lim.csv: experimental phases, not training data) of
   clinopyroxene, olivine, plagioclase and garnet (and a second set with orthopyroxene and
   spinel), EDS-like noise of 3 % relative with a 0.3 wt% floor, the pixels on grain boundaries
   a 50/50 mix of the two grains, epoxy cracks.  Printed per map:
   * interior pixels right (target >= 0.98), and right relative to the classifier's own answer
     for the grain's noise-free analysis (what map processing can reach: LEPR rows the
     classifier names wrongly as point analyses are named wrongly as maps too);
   * boundary pixels given one of their phases, a mixture of two of them, or unknown (>= 0.95),
     the same against the classifier's answers for the two grains' noise-free analyses, and the
     number of boundary pixels named a third phase;
   * modes: largest error against the true area % (<= 1 % absolute) and the share of phases whose
     error is within 2 sd (``sd_map_percent``: this map's error; ``sd_percent``: the rock's).
   The settings (max_chi2 4, beam width 2 µm, core pixels 6 of 8 neighbours) were chosen on maps
   of training rows (tests/test_map_mixtures.py and maps like these of the training compilations),
   never on these.
2. Speed, end to end through `minml map` in a fresh process (read, classify, mixtures, modes,
   pictures, pixel table): 2048 x 2048 x 11 oxides from .npz (target <= 5 s on 2 cores) and from
   11 CSV grids (target <= 8 s).  The load average is printed beside: the machine is shared.
   With ``--old``, every run is made on another tree's ``src`` too (e.g. the main branch's
   checkout), alternately with this one, so that both see the same load; each tree is
   byte-compiled first, as an install is, and run as the program (``python -m minml.cli``).
3. Memory: 4096 x 4096 (16 Mpixel) memory-mapped .npy through `minml map`: peak RSS (< 2 GiB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _lepr(shared: Path, minerals) -> pd.DataFrame:
    from minml.classifier.features import MODEL_OXIDES

    table = pd.read_csv(shared / "test" / "lepr_allphases_lim.csv")
    table["mineral"] = table["Mineral"].str.lower()
    rows = table[table["mineral"].isin(minerals)][[*MODEL_OXIDES, "mineral"]].copy()
    rows[list(MODEL_OXIDES)] = rows[list(MODEL_OXIDES)].fillna(0.0)
    return rows


def accuracy(shared: Path, size: int, seeds) -> None:
    from minml.classifier.predict import classify_values, load_default
    from minml.maps import classify_map, map_scores, synthetic_map

    runtime = load_default()
    names = np.array([*runtime.classes, "unknown"], dtype=object)
    for minerals in (("clinopyroxene", "olivine", "plagioclase", "garnet"), ("orthopyroxene", "spinel", "olivine")):
        rocks = _lepr(shared, minerals)
        for seed in seeds:
            m, truth = synthetic_map(rocks, (size, size), grains=size * size // 2000, cracks=2, blur=0.0,
                                     relative_noise=0.03, mix_boundaries=True, random_state=seed)  # fmt: skip
            start = time.perf_counter()
            result = classify_map(m)
            seconds = time.perf_counter() - start
            scores = map_scores(result, truth)
            clean = classify_values(truth["grain_values"].astype(np.float32), runtime)[0]
            own = names[clean][truth["grain"]]  # the classifier's answer for each grain's clean analysis
            inside = ~truth["boundary"] & ~truth["crack"]
            mineral = result.mineral()
            relative = float((mineral[inside] == own[inside]).mean())
            # the boundaries scored against the classifier's answers for the grains' clean analyses:
            # what the mixture step does with what the classifier gives it
            boundary_own = map_scores(result, {**truth, "mineral": own})["boundary_ok"]
            near = truth["boundary"]
            third = int(np.sum([m_ not in ("mixture", "unknown", "masked") and m_ not in set(minerals)
                                for m_ in mineral[near]]))  # fmt: skip
            modes = result.modes()
            true = pd.Series(truth["mineral"][~truth["crack"]]).value_counts(normalize=True) * 100
            named = modes[modes["mode_percent"].notna()].drop(index="unknown", errors="ignore")  # minerals
            error = (named["mode_percent"] - true.reindex(named.index).fillna(0.0)).abs()
            unknown = modes["mode_percent"].get("unknown", 0.0)  # a mode of its own where it forms regions
            print(f"{'+'.join(minerals)}, seed {seed}, {size} x {size}, classified in {seconds:.1f} s")
            print(f"  interior right {scores['interior_accuracy']:.4f} (target >= 0.98); "
                  f"relative to the classifier's answer for the grain's clean analysis {relative:.4f}")  # fmt: skip
            print(f"  boundary: one of their phases, their mixture or unknown {scores['boundary_ok']:.4f} "
                  f"(target >= 0.95); relative to the classifier's answers for the two grains' clean analyses "
                  f"{boundary_own:.4f}; named a third phase: {third} of {int(near.sum())}")  # fmt: skip
            print(f"  modes: largest error {error.max():.2f} % points (target <= 1; unknown regions "
                  f"{0.0 if pd.isna(unknown) else unknown:.2f} %); within 2 sd_map "
                  f"{np.mean(error <= 2 * named['sd_map_percent']):.2f}, within 2 sd "
                  f"{np.mean(error <= 2 * named['sd_percent']):.2f} (target >= 0.9 of phases)")  # fmt: skip


def _run(args: list[str], src: Path) -> tuple[float, float, float]:
    """Seconds, peak memory (MiB) and CPU seconds of ``minml`` with ``args`` on the tree ``src``
    (:func:`bench_end_to_end.run_minml`): on a shared machine the CPU time says what the run
    cost when the wall clock also counts the waits for a core."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_end_to_end import run_minml

    seconds, cpu, peak = run_minml(src, args)
    return seconds, peak, cpu


def _alternately(trees: dict, repeats: int, args: list[str]) -> dict:
    """``_run(args)`` ``repeats`` times on each tree, the trees in turn: tree -> runs.  Each
    tree byte-compiled first, as ``pip install`` leaves a package (under
    PYTHONDONTWRITEBYTECODE=1 every run would compile its modules again)."""
    for src in trees.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
    runs: dict[str, list] = {name: [] for name in trees}
    for _ in range(repeats):
        for name, src in trees.items():
            runs[name].append(_run(args, src))
    return runs


def speed(shared: Path, repeats: int, trees: dict) -> None:
    from minml.classifier.features import MODEL_OXIDES
    from minml.maps import synthetic_map

    rocks = _lepr(shared, ("clinopyroxene", "olivine", "plagioclase", "garnet"))
    m, _ = synthetic_map(rocks, (1024, 1024), grains=500, cracks=3, relative_noise=0.03, mix_boundaries=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        grids = {ox: np.tile(m.data[ox], (2, 2)) for ox in MODEL_OXIDES}
        np.savez(tmp / "map.npz", pixel_size=np.array(1.0), **grids)
        (tmp / "csv").mkdir()
        for ox, grid in grids.items():
            pd.DataFrame(grid).to_csv(tmp / "csv" / f"{ox}.csv", header=False, index=False, float_format="%.3f")
        for label, source in (("npz", tmp / "map.npz"), ("11 CSV grids", tmp / "csv")):
            found = _alternately(trees, repeats, ["map", str(source), "-o", str(tmp / "out"), "--pixel-size", "1"])
            for name, runs in found.items():
                times, cpu = [r[0] for r in runs], [r[2] for r in runs]
                print(f"2048 x 2048 x 11 from {label}, end to end, {name}: {min(times):.1f}-{max(times):.1f} s over "
                      f"{repeats} runs (target {'5' if label == 'npz' else '8'} s), cpu {min(cpu):.1f}-{max(cpu):.1f} s; "
                      f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        path = tmp / "map16.npy"
        stack = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(4096, 4096, len(MODEL_OXIDES)))
        for i, ox in enumerate(MODEL_OXIDES):
            stack[..., i] = np.tile(m.data[ox], (4, 4))
        stack.flush()
        del stack
        found = _alternately(trees, 1, ["map", str(path), "-o", str(tmp / "out16"), "--channels", *MODEL_OXIDES])
        for name, [(seconds, peak, cpu)] in found.items():
            print(f"4096 x 4096 memory-mapped .npy through `minml map`, {name}: {seconds:.0f} s (cpu {cpu:.0f} s), "
                  f"peak memory {peak:.0f} MiB (target < 2048); load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="one seed, 256 pixels, no memory run")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--repeat", type=int, default=None, help="end-to-end runs of each tree (default 3; --quick 1)")
    parser.add_argument("--old", type=Path, default=None, help="another tree's src to run alternately")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    accuracy(args.shared, 256 if args.quick else 512, [0] if args.quick else [0, 1])
    if not args.skip_speed:
        trees = {"new": Path(__file__).resolve().parents[1] / "src"} | ({"old": args.old} if args.old else {})
        for src in trees.values():  # as an install is: the runs time the work, not compiling the source
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "minml")], check=True)
        speed(args.shared, args.repeat or (1 if args.quick else 3), trees)


if __name__ == "__main__":
    main()
