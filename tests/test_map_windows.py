"""The whole-array neighbourhood sums behind the mixed pixels and the modes
(:mod:`minml.maps._windows`, :func:`minml.maps.modes._near_shares`) give the numbers of the
per-phase box filters they replace, to the bit, on a classified map of real analyses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import maximum_filter, minimum_filter, uniform_filter

from minml.classifier.features import MODEL_OXIDES
from minml.maps._windows import BoxCounts, alike_neighbours, scattered_counts, window_extremes
from minml.maps.classify import classify_map
from minml.maps.modes import _near_shares
from minml.maps.synthetic import synthetic_map

from .conftest import DATA


@pytest.fixture(scope="module")
def classified():
    from minml.training.data import collect_training_set

    table, _ = collect_training_set(DATA / "training")
    rocks = table[table["mineral"].isin(["olivine", "clinopyroxene", "plagioclase", "garnet"])]
    m, _ = synthetic_map(rocks[[*MODEL_OXIDES, "mineral"]], (96, 80), grains=9, cracks=1, relative_noise=0.03,
                         mix_boundaries=True, random_state=4)  # fmt: skip
    return classify_map(m)


@pytest.mark.parametrize("half", [1, 3, 6])
def test_window_extremes_and_counts_are_the_box_filters(classified, half):
    codes = np.where(classified.codes < len(classified.class_proba_sum), classified.codes, -1).astype(np.int16)
    assert len(np.unique(codes)) >= 5
    size = 2 * half + 1
    low, high = window_extremes(codes, half)
    top = np.iinfo(np.int16).max
    np.testing.assert_array_equal(high, maximum_filter(codes, size, mode="constant", cval=-1))
    np.testing.assert_array_equal(
        low, minimum_filter(np.where(codes >= 0, codes, top), size, mode="constant", cval=top)
    )
    for c in np.unique(codes[codes >= 0]):
        mask = codes == c
        box = np.rint(uniform_filter(mask.astype(np.float32), size, mode="constant") * size * size).astype(int)
        counts = BoxCounts(mask, half)
        np.testing.assert_array_equal(counts.whole(), box)
        np.testing.assert_array_equal(scattered_counts(mask, half), box)  # each pixel's window added: the same counts
        rows, cols = np.nonzero(mask)
        np.testing.assert_array_equal(counts[rows, cols], box[rows, cols])
        inner = mask & (uniform_filter(mask.astype(np.float32), 3, mode="constant") * 9 > 6.5)
        np.testing.assert_array_equal(mask & (alike_neighbours(codes) >= 6), inner)


def test_near_shares_are_the_box_filter_means_to_the_bit(classified):
    codes = classified.codes
    k = len(classified.class_proba_sum)
    present = np.unique(codes[codes < k])
    pixels = np.arange(codes.size)
    near = np.stack([uniform_filter((codes == c).astype(np.float32), 5, mode="constant").ravel() for c in present], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.nan_to_num(near / near.sum(axis=1, keepdims=True))
    found = _near_shares(codes, pixels, present, chunk=1000)
    assert found.dtype == np.float32 and (found > 0).any(axis=1).mean() > 0.9
    np.testing.assert_array_equal(found, expected)


def test_pixels_are_named_as_classify_names_their_rows():
    """The map's lean scoring (the ood test settled by the predicted class's density where it
    can be) names every row as :func:`minml.classify` does, unusual rows (50/50 mixes of two
    analyses, three in four of them unlike the training data) included, the cation judge at the
    maps' tolerance (``_cations.MAP_TOLERANCE``: EDS pixels scatter more than analyses)."""
    from minml import classify
    from minml.classifier import _cations
    from minml.classifier._gda import class_log_density, gaussian_log_density
    from minml.classifier.predict import classify_values, load_default
    from minml.training.data import collect_training_set

    table, _ = collect_training_set(DATA / "training")
    rows = table[list(MODEL_OXIDES)].fillna(0.0).to_numpy(np.float32)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(rows), (2, 6000))
    values = np.vstack([rows[rng.integers(0, len(rows), 6000)], 0.5 * (rows[a] + rows[b])])
    total = values.sum(axis=1)
    values = values[(total > 96) & (total < 104)]
    runtime = load_default()
    codes, probability = classify_values(values, runtime)
    shipped, _cations.TOLERANCE = _cations.TOLERANCE, _cations.MAP_TOLERANCE
    try:
        expected = classify(pd.DataFrame(values, columns=list(MODEL_OXIDES)))
    finally:
        _cations.TOLERANCE = shipped
    names = np.asarray([*runtime.classes, "unknown"], dtype=object)[codes]
    assert (names == "unknown").sum() > 300
    np.testing.assert_array_equal(names, expected["mineral"].astype(str).to_numpy())
    np.testing.assert_array_equal(probability, expected["probability"].to_numpy(np.float32))
    Z = runtime.scaled(values)
    top = rng.integers(0, len(runtime.classes), len(Z))
    full = gaussian_log_density(runtime.params, Z)[np.arange(len(Z)), top]
    np.testing.assert_allclose(class_log_density(runtime.params, Z, top), full, rtol=1e-5, atol=1e-3)


def _mapped_kib(path) -> int:
    """Resident KiB of this process's mappings of ``path`` (Linux: /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        lines = smaps.readlines()
    for line in lines:
        if line[:1] in "0123456789abcdef" and "-" in line.split()[0]:
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads /proc/self/smaps (Linux)")
def test_a_memory_mapped_npy_map_leaves_memory_as_its_rows_are_read(tmp_path):
    """Read block by block (as classify_map reads it), a memory-mapped map holds only the
    block being read in the process's memory, and gives the same answer as in memory."""
    from minml.maps.read import OxideMap, read_map

    rng = np.random.default_rng(0)
    stack = rng.uniform(0, 50, (2048, 1024, 11)).astype(np.float32)  # 88 MiB
    np.save(tmp_path / "big.npy", stack)
    names = ["SiO2", "TiO2", "Al2O3", "FeOt", "MnO", "MgO", "CaO", "Na2O", "K2O", "Cr2O3", "P2O5"]
    m = read_map(tmp_path / "big.npy", channels=names)
    for start in range(0, 2048, 128):
        block = m.columns(start, start + 128)
        np.testing.assert_array_equal(block["MgO"], stack[start : start + 128, :, 5].ravel())
        assert _mapped_kib(tmp_path / "big.npy") < 3 * 128 * 1024 * 11 * 4 / 1024  # a block or two, not 88 MiB
    values = np.stack(
        [np.full((40, 30), v, np.float32) for v in (45, 0.5, 15, 10, 0.2, 8, 11, 2.5, 0.1, 0.05, 0.02)], axis=-1
    )
    values *= rng.uniform(0.97, 1.03, values.shape).astype(np.float32)
    np.save(tmp_path / "rock.npy", values)
    mapped = classify_map(read_map(tmp_path / "rock.npy", channels=names))
    in_memory = classify_map(OxideMap({name: values[..., i].copy() for i, name in enumerate(names)}))
    np.testing.assert_array_equal(mapped.codes, in_memory.codes)
    np.testing.assert_array_equal(mapped.probability, in_memory.probability)
