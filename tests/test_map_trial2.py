"""``minml map`` as a second user trial found it: a phase outside the classes (chlorite veins,
answered unknown) shared out to its neighbours' modes, options ignored unsaid (``--k-factors``
beside ``--standards``, on a quantified map; ``--units`` on raw spectra), unknown pixels drawn
as blank as masked ones on the confidence map with a colour bar that clipped lower values,
``minml.maps.open_lazy`` / ``classify_lazy`` missing, glass and k-feldspar in one pink, a tall
map drawn between blank margins.

The maps are synthetic maps of the bundled training analyses (which the classifier names right)
with veins of a chlorite (the trial's standard, as quantified: no class of the model), or small
arrays of codes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from minml.classifier.features import MODEL_OXIDES
from minml.cli import main
from minml.maps.classify import MASKED, UNKNOWN, MapResult, classify_map
from minml.maps.modes import modal_table
from minml.maps.read import OxideMap
from minml.maps.synthetic import synthetic_map

from .conftest import DATA, ROOT

DEMO = ROOT / "examples" / "demo_map.npz"

CHLORITE = {"SiO2": 32.8, "Al2O3": 21.7, "FeOt": 14.7, "MgO": 27.8, "CaO": 0.2}
"""The trial's chlorite standard as its spectra quantified (wt%): none of the model's classes."""

_NAMES = ["olivine", "garnet", "glass", UNKNOWN, "mixture", MASKED]


@pytest.fixture(autouse=True)
def _closed_figures():
    yield
    if "matplotlib.pyplot" in __import__("sys").modules:
        import matplotlib.pyplot as plt

        plt.close("all")


def _result(codes: np.ndarray, pixel_size: float | None = None, probability=None) -> MapResult:
    """A classified map of ``codes`` into :data:`_NAMES` (minerals certain unless given)."""
    k = 3
    if probability is None:
        probability = np.where(codes < k, 1.0, np.nan)
    p_sum = np.bincount(codes[codes < k], minlength=k).astype(float)
    return MapResult(
        codes.astype(np.int16), np.asarray(probability, np.float32), list(_NAMES), p_sum, np.zeros(k), pixel_size
    )


def _veined(shape=(96, 96), *, seed=4, rows=(8, 24, 5), column=(60, 6)) -> tuple[OxideMap, np.ndarray]:
    """A synthetic map of olivine, clinopyroxene and plagioclase (the bundled training analyses)
    with chlorite veins: ``rows[2]`` pixels thick every ``rows[1]`` rows from row ``rows[0]``,
    and one down the map ``column[1]`` wide from column ``column[0]``, 3 % noise; and the truth
    (``chlorite`` on the veins, ``masked`` on the crack)."""
    from minml.training.data import collect_training_set

    table, _ = collect_training_set(DATA / "training")
    rocks = table[table["mineral"].isin(["olivine", "clinopyroxene", "plagioclase"])][[*MODEL_OXIDES, "mineral"]]
    oxide_map, truth = synthetic_map(rocks, shape, grains=10, cracks=1, random_state=seed)
    vein = np.zeros(shape, dtype=bool)
    for start in range(rows[0], shape[0], rows[1]):
        vein[start : start + rows[2]] = True
    vein[:, column[0] : column[0] + column[1]] = True
    vein &= ~truth["crack"]
    rng = np.random.default_rng(seed)
    data = {}
    for ox in MODEL_OXIDES:
        value = CHLORITE.get(ox, 0.0)
        noisy = value * (1 + 0.03 * rng.standard_normal(shape)) + 0.1 * rng.standard_normal(shape)
        data[ox] = np.where(vein, np.clip(noisy, 0, None), oxide_map.data[ox]).astype(np.float32)
    mineral = np.where(truth["crack"], "masked", np.where(vein, "chlorite", truth["mineral"]))
    return OxideMap(data, pixel_size=1.0), mineral


def _classified(oxide_map: OxideMap, **options):
    with warnings.catch_warnings():  # the channel warnings: not what these tests look at
        warnings.simplefilter("ignore")
        return classify_map(oxide_map, **options)


# 1. an unknown region keeps its pixels


def test_chlorite_veins_keep_their_pixels_as_unknown_with_a_mode_of_their_own():
    """4-pixel chlorite veins (17 % of the trial's map, all unknown) were shared out to the
    minerals beside them: olivine 31.8 -> 37.6 %, beyond 2 sd_map, the minerals summing to
    99.8 % beside 'unknown 18.3 % of area'.  Here olivine read 54 % for 43 %."""
    pytest.importorskip("matplotlib")
    from minml.maps import figures

    oxide_map, truth = _veined()
    result = _classified(oxide_map)
    vein = truth == "chlorite"
    assert (result.mineral()[vein] == UNKNOWN).all()
    modes = result.modes()
    true = pd.Series(truth[truth != "masked"]).value_counts(normalize=True) * 100
    for mineral in ("olivine", "clinopyroxene", "plagioclase"):
        error = modes.loc[mineral, "mode_percent"] - true[mineral]
        assert abs(error) < 1.0, (mineral, error)
        assert abs(error) <= 2 * modes.loc[mineral, "sd_map_percent"]
    assert modes.loc[UNKNOWN, "mode_percent"] == pytest.approx(true["chlorite"], abs=1.0)
    assert modes.loc[UNKNOWN, "sd_percent"] > 0
    assert modes["mode_percent"].sum() == pytest.approx(100.0, abs=1e-9)  # the minerals and unknown
    assert modes["area_um2"].sum() == pytest.approx(result.codes.size, rel=1e-9)  # each pixel once
    labels = [t.get_text() for t in figures.phase_map(result, modes=modes).get_legend().get_texts()]
    unknown = next(label for label in labels if label.startswith("unknown"))
    mode, sd = modes.loc[UNKNOWN, ["mode_percent", "sd_percent"]]
    assert unknown == f"unknown {mode:.1f} ± {sd:.1f} %"  # as the minerals beside it, summing to 100
    bars = figures.modes_chart(modes)
    assert UNKNOWN in [t.get_text() for t in bars.get_yticklabels()]


def test_the_modes_share_unknown_pixels_within_the_beam_the_map_was_classified_with():
    """MapResult carries its beam width, through clean(): its modes need no second telling."""
    from minml.maps import clean
    from minml.maps.modes import modal_table

    oxide_map, _ = _veined()
    result = _classified(oxide_map, beam_width=6.0)
    assert result.beam_width == 6.0 and clean(result).beam_width == 6.0
    pd.testing.assert_frame_equal(result.modes(), modal_table(result, beam_width=6.0))
    assert not result.modes().equals(modal_table(result, beam_width=2.0))


def test_a_sharp_contact_with_a_phase_outside_the_classes_gives_it_nothing():
    """An unmixed contact between olivine (a quarter of the map) and chlorite (unknown) moved
    olivine 25.0 -> 26.6 %: the unknown pixels within 2 of the contact were olivine's."""
    codes = np.full((64, 64), _NAMES.index(UNKNOWN))
    codes[:, :16] = _NAMES.index("olivine")
    modes = _result(codes, pixel_size=1.0).modes()
    assert modes.loc["olivine", "mode_percent"] == 25.0 and modes.loc["olivine", "area_um2"] == 16 * 64
    assert modes.loc[UNKNOWN, "mode_percent"] == 75.0 and modes.loc[UNKNOWN, "area_um2"] == 48 * 64


def test_boundaries_narrower_than_the_beam_and_speckle_are_still_shared():
    """What sharing is for: a boundary the mixture step left unknown (2 pixels, narrower than
    the 2 µm beam), isolated unknown pixels and a 3 x 3 speck inside a grain all belong to the
    grains beside them; a 3-pixel band is wider than the beam at 1 µm a pixel (an unknown
    region), narrower than a 4 µm beam's (shared)."""
    unknown, garnet = _NAMES.index(UNKNOWN), _NAMES.index("garnet")
    codes = np.zeros((64, 64), dtype=int)
    codes[:, 33:] = garnet
    codes[:, 31:33] = unknown  # the boundary
    codes[10, 10] = codes[40, 20] = codes[50, 50] = unknown  # speckle
    codes[20:23, 5:8] = unknown  # a speck
    modes = _result(codes, pixel_size=1.0).modes()
    assert np.isnan(modes.loc[UNKNOWN, "mode_percent"]) and modes.loc[UNKNOWN, "area_um2"] == 0
    assert modes.loc[["olivine", "garnet"], "mode_percent"].sum() == pytest.approx(100.0, abs=1e-5)  # float32 shares
    codes[:, 30] = unknown  # 3 pixels across
    band = _result(codes, pixel_size=1.0)
    assert modal_table(band).loc[UNKNOWN, "mode_percent"] == pytest.approx(100 * 3 / 64)
    assert np.isnan(modal_table(band, beam_width=4.0).loc[UNKNOWN, "mode_percent"])


def test_an_unknown_patch_under_the_minimum_area_is_speckle():
    """A 4 x 8 unknown patch (12 pixels deeper than the beam) is a region at the default
    minimum area (10 pixels), speckle under a larger one; in µm² with a pixel size."""
    codes = np.zeros((40, 40), dtype=int)
    codes[10:14, 10:18] = _NAMES.index(UNKNOWN)
    assert modal_table(_result(codes)).loc[UNKNOWN, "mode_percent"] == pytest.approx(100 * 32 / 1600)
    assert np.isnan(modal_table(_result(codes), min_area=13.0).loc[UNKNOWN, "mode_percent"])
    two = _result(codes, pixel_size=2.0)  # a 4 µm beam: 1 pixel each way, as 2 µm at 1 µm a pixel
    assert np.isnan(modal_table(two, min_area=49.0, beam_width=4.0).loc[UNKNOWN, "mode_percent"])
    assert modal_table(two, min_area=48.0, beam_width=4.0).loc[UNKNOWN, "area_um2"] == 32 * 4.0


@pytest.mark.parametrize("pixel_size", [None, 0.5])
@pytest.mark.parametrize("band_rows", [7, 16])
def test_lazy_modes_keep_the_same_unknown_regions(tmp_path, band_rows, pixel_size):
    """Band by band with Dask, the veins cut by the bands (a vertical one crosses them all) are
    the regions they are in memory, judged on the whole map's area: the same table.  At 0.5 µm
    a pixel the beam is 2 pixels wide each way, so the veins are made 5 and 6 pixels thick."""
    dask = pytest.importorskip("dask")
    from minml.maps import classify_lazy, open_lazy

    oxide_map, _ = _veined((80, 72), seed=5, rows=(6, 20, 5), column=(40, 6))
    folder = tmp_path / "channels"
    folder.mkdir()
    for name, grid in oxide_map.data.items():
        np.save(folder / f"{name}.npy", grid)
    eager = OxideMap(dict(oxide_map.data), pixel_size=pixel_size)
    eager = _classified(eager, block_pixels=band_rows * 72)
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = classify_lazy(open_lazy(folder, band_rows=band_rows, pixel_size=pixel_size), band_rows=band_rows)
        for options in ({}, {"min_area": 200.0}):
            found, expected = lazy.modes(**options), eager.modes(**options)
            assert list(found.index) == list(expected.index)
            for column in expected.columns:
                if pd.api.types.is_float_dtype(expected[column]):
                    np.testing.assert_allclose(found[column], expected[column], rtol=1e-9, atol=0, err_msg=column)
                else:
                    assert found[column].tolist() == expected[column].tolist(), column
    assert expected.loc[UNKNOWN, "mode_percent"] > 5  # the veins kept: what is compared
    assert lazy.codes.numblocks[0] > 4


# 2. options ignored unsaid


def _refused(tmp_path, capsys, args) -> str:
    status = main(["map", *args, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()  # before any work
    return err


def test_k_factors_beside_standards_are_refused_before_any_work(tmp_path, capsys):
    """The standards' k-factors won, unsaid; the standards file (absent here) is not read."""
    err = _refused(tmp_path, capsys, [str(tmp_path / "map.rpl"), "--k-factors", "k.csv", "--standards", "missing.csv"])
    assert "--k-factors and --standards both give the k-factors" in err and "give one of them" in err


@pytest.mark.parametrize("option", ["--k-factors", "--standards"])
def test_k_factors_on_a_quantified_map_are_refused(tmp_path, capsys, option):
    """On a .npz map the k-factors were ignored, unsaid."""
    err = _refused(tmp_path, capsys, [str(DEMO), option, str(tmp_path / "missing.csv")])
    assert f"{option} quantifies a raw spectrum image" in err and "demo_map.npz is a quantified map" in err


@pytest.mark.parametrize("units", ["at%", "wt%"])
def test_units_on_a_raw_spectrum_image_are_refused(tmp_path, capsys, units):
    """A raw spectrum image is quantified here to oxide wt%: --units was ignored, unsaid."""
    raw = tmp_path / "map.rpl"
    raw.write_text("")
    err = _refused(tmp_path, capsys, [str(raw), "--units", units, "--k-factors", "k.csv"])
    assert "--units gives the units of a quantified map's element channels; map.rpl is a raw spectrum image" in err


# 3. the confidence map


def test_the_confidence_map_draws_unknown_pixels_in_their_own_colour_and_covers_every_value():
    """Unknown pixels were blank as masked ones, unexplained (an 18 %-unknown map looked wholly
    confident); the colour bar began at 0.5 with pixels at 0.26 drawn in its lowest colour."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex, to_rgba

    from minml.maps import figures
    from minml.palette import delta_e

    codes = np.zeros((40, 40), dtype=int)
    codes[:, 20:30] = _NAMES.index(UNKNOWN)
    codes[:, 30:] = _NAMES.index(MASKED)
    probability = np.where(codes == 0, 0.95, np.nan)
    probability[5, 5] = 0.26
    ax = figures.confidence_map(_result(codes, probability=probability))
    fig = ax.figure
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["unknown: 25.0 % of area (no class: no probability)", "masked: 25.0 % of area (not analysed)"]
    scale = next(image for image in ax.images if image.get_cmap().name == "cividis")
    assert scale.norm.vmin <= 0.26 and scale.norm.vmax == 1.0
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    height = pixels.shape[0]

    def drawn(row: float, col: float) -> str:
        x, y = ax.transData.transform((col, row))
        return to_hex(pixels[int(height - y), int(x)] / 255.0)

    assert drawn(20, 25) == to_hex(to_rgba(figures._UNKNOWN_SHOWN))
    assert drawn(20, 35) == "#ffffff"  # masked: blank, as before
    cividis = [to_hex(scale.get_cmap()(x)) for x in np.linspace(0, 1, 41)]
    for vision in ("normal", "deuteranopia", "protanopia"):
        assert min(delta_e(figures._UNKNOWN_SHOWN, c, vision) for c in cividis) > 20


# 4. the lazy readers are minml.maps's


def test_open_lazy_and_classify_lazy_are_names_of_minml_maps(tmp_path):
    """docs/guide/maps.md names them; only minml.maps._lazy had them (AttributeError).  A NaN
    pixel is masked, which the notes say (uncounted: nothing is read yet)."""
    import minml.maps
    from minml.maps import _lazy

    assert minml.maps.open_lazy is _lazy.open_lazy and minml.maps.classify_lazy is _lazy.classify_lazy
    assert {"open_lazy", "classify_lazy"} <= set(minml.maps.__all__)
    pytest.importorskip("dask")
    folder = tmp_path / "channels"
    folder.mkdir()
    grid = np.full((4, 5), 45.0, dtype=np.float32)
    grid[1, 2] = np.nan
    np.save(folder / "SiO2.npy", grid)
    np.save(folder / "MgO.npy", np.full((4, 5), 55.0, dtype=np.float32))
    notes = minml.maps.open_lazy(folder).notes
    assert any(note.startswith("masked: pixels with no value (NaN) or an infinite one") for note in notes)


# 5. the pictures


def test_glass_and_k_feldspar_are_far_apart_for_every_reader():
    """Glass (#CC79A7) and k-feldspar (#FFAABB) read as one pink on phase maps."""
    from minml.palette import colour_of, delta_e

    a, b = colour_of("glass"), colour_of("k-feldspar")
    assert min(delta_e(a, b, vision) for vision in ("normal", "deuteranopia", "protanopia")) > 20


def test_a_tall_map_is_drawn_without_blank_side_margins():
    """A 3:1 map's phase_map.png was 1125 x 1800 pixels with the map in the middle."""
    pytest.importorskip("matplotlib")
    from minml.maps import figures

    codes = np.zeros((300, 100), dtype=int)
    codes[:, 50:] = _NAMES.index("garnet")
    for draw in (figures.phase_map, figures.confidence_map):
        ax = draw(_result(codes, pixel_size=1.0))
        fig = ax.figure
        fig.canvas.draw()
        content = fig.get_tightbbox(fig.canvas.get_renderer())
        width, height = fig.get_size_inches()
        assert width < 0.6 * height  # as the map: not a square map's width
        assert width - content.width < 0.6  # no blank margins, and nothing cut
        assert content.x0 >= 0 and content.x1 <= width
