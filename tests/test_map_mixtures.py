"""Boundary pixels, honest modes and the pictures of a classified map, on synthetic maps of
real analyses (the bundled training fixtures) with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minml.classifier.features import MODEL_OXIDES
from minml.cli import main
from minml.maps.classify import MIXTURE, classify_map
from minml.maps.outputs import write_outputs
from minml.maps.read import OxideMap
from minml.maps.synthetic import map_scores, synthetic_map

from .conftest import DATA, ROOT


def _rocks(minerals):
    from minml.training.data import collect_training_set

    table, _ = collect_training_set(DATA / "training")
    return table[table["mineral"].isin(minerals)][[*MODEL_OXIDES, "mineral"]]


def _two_grains(a: pd.Series, b: pd.Series, shape=(24, 40), noise=0.01, seed=0):
    """Left half grain ``a``, right half grain ``b``, the two middle columns 50/50 mixes."""
    rng = np.random.default_rng(seed)
    h, w = shape
    values = np.empty((h, w, len(MODEL_OXIDES)))
    values[:, : w // 2] = a[list(MODEL_OXIDES)].to_numpy(float)
    values[:, w // 2 :] = b[list(MODEL_OXIDES)].to_numpy(float)
    values[:, w // 2 - 1 : w // 2 + 1] = 0.5 * (
        a[list(MODEL_OXIDES)].to_numpy(float) + b[list(MODEL_OXIDES)].to_numpy(float)
    )
    values *= 1 + noise * rng.standard_normal(values.shape)
    return OxideMap({ox: values[..., j].astype(np.float32) for j, ox in enumerate(MODEL_OXIDES)}, pixel_size=1.0)


def test_olivine_plagioclase_mixes_are_mixtures_never_a_third_phase():
    """50/50 olivine + plagioclase pixels were answered amphibole or glass, phases that the
    modes then reported; now they are that mixture, with its share."""
    from minml.classifier.predict import classify_values, load_default

    rocks = _rocks(["olivine", "plagioclase"]).fillna(0.0)
    runtime = load_default()
    codes, _ = classify_values(rocks[list(MODEL_OXIDES)].to_numpy(np.float32), runtime)
    named = rocks[
        np.asarray(runtime.classes, dtype=object)[np.minimum(codes, len(runtime.classes) - 1)] == rocks["mineral"]
    ]
    ol = named[named["mineral"] == "olivine"].iloc[0]
    pl = named[named["mineral"] == "plagioclase"].iloc[0]
    oxide_map = _two_grains(ol, pl)
    mix = 0.5 * (ol[list(MODEL_OXIDES)].to_numpy(float) + pl[list(MODEL_OXIDES)].to_numpy(float))
    alone, _ = classify_values(mix[None, :].astype(np.float32), runtime)
    assert runtime.classes[alone[0]] not in ("olivine", "plagioclase") if alone[0] < len(runtime.classes) else True
    result = classify_map(oxide_map)
    middle = result.mineral()[:, 19:21]
    assert set(middle.ravel()) == {MIXTURE}
    pixels = result.pixels().set_index(["row", "col"])
    at = pixels.loc[[(r, c) for r in range(24) for c in (19, 20)]]
    assert set(at["mineral"]) <= {"olivine", "plagioclase"} and set(at["mixed_with"]) <= {"olivine", "plagioclase"}
    assert (at["mineral"].astype(str) != at["mixed_with"].astype(str)).all() and at["fraction"].between(0.5, 0.8).all()
    assert set(result.mineral()[:, :18].ravel()) == {"olivine"} and set(result.mineral()[:, 22:].ravel()) == {
        "plagioclase"
    }
    modes = result.modes()
    assert set(modes.index[modes["mode_percent"].notna()]) == {"olivine", "plagioclase"}
    assert modes.loc["olivine", "mode_percent"] == pytest.approx(50.0, abs=2.0)


def test_a_small_grain_of_its_own_is_kept():
    """A 5 x 5 spinel grain inside olivine is no mixture of olivine: it stays spinel."""
    rocks = _rocks(["olivine", "spinel"]).fillna(0.0)
    ol = rocks[rocks["mineral"] == "olivine"].iloc[0]
    sp = rocks[rocks["mineral"] == "spinel"].iloc[0]
    m = _two_grains(ol, ol)
    for ox in MODEL_OXIDES:
        m.data[ox][10:15, 10:15] = sp[ox]
    result = classify_map(m)
    assert (result.mineral()[11:14, 11:14] == "spinel").all()


def test_modes_cover_the_truth_and_small_phases_are_listed_apart(tmp_path, capsys):
    rocks = _rocks(["olivine", "clinopyroxene", "orthopyroxene", "plagioclase", "spinel"])
    errors, sds = [], []
    for seed in (1, 2):
        m, truth = synthetic_map(rocks, (96, 96), grains=10, cracks=1, random_state=seed)
        result = classify_map(m)
        scores = map_scores(result, truth)
        assert scores["interior_accuracy"] >= 0.97 and scores["boundary_ok"] >= 0.95
        modes = result.modes()
        true = pd.Series(truth["mineral"][~truth["crack"]]).value_counts(normalize=True) * 100
        named = modes[modes["mode_percent"].notna()]
        errors += list((named["mode_percent"] - true.reindex(named.index).fillna(0.0)).abs())
        sds += list(named["sd_map_percent"])
        assert (named["sd_percent"] >= named["sd_map_percent"]).all()
        assert named["mode_percent"].sum() <= 100.0 + 1e-6
    inside = np.mean(np.array(errors) <= 2 * np.array(sds))
    assert inside >= 0.9, (errors, sds)
    big = modes.loc[modes["mode_percent"].notna(), "area_um2"].max()
    apart = result.modes(min_area=big + 1)  # every phase under the minimum area
    assert apart.loc[apart["mode_percent"].notna(), "listed_apart"].all()
    with pytest.raises(SystemExit):
        main(["map", str(ROOT / "examples" / "demo_map.npz"), "-o", str(tmp_path), "--min-area", "-1"])
    assert "min_area must be an area in square micrometres" in capsys.readouterr().err


def test_pictures_and_the_command(tmp_path, capsys):
    demo = ROOT / "examples" / "demo_map.npz"
    out = tmp_path / "out"
    args = ["map", str(demo), "-o", str(out), "--index", "Fo", "--profile", "5,5,120,100", "--beam-width", "1.5"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "sd_map_percent" in printed and "listed_apart" in printed
    names = {p.name for p in out.iterdir()}
    assert {"phase_map.png", "confidence.png", "modes.png", "index_Fo.png", "profile.png", "profile.csv"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary file left behind
    profile = pd.read_csv(out / "profile.csv")
    assert len(profile) == int(np.ceil(np.hypot(115, 95))) + 1 and {"SiO2", "phase", "distance"} <= set(profile.columns)
    assert profile["distance"].iloc[-1] == pytest.approx(np.hypot(115, 95), rel=1e-6)  # 1 µm pixels
    for bad, message in (
        (["--profile", "5,5,500,5"], "lies outside the map"),
        (["--index", "Fo", "--index-phase", "plagioclase"], "'Fo' is no index of plagioclase"),
    ):
        assert main(["map", str(demo), "-o", str(tmp_path / "bad"), *bad]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["map", str(demo), "-o", str(tmp_path / "x"), "--profile", "1,2,3"])
    assert "x0,y0,x1,y1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["map", str(demo), "-o", str(tmp_path / "x"), "--beam-width", "0"])
    assert "beam_width must be a width in micrometres" in capsys.readouterr().err


def test_outputs_are_whole_or_absent(tmp_path, monkeypatch):
    m, _ = synthetic_map(_rocks(["olivine", "plagioclase"]), (32, 32), grains=3, cracks=0, random_state=1)
    result = classify_map(m)
    from minml.maps import figures

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(figures, "modes_chart", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_outputs(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "confidence.png",
        "modes.csv",
        "phase_map.png",
        "pixels.parquet",
    ]


def test_the_answer_does_not_depend_on_how_the_map_is_cut_into_blocks():
    """Blocks of 7 rows (cells, moments and mixtures straddle every cut) answer as one block:
    the local means sit on cells aligned on the map's rows, the noise samples pixels by their
    place in the map."""
    rocks = _rocks(["olivine", "clinopyroxene", "plagioclase", "garnet"])
    m, _ = synthetic_map(rocks, (90, 64), grains=9, cracks=1, relative_noise=0.03, mix_boundaries=True, random_state=4)
    whole = classify_map(m)
    cut = classify_map(m, block_pixels=7 * 64)
    assert (whole.codes == whole.names.index(MIXTURE)).sum() > 20
    np.testing.assert_array_equal(cut.codes, whole.codes)
    np.testing.assert_array_equal(cut.mixtures.fraction, whole.mixtures.fraction)
