"""Make the bundled demo map (examples/demo_map.npz, < 1 MB) and its truth.

    python examples/make_demo_map.py

A 128 x 128 synthetic quantified map (1 µm pixels) of olivine, clinopyroxene,
orthopyroxene, plagioclase and spinel grains, compositions drawn from the real analyses of
the test fixtures (tests/data/training, cut from the published compilations), with EDS-level
noise, blurred boundaries and one epoxy-filled crack (minml.maps.synthetic). Classify it with

    minml map examples/demo_map.npz -o demo_map_out
"""

from pathlib import Path

import numpy as np

from minml.classifier.features import MODEL_OXIDES
from minml.maps.synthetic import synthetic_map
from minml.training.data import collect_training_set

HERE = Path(__file__).resolve().parent

table, _ = collect_training_set(HERE.parent / "tests" / "data" / "training")
rocks = table[table["mineral"].isin(["olivine", "clinopyroxene", "orthopyroxene", "plagioclase", "spinel"])]
oxide_map, truth = synthetic_map(rocks[[*MODEL_OXIDES, "mineral"]], (128, 128), grains=14, cracks=1, random_state=7)
np.savez_compressed(
    HERE / "demo_map.npz", pixel_size=np.array(1.0), **{k: v.astype(np.float32) for k, v in oxide_map.data.items()}
)
np.savez_compressed(
    HERE / "demo_map_truth.npz", mineral=truth["mineral"].astype(str), boundary=truth["boundary"], crack=truth["crack"]
)
print(f"wrote {HERE / 'demo_map.npz'} ({(HERE / 'demo_map.npz').stat().st_size / 1e3:.0f} kB) and its truth")
