"""EDS phase maps: accuracy on a synthetic map with known truth, speed, and memory.

    python benchmarks/bench_maps.py [--shared ../shared/data]

1. A 1024 x 1024 synthetic map (minml.maps.synthetic: grains of olivine, clinopyroxene,
   orthopyroxene, plagioclase, spinel and amphibole with compositions drawn from the
   training compilations, EDS noise 1.5 wt% at 50 wt%, boundaries blurred over 1 pixel,
   epoxy cracks) is classified; prints pixel accuracy on grain interiors (target >= 0.97),
   the share of boundary pixels flagged as mixtures or given one of their two phases
   (target >= 0.90) and the largest modal error (target <= 1 % absolute).
2. The map tiled to 2048 x 2048 (4 Mpixel, 11 oxides) is timed (target < 10 s on 2 cores).
3. The map tiled to 4096 x 4096 (16 Mpixel) is written as a memory-mapped .npy and classified
   by `minml map` in a fresh process; prints its peak memory (target < 2 GiB).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()

    from minml.classifier.features import MODEL_OXIDES
    from minml.classifier.predict import load_default
    from minml.maps.classify import classify_map
    from minml.maps.read import OxideMap
    from minml.maps.synthetic import map_scores, synthetic_map
    from minml.training.datasets import load_training

    table, _ = load_training(args.shared)
    rocks = table[
        table["mineral"].isin(["olivine", "clinopyroxene", "orthopyroxene", "plagioclase", "spinel", "amphibole"])
    ][[*MODEL_OXIDES, "mineral"]]
    oxide_map, truth = synthetic_map(rocks, (1024, 1024), grains=400, cracks=4, random_state=0)
    load_default()
    start = time.perf_counter()
    result = classify_map(oxide_map)
    seconds = time.perf_counter() - start
    scores = map_scores(result, truth)
    print(f"1024 x 1024 synthetic map classified in {seconds:.1f} s")
    print(f"  interior pixel accuracy {scores['interior_accuracy']:.4f} (target >= 0.97)")
    print(f"  boundary pixels flagged or one of their phases {scores['boundary_ok']:.4f} (target >= 0.90)")
    print(f"  largest modal error {scores['mode_error']:.2f} % points (target <= 1)")
    print(f"  cracks masked {scores['crack_masked']:.4f}")

    big = OxideMap({k: np.tile(v, (2, 2)) for k, v in oxide_map.data.items()})
    start = time.perf_counter()
    classify_map(big)
    print(f"2048 x 2048 x {len(big.data)} map: {time.perf_counter() - start:.1f} s (target < 10 s)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map16.npy"
        stack = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(4096, 4096, len(MODEL_OXIDES)))
        for i, ox in enumerate(MODEL_OXIDES):
            stack[..., i] = np.tile(oxide_map.data[ox], (4, 4))
        stack.flush()
        del stack
        code = (
            "import resource, sys; from minml.cli import main; "
            f"rc = main(['map', {str(path)!r}, '-o', {str(Path(tmp) / 'out')!r}, '--channels', "
            f"{', '.join(repr(o) for o in MODEL_OXIDES)}]); "
            "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
        )
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        peak = float(run.stdout.strip().splitlines()[-1].split()[-1])
        print(
            f"4096 x 4096 memory-mapped map through `minml map`: {time.perf_counter() - start:.0f} s, "
            f"peak memory {peak:.0f} MiB (target < 2048)"
        )


if __name__ == "__main__":
    main()
