"""The files of ``minml map`` (``minml.maps.write_outputs``) as a user trial found them: specks
drawn as phases, stale and partial outputs, unclear folder messages, areas in pixels named µm²,
a profile of one point, unreadable pictures of degenerate maps, ``Mg#`` refused, masked pixels
named unknown in ``pixels.parquet``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minml.classifier.features import MODEL_OXIDES
from minml.cli import main
from minml.maps.classify import MASKED, UNKNOWN, MapResult, classify_map
from minml.maps.modes import modal_table
from minml.maps.outputs import write_outputs
from minml.maps.read import OxideMap
from minml.maps.synthetic import synthetic_map

pytest.importorskip("matplotlib")

pytestmark = pytest.mark.shared_data

_NAMES = ["olivine", "garnet", "glass", UNKNOWN, "mixture", MASKED]


@pytest.fixture(scope="module")
def rows(shared_data) -> pd.DataFrame:
    """LEPR analyses of olivine, clinopyroxene and plagioclase (a few hundred each)."""
    table = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv", low_memory=False)
    kept = table[table["Mineral"].isin(["Olivine", "Clinopyroxene", "Plagioclase"])]
    return kept.assign(mineral=kept["Mineral"].str.lower())[[*MODEL_OXIDES, "mineral"]].fillna(0.0)


def _classified(oxide_map: OxideMap):
    with warnings.catch_warnings():  # the channel warnings: not what these tests look at
        warnings.simplefilter("ignore")
        return classify_map(oxide_map)


@pytest.fixture(scope="module")
def rock(rows):
    """A 48 x 48 map of three LEPR phases, 1 µm pixels, with an epoxy crack, and its answer."""
    oxide_map, _ = synthetic_map(rows, (48, 48), grains=6, cracks=1, random_state=7)
    return oxide_map, _classified(oxide_map)


def _result(codes: np.ndarray, pixel_size: float | None = None) -> MapResult:
    """A classified map of ``codes`` into :data:`_NAMES` (minerals certain)."""
    k = 3
    probability = np.where(codes < k, 1.0, np.nan).astype(np.float32)
    p_sum = np.bincount(codes[codes < k], minlength=k).astype(float)
    return MapResult(codes.astype(np.int16), probability, list(_NAMES), p_sum, np.zeros(k), pixel_size)


@pytest.fixture(autouse=True)
def _closed_figures():
    """The figures a test draws, closed after it."""
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _legend(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


# 1. specks


def test_a_speck_is_listed_apart_by_its_own_pixels_not_its_shared_area():
    """3 garnet pixels in a ring of unknown pixels were given 10+ pixels by the sharing of the
    unknown ones, passed the 10-pixel limit, and were drawn as 'garnet 0.0 ± 0.0 %'."""
    codes = np.zeros((64, 64), dtype=int)
    codes[28:37, 26:39] = _NAMES.index(UNKNOWN)
    codes[32, 31:34] = _NAMES.index("garnet")
    modes = modal_table(_result(codes), beam_width=6.0)
    assert modes.loc["garnet", "pixels"] == 3 and modes.loc["garnet", "area_um2"] > 10
    assert modes.loc["garnet", "listed_apart"]
    assert not modes.loc["olivine", "listed_apart"]


def test_the_default_minimum_area_grows_with_the_map_and_small_modes_are_not_zero():
    """On a 512 x 512 map 18 pixels of glass (0.007 %) passed the fixed 10 pixels; the default
    is now 0.01 % of the analysed pixels there (26 pixels).  A phase drawn had its mode shown
    as '0.0 ± 0.0 %'."""
    from minml.maps import figures

    codes = np.zeros((512, 512), dtype=int)
    codes[100:103, 100:106] = _NAMES.index("glass")  # 18 pixels
    codes[300:305, 300:306] = _NAMES.index("garnet")  # 30 pixels
    result = _result(codes)
    modes = result.modes()
    assert modes.loc["glass", "listed_apart"] and not modes.loc["garnet", "listed_apart"]
    labels = _legend(figures.phase_map(result, modes=modes))
    garnet = next(label for label in labels if label.startswith("garnet"))
    assert garnet.startswith("garnet 0.011 ± ") and "0.0 ± 0.0" not in garnet
    assert any(label.startswith("under min. area: glass 0.0069 %") for label in labels)
    assert result.modes(min_area=5.0).loc["glass", "listed_apart"] == np.False_  # a given limit stands

    from minml.maps.modes import default_min_area

    assert default_min_area(512 * 512) == pytest.approx(26.2144) and default_min_area(64 * 64, 0.5) == 2.5


# 2. stale and partial outputs


def test_a_run_leaves_no_earlier_run_s_profile_or_index_map_beside_its_own(tmp_path, rock):
    oxide_map, result = rock
    out = tmp_path / "out"
    write_outputs(result, out, oxide_map=oxide_map, index="Fo", profile=(2, 3, 40, 30))
    (out / "notes.txt").write_text("mine")
    (out / "index_notes.png").write_bytes(b"mine too")  # no index of minerals.toml: not minml's name
    written = write_outputs(result, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([p.name for p in written] + ["notes.txt", "index_notes.png"])
    assert not {"profile.csv", "profile.png", "index_Fo.png"} & {p.name for p in out.iterdir()}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"index": "An"}, "No phase of the map has index An"),
        ({"index": "Fo", "index_phase": "plagioclase"}, "'Fo' is no index of plagioclase"),
        ({"profile": (0, 0, 400, 10)}, r"Profile point \(400, 10\) lies outside the map of 48 x 48 pixels"),
        ({"profile": (10, 10, 10, 10)}, "lie on one pixel"),
        ({"index": "Xy"}, "'Xy' is no index of minerals.toml"),
    ],
)
def test_a_refused_call_writes_nothing_and_keeps_the_earlier_files(tmp_path, rock, options, message):
    """An index no phase has, or a profile off the map, was refused after 5 files were written."""
    oxide_map, result = rock
    only_olivine = MapResult(
        np.where(result.codes == result.names.index("plagioclase"), result.names.index(UNKNOWN), result.codes),
        result.probability,
        result.names,
        result.class_proba_sum,
        result.class_proba_var,
        result.pixel_size,
    )  # no phase with An
    empty = tmp_path / "empty"
    with pytest.raises(ValueError, match=message):
        write_outputs(only_olivine, empty, oxide_map=oxide_map, **options)
    assert not empty.exists()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "modes.csv").write_text("an earlier run's")
    with pytest.raises(ValueError, match=message):
        write_outputs(only_olivine, earlier, oxide_map=oxide_map, **options)
    assert [p.name for p in earlier.iterdir()] == ["modes.csv"]
    assert (earlier / "modes.csv").read_text() == "an earlier run's"


# 3. output folders


def _npz(path: Path, oxide_map: OxideMap, pixel_size: float | None) -> Path:
    extra = {} if pixel_size is None else {"pixel_size": np.array(pixel_size)}
    np.savez(path, **{name: np.asarray(grid, np.float32) for name, grid in oxide_map.data.items()}, **extra)
    return path


def test_an_output_folder_under_a_file_or_where_none_can_be_made_is_refused_before_classifying(tmp_path, rock, capsys):
    source = _npz(tmp_path / "m.npz", rock[0], 1.0)
    (tmp_path / "notadir").write_text("")
    assert main(["map", str(source), "-o", str(tmp_path / "notadir" / "out")]) == 2
    said = capsys.readouterr()
    assert "pixels, species" not in said.out  # before the map is read
    error = said.err.strip()
    assert len(error.splitlines()) == 1
    assert "Cannot make the folder" in error and "notadir' is a file, not a folder" in error
    if Path("/proc").is_dir():
        assert main(["map", str(source), "-o", "/proc/minml_x"]) == 2
        said = capsys.readouterr()
        assert "pixels, species" not in said.out
        assert said.err.strip() == (
            "minml map: error: Cannot make the folder '/proc/minml_x' (No such file or directory); give a folder "
            "you can write to."
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "notadir"]  # nothing made on the way


# 4. lengths and areas without a pixel size


def test_without_a_pixel_size_areas_say_pixels_and_micrometre_options_are_refused(tmp_path, rock, capsys):
    """``area_um2`` held pixel counts, and ``--beam-width`` (µm) was taken as pixels, unsaid."""
    source = _npz(tmp_path / "m.npz", rock[0], None)
    for option in (["--beam-width", "3"], ["--min-area", "20"]):
        assert main(["map", str(source), "-o", str(tmp_path / "refused"), *option]) == 2
        said = capsys.readouterr()
        assert f"{option[0]} is in micrometres and the map has no pixel size: give --pixel-size" in said.err
        assert "pixels, species" not in said.out  # before classifying
    assert not (tmp_path / "refused").exists()
    assert main(["map", str(source), "-o", str(tmp_path / "out")]) == 0
    assert (
        "no pixel size (--pixel-size): areas are in pixels, modes.csv's column area_pixels" in capsys.readouterr().out
    )
    modes = pd.read_csv(tmp_path / "out" / "modes.csv", index_col="phase")
    assert "area_um2" not in modes and modes["area_pixels"].sum() == pytest.approx(48 * 48, abs=0.01)
    assert main(["map", str(source), "-o", str(tmp_path / "um"), "--pixel-size", "0.5", "--beam-width", "3"]) == 0
    capsys.readouterr()
    modes = pd.read_csv(tmp_path / "um" / "modes.csv", index_col="phase")
    assert "area_pixels" not in modes and modes["area_um2"].sum() == pytest.approx(48 * 48 * 0.25, abs=0.01)


# 5. profiles


def test_a_profile_of_one_point_is_refused_in_one_line(tmp_path, rock, capsys):
    source = _npz(tmp_path / "m.npz", rock[0], 1.0)
    assert main(["map", str(source), "-o", str(tmp_path / "out"), "--profile", "10,10,10,10"]) == 2
    said = capsys.readouterr()
    assert said.err.strip() == (
        "minml map: error: --profile ends (10, 10) and (10, 10) lie on one pixel; give two points at least a "
        "pixel apart."
    )
    assert "pixels, species" not in said.out and not (tmp_path / "out").exists()


def test_the_profile_is_drawn_on_the_phase_map_from_a_to_b(rock):
    from minml.maps import figures

    oxide_map, result = rock
    ax = figures.phase_map(result, profile=(2, 3, 40, 30))
    drawn = [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()]
    assert ([2.0, 40.0], [3.0, 30.0]) in drawn and ([2.0], [3.0]) in drawn and ([40.0], [30.0]) in drawn
    assert {t.get_text() for t in ax.texts} >= {"A", "B"} and "profile A-B" in _legend(ax)
    assert len(figures.phase_map(result).get_lines()) == len(drawn) - 3  # the scale bar's alone without one
    frame = figures.line_profile(oxide_map, result, (2, 3, 40, 30))
    plot = figures.profile_plot(frame)
    assert plot.figure.axes[1].get_xlabel() == "distance from A (µm)"


# 6. degenerate maps


def test_a_map_one_pixel_high_is_drawn_stretched_without_a_scale_bar_over_it(rows):
    """A 1 x 256 map was a hairline with the scale bar's box over it."""
    from matplotlib.patches import Rectangle

    from minml.maps import figures

    oxide_map, _ = synthetic_map(rows, (64, 256), grains=12, cracks=0, pixel_size=0.5, random_state=2)
    strip = OxideMap({name: grid[:1] for name, grid in oxide_map.data.items()}, pixel_size=0.5)
    result = _classified(strip)
    for ax in (figures.phase_map(result), figures.confidence_map(result)):
        ax.figure.canvas.draw()
        box = ax.get_window_extent()
        assert box.height / ax.figure.dpi >= 0.4 and box.width / box.height <= 10.5
        assert not [patch for patch in ax.patches if isinstance(patch, Rectangle)]
        assert ax.get_xlabel() == "1 x 256 pixels of 0.5 µm, each pixel drawn 25.6 x taller than wide"
    square = figures.phase_map(_classified(OxideMap({n: g[:, :64] for n, g in oxide_map.data.items()}, 0.5)))
    assert [patch for patch in square.patches if isinstance(patch, Rectangle)]  # where it fits: drawn


def test_a_small_map_of_one_phase_shows_it_in_its_colour_with_its_mode(rows):
    """A 3 x 3 map of olivine drew it dark grey as 'under min. area: olivine', no percentage."""
    from matplotlib.colors import to_hex

    from minml.maps import figures
    from minml.palette import mineral_colours

    olivine = rows[rows["mineral"] == "olivine"].head(3)
    oxide_map, _ = synthetic_map(olivine, (3, 3), grains=1, cracks=0, random_state=1)
    result = _classified(oxide_map)
    modes = result.modes()
    assert modes.loc["olivine", "listed_apart"]  # 9 pixels: under the 10 of the minimum area
    ax = figures.phase_map(result, modes=modes)
    (label,) = _legend(ax)
    assert label.startswith("olivine 100.0 ± ") and label.endswith("% (under min. area)")
    drawn = ax.get_images()[0]
    colour = drawn.cmap(drawn.norm(result.codes[1, 1]))
    assert to_hex(colour) == to_hex(mineral_colours()["olivine"])


# 7. index spellings


def test_mg_hash_names_the_mg_number(tmp_path, rock, capsys):
    oxide_map, result = rock
    written = write_outputs(result, tmp_path / "api", oxide_map=oxide_map, index="mg#")
    assert written[-1].name == "index_Mg_number.png"
    source = _npz(tmp_path / "m.npz", oxide_map, 1.0)
    assert main(["map", str(source), "-o", str(tmp_path / "cli"), "--index", "Mg#"]) == 0
    capsys.readouterr()
    assert (tmp_path / "cli" / "index_Mg_number.png").stat().st_size > 1000
    with pytest.raises(SystemExit):
        main(["map", str(source), "-o", str(tmp_path / "x"), "--index", "Mg%"])
    assert "give one of: " in (err := capsys.readouterr().err) and "Mg_number (Mg#)" in err

    from minml.maps.figures import index_name

    assert index_name("Mg#") == "Mg_number" and index_name("cr #") == "Cr_number"


# 8. the warning of channels not mapped


def test_missing_minor_channels_do_not_say_al_na_or_ca_are_missing(rows):
    """Without MnO and Cr2O3 only, the warning said a map without Al, Na or Ca cannot tell
    feldspars and pyroxenes apart (the warning is built in minml.maps.classify)."""
    oxide_map, _ = synthetic_map(rows, (16, 16), grains=2, cracks=0, random_state=3)
    some = OxideMap({name: grid for name, grid in oxide_map.data.items() if name not in ("MnO", "Cr2O3")})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        classify_map(some)
    (missing,) = [str(w.message) for w in said if "no channel for" in str(w.message)]
    assert missing == (
        "The map has no channel for MnO, Cr2O3: read as 0 wt% in every pixel. Map the elements of the minerals present."
    )


# 9. masked pixels in pixels.parquet


def test_masked_pixels_are_masked_in_the_pixel_table_as_in_the_modes(tmp_path, rock):
    """Masked pixels were 'unknown' in pixels.parquet: counting unknown there disagreed with modes.csv."""
    oxide_map, result = rock
    r = int(np.argwhere(result.codes == result.names.index(MASKED))[0][0])
    write_outputs(result, tmp_path, oxide_map=oxide_map, profile=(0, r, 47, r))
    pixels = pd.read_parquet(tmp_path / "pixels.parquet")
    modes = pd.read_csv(tmp_path / "modes.csv", index_col="phase")
    counted = pixels["mineral"].value_counts()
    assert counted[MASKED] == modes.loc[MASKED, "pixels"] > 0
    assert counted[UNKNOWN] == modes.loc[UNKNOWN, "pixels"]
    assert (pixels.loc[pixels["flag"] == MASKED, "mineral"] == MASKED).all()
    profile = pd.read_csv(tmp_path / "profile.csv")
    assert (profile.loc[profile["flag"] == MASKED, "phase"] == MASKED).all() and (profile["flag"] == MASKED).any()


def test_pyplot_is_imported_on_a_thread_while_the_map_is_read():
    """``minml map`` starts matplotlib's import (most of a second) before reading the map, and
    waits for it before drawing: in a fresh process, pyplot is loaded once the wait returns."""
    import subprocess
    import sys

    code = (
        "import sys; from minml.plot import import_pyplot_early; wait = import_pyplot_early(); "
        "wait(); print('matplotlib.pyplot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
