import warnings

import numpy as np
import pandas as pd
import pytest

from minml.classifier.features import MODEL_OXIDES
from minml.cli import main
from minml.maps.classify import MASKED, MIXTURE, classify_map, clean
from minml.maps.outputs import write_outputs
from minml.maps.read import OxideMap, from_xarray, read_map, to_oxides
from minml.maps.synthetic import map_scores, synthetic_map

from .conftest import DATA, ROOT

# forsterite Mg2SiO4 as element wt%: Mg 34.55, Si 19.96 (O 45.49)
FO_ELEMENTS = {"Mg": 34.55, "Si": 19.96, "O": 45.49}


def test_units_by_hand():
    oxides, notes = to_oxides({k: np.full((2, 2), v) for k, v in FO_ELEMENTS.items()})
    assert oxides["MgO"][0, 0] == pytest.approx(57.29, abs=0.02)  # 34.55 * 40.304 / 24.305
    assert oxides["SiO2"][0, 0] == pytest.approx(42.70, abs=0.02)  # 19.96 * 60.083 / 28.085
    assert "O channel dropped" in notes[0]
    atomic = {"Mg": np.full((1, 1), 2 / 7 * 100), "Si": np.full((1, 1), 1 / 7 * 100), "O": np.full((1, 1), 4 / 7 * 100)}
    oxides, notes = to_oxides(atomic, units="at%")
    assert oxides["MgO"][0, 0] == pytest.approx(57.29, abs=0.05) and "at% converted" in notes[0]
    oxides, _ = to_oxides({"Fe": np.full((1, 1), 10.0)})
    assert oxides["FeOt"][0, 0] == pytest.approx(12.865, abs=0.01)  # iron as FeOt
    with pytest.raises(ValueError, match="neither an oxide nor an element"):
        to_oxides({"Xy": np.ones((1, 1))})
    with pytest.raises(ValueError, match="Si and SiO2 channels both given"):
        to_oxides({"SiO2": np.ones((1, 1)), "Si": np.ones((1, 1))})
    with pytest.raises(ValueError, match="units must be"):
        to_oxides({"Si": np.ones((1, 1))}, units="ppm")


def _write_grids(folder, grids, fmt="csv"):
    folder.mkdir()
    for name, grid in grids.items():
        if fmt == "csv":
            pd.DataFrame(grid).to_csv(folder / f"{name} Ka.csv", header=False, index=False, sep=";")
        else:
            import tifffile

            tifffile.imwrite(folder / f"{name}.tif", grid.astype(np.float32))


@pytest.mark.parametrize("fmt", ["csv", "tif"])
def test_folder_of_element_grids(tmp_path, fmt):
    grids = {k: np.full((3, 4), v) for k, v in FO_ELEMENTS.items()}
    _write_grids(tmp_path / "map", grids, fmt)
    m = read_map(tmp_path / "map", pixel_size=0.5)
    assert m.shape == (3, 4) and set(m.data) == {"MgO", "SiO2"} and m.pixel_size == 0.5
    assert m.rows(0, 2).shape == (8, 2)


def test_single_file_readers(tmp_path):
    import tifffile
    import xarray as xr

    stack = np.stack([np.full((5, 6), 42.7), np.full((5, 6), 57.3)], axis=-1).astype(np.float32)
    np.save(tmp_path / "m.npy", stack)
    m = read_map(tmp_path / "m.npy", channels=["SiO2", "MgO"])
    assert isinstance(m.data["SiO2"], np.memmap | np.ndarray) and float(m.data["MgO"][0, 0]) == pytest.approx(57.3)
    with pytest.raises(ValueError, match="give channels="):
        read_map(tmp_path / "m.npy")
    with pytest.raises(ValueError, match="has 2 channels but 3 names"):
        read_map(tmp_path / "m.npy", channels=["SiO2", "MgO", "FeO"])
    tifffile.imwrite(tmp_path / "m.tif", np.moveaxis(stack, -1, 0))
    assert read_map(tmp_path / "m.tif", channels=["SiO2", "MgO"]).shape == (5, 6)
    np.savez(tmp_path / "m.npz", SiO2=stack[..., 0], MgO=stack[..., 1], pixel_size=np.array(2.0))
    assert read_map(tmp_path / "m.npz").pixel_size == 2.0
    ds = xr.Dataset({"Si": (("y", "x"), np.full((5, 6), 19.96)), "Mg": (("y", "x"), np.full((5, 6), 34.55))})
    assert from_xarray(ds.chunk({"y": 2})).shape == (5, 6)
    with pytest.raises(FileNotFoundError):
        read_map(tmp_path / "nothing.npz")


def test_one_channel_per_element_and_iron_as_total_iron(tmp_path):
    """Two lines of one element ('Fe Ka', 'Fe La') kept the last file read, silently; an FeO
    or Fe2O3 channel was left as such, and the classes (told by FeOt) saw no iron at all."""
    folder = tmp_path / "lines"
    folder.mkdir()
    for name in ("Fe Ka", "Fe La", "Si Ka"):
        np.savetxt(folder / f"{name}.csv", np.full((3, 4), 20.0), delimiter=",")
    with pytest.raises(ValueError, match=r"'Fe La.csv' and 'Fe Ka.csv' both give Fe; keep one"):
        read_map(folder)
    grid = np.full((3, 4), 10.0, dtype=np.float32)
    np.savez(tmp_path / "feo.npz", SiO2=grid * 4, MgO=grid * 5, FeO=grid)
    m = read_map(tmp_path / "feo.npz")
    assert sorted(m.data) == ["FeOt", "MgO", "SiO2"] and float(m.data["FeOt"][0, 0]) == pytest.approx(10.0)
    assert any("iron read as total iron, FeOt" in note for note in m.notes)
    both, _ = to_oxides({"FeO": grid, "Fe2O3": grid})
    assert float(both["FeOt"][0, 0]) == pytest.approx(10.0 + 8.998, abs=1e-3)  # FeO + 0.8998 Fe2O3
    total, _ = to_oxides({"Fe2O3T": grid})
    assert float(total["FeOt"][0, 0]) == pytest.approx(8.998, abs=1e-3)
    kept, notes = to_oxides({"FeOt": grid, "FeO": grid})  # FeOt given: the others left as they are
    assert sorted(kept) == ["FeO", "FeOt"] and notes == []


def test_bad_grids(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "Si.csv").write_text("1,2\n3,abc\n")
    with pytest.raises(ValueError, match=r"Si.csv: cell \(row 1, column 1\) is not a number"):
        read_map(folder)
    # cells saying there is no value (outside the scanned area) are NaN pixels, as in a .npy map;
    # they were refused as "not a number"
    (folder / "Si.csv").write_text("x,y\n21.0,nan\n,21.5\n")
    grid = read_map(folder).data["SiO2"]
    assert np.isnan(grid).tolist() == [[False, True], [True, False]] and grid[0, 0] == pytest.approx(44.93, abs=0.01)
    with pytest.raises(ValueError, match="same shape"):
        OxideMap({"SiO2": np.ones((2, 2)), "MgO": np.ones((3, 2))})


def _demo_element_grids(folder, sep=";", decimal=","):
    """The demo map as an EDS program in a decimal-comma locale exports it: one grid of
    element wt% per file (``Al_wt%.csv``), ``sep`` between cells, ``decimal`` as the decimal mark."""
    from minml.chemistry.oxides import element_oxides

    folder.mkdir()
    with np.load(ROOT / "examples" / "demo_map.npz") as demo:
        oxides = {name: demo[name] for name in demo.files if name != "pixel_size"}
    for element, (oxide, factor) in element_oxides().items():
        if oxide in oxides:
            grid = (oxides[oxide] / np.float32(factor)).astype(np.float32)
            frame = pd.DataFrame(grid)
            frame.to_csv(folder / f"{element}_wt%.csv", sep=sep, decimal=decimal, header=False, index=False)
    return folder


@pytest.mark.parametrize("sep", [";", "\t", " "])
def test_grids_with_decimal_commas_read_as_their_numbers(tmp_path, sep):
    """Grids exported with decimal commas (3,5553) and ';' between cells were refused as
    'cell (row 0, column 0) is not a number ... (export it without labels)', though they hold
    no label."""
    points = read_map(_demo_element_grids(tmp_path / "points", sep=sep, decimal="."))
    commas = read_map(_demo_element_grids(tmp_path / "commas", sep=sep))
    first = next(iter(commas.data.values()))
    assert commas.shape == (128, 128) and first.dtype == np.float32
    assert list(commas.data) == list(points.data) and len(commas.data) == 11
    for name, grid in points.data.items():
        np.testing.assert_array_equal(commas.data[name], grid, err_msg=name)
    written = (tmp_path / "commas" / "Al_wt%.csv").read_text()
    assert "," in written and "." not in written


def test_a_decimal_comma_grid_with_labels_and_text_names_the_cell(tmp_path):
    """A line of labels is skipped and empty or 'nan' cells are pixels without a value, with
    decimal commas too; a cell of other text is named with its text, where it is, how the grid
    was read, and what to do."""
    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / "Al_wt%.csv").write_text("x;y;z\n3,5553;nan;1,25\n;2;-0,5\n")
    grid = read_map(folder).data["Al2O3"]
    factor = 1.8894262841894596  # Al2O3 per Al
    expected = np.array([[3.5553, np.nan, 1.25], [np.nan, 2.0, -0.5]], dtype=np.float32) * np.float32(factor)
    np.testing.assert_array_equal(grid, expected)
    (folder / "Al_wt%.csv").write_text("3,5553\t2,1\n1,25\t<0,01\n")
    with pytest.raises(
        ValueError,
        match=r"^Al_wt%.csv: cell \(row 1, column 1\) is not a number: '<0,01' \(line 2 of the file, read as cells "
        r"separated by tabs with decimal commas\)\. A map grid holds numbers only, with 'nan' or an empty cell "
        r"where a pixel has no value .*: replace that cell, or export the channel again as numbers\.$",
    ):
        read_map(folder)
    (folder / "Al_wt%.csv").write_text("3,5\n4,2\n")  # commas between cells: two cells a line, not 3.5
    as_integers = np.array([[3, 5], [4, 2]], dtype=np.float32) * np.float32(factor)
    np.testing.assert_array_equal(read_map(folder).data["Al2O3"], as_integers)


def test_map_command_on_decimal_comma_grids(tmp_path, capsys):
    """`minml map DIR -o OUT` on the decimal-comma export answers as on the same grids with points."""
    commas = _demo_element_grids(tmp_path / "commas")
    points = _demo_element_grids(tmp_path / "points", decimal=".")
    assert main(["map", str(commas), "-o", str(tmp_path / "out_commas")]) == 0
    assert main(["map", str(points), "-o", str(tmp_path / "out_points")]) == 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "out_commas" / "modes.csv"), pd.read_csv(tmp_path / "out_points" / "modes.csv")
    )


def test_images_saved_beside_the_maps_are_left_out_and_named(tmp_path):
    """EDS software exports the electron image and a total beside the element maps: the whole
    folder was refused ("Channel 'BSE' is neither an oxide nor an element symbol")."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name, value in (("Si Ka", 18.7), ("Mg Ka", 29.7), ("Fe Ka", 7.5), ("O", 43.6), ("BSE", 120.0), ("Total", 99.5)):
        np.savetxt(folder / f"{name}.csv", np.full((3, 4), value), delimiter=",")
    m = read_map(folder)
    assert sorted(m.data) == ["FeOt", "MgO", "SiO2"]
    assert m.notes[0] == "left out, as named by no element or oxide: BSE.csv, Total.csv"
    images = tmp_path / "images"
    images.mkdir()
    np.savetxt(images / "BSE.csv", np.ones((2, 2)), delimiter=",")
    with pytest.raises(ValueError, match=r"no file is named by an element or oxide \(BSE.csv\)"):
        read_map(images)


def _fixture_compositions():
    from minml.training.data import collect_training_set

    table, _ = collect_training_set(DATA / "training")
    rocks = table[table["mineral"].isin(["olivine", "clinopyroxene", "orthopyroxene", "plagioclase", "spinel"])]
    return rocks[[*MODEL_OXIDES, "mineral"]]


def test_synthetic_map_ground_truth(tmp_path):
    m, truth = synthetic_map(_fixture_compositions(), (64, 64), grains=8, cracks=1, random_state=3)
    result = classify_map(m, block_pixels=1000)
    scores = map_scores(result, truth)
    assert scores["interior_accuracy"] >= 0.95 and scores["crack_masked"] == 1.0
    assert scores["boundary_ok"] >= 0.8 and scores["mode_error"] < 3.0
    modes = result.modes()
    assert modes.loc[MASKED, "pixels"] == truth["crack"].sum()
    assert modes["area_percent"].sum() == pytest.approx(100.0)
    pixels = result.pixels()
    assert len(pixels) == 64 * 64
    assert list(pixels.columns) == ["row", "col", "mineral", "probability", "flag", "mixed_with", "fraction"]
    assert (pixels.loc[pixels["flag"] == MASKED, "mineral"] == MASKED).all()
    written = write_outputs(result, tmp_path / "out")
    assert all(p.stat().st_size > 100 for p in written)


def test_mask_threshold_and_clean():
    m, truth = synthetic_map(_fixture_compositions(), (32, 32), grains=4, cracks=0, random_state=5)
    halved = OxideMap({k: v * 0.5 for k, v in m.data.items()})  # fractions of 2, say: every sum below 80
    with pytest.warns(UserWarning, match="Every pixel's oxide sum is below min_total=80 wt%: the whole map is masked"):
        everything = classify_map(halved)
    assert (everything.mineral() == MASKED).all()
    for bad in ({"min_total": 150.0}, {"min_total": -1.0}, {"mixture_probability": 1.5}, {"max_total": 50.0}):
        with pytest.raises(ValueError, match="must (be an oxide sum in wt% between|lie between 0 and 1)"):
            classify_map(m, **bad)
    result = classify_map(m)
    codes = result.codes.copy()
    names = result.names
    interior = np.argwhere(~truth["boundary"])[len(np.argwhere(~truth["boundary"])) // 2]
    r, c = interior
    original = codes[r, c]
    other = next(i for i in range(len(result.class_proba_sum)) if i != original)
    result.codes[r, c] = other  # one stray pixel inside a grain
    cleaned = clean(result, min_region=3)
    assert cleaned.codes[r, c] == original and names[original] != MIXTURE
    for bad in (0, 9, 2.5):
        with pytest.raises(ValueError, match="min_region must be a number of like neighbours from 1 to 8"):
            clean(result, min_region=bad)
    with pytest.raises(ValueError, match="pixel_size must be a length above 0"):
        OxideMap(m.data, pixel_size=-1.0)


def test_a_map_in_other_units_or_missing_channels_is_said():
    """Channels in wt% x 100 (integer images) were classified as wt% without a word, 60 % of
    the pixels named; a map without Al, Ca or Na was read with zeros for them, silently."""
    m, _ = synthetic_map(_fixture_compositions(), (32, 32), grains=4, cracks=0, random_state=5)
    scaled = OxideMap({k: (v * 100).astype(np.int16) for k, v in m.data.items()})
    with pytest.warns(UserWarning, match=r"above max_total=110 wt% and are unknown: are the channels in wt%"):
        result = classify_map(scaled)
    assert (result.mineral() == "unknown").all()
    some = OxideMap({k: v for k, v in m.data.items() if k in ("SiO2", "MgO", "FeOt")})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        classify_map(some, min_total=0.0)  # three oxides of a cpx sum to less than 80
    texts = [str(w.message) for w in said]
    assert any(
        "no channel for the major oxides Al2O3, CaO: read as 0 wt% in every pixel, so silicate pixels are masked" in t
        for t in texts
    )
    assert any("no channel for TiO2, MnO, Na2O, K2O, Cr2O3, P2O5: read as 0" in t for t in texts)


@pytest.mark.parametrize("shape", [(1, 128), (128, 2)])
def test_figures_of_a_strip_of_a_map(tmp_path, shape):
    """A map one row high drew a figure 0.55 in tall: title and legend collapsed the axes."""
    m, _ = synthetic_map(_fixture_compositions(), (128, 128), grains=6, cracks=0, random_state=5)
    strip = OxideMap({k: v[: shape[0], : shape[1]] for k, v in m.data.items()})
    written = write_outputs(classify_map(strip), tmp_path)
    assert all(path.stat().st_size > 0 for path in written)


def test_demo_map_and_cli(tmp_path, capsys):
    demo = ROOT / "examples" / "demo_map.npz"
    assert demo.stat().st_size < 1_000_000
    assert main(["map", str(demo), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "128 x 128 pixels" in printed and "mode_percent" in printed
    modes = pd.read_csv(tmp_path / "out" / "modes.csv", index_col=0)
    with np.load(ROOT / "examples" / "demo_map_truth.npz") as truth:  # closed: no ResourceWarning later
        true_modes = pd.Series(truth["mineral"][~truth["crack"]]).value_counts(normalize=True) * 100
    for mineral, share in true_modes.items():
        assert modes.loc[mineral, "mode_percent"] == pytest.approx(share, abs=3.0)
    assert main(["map", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "x")]) == 2
    capsys.readouterr()
    (tmp_path / "a_file").write_text("")
    assert main(["map", str(demo), "-o", str(tmp_path / "a_file")]) == 2  # before the map is read
    assert "is a file; -o names the folder the map's outputs go to" in capsys.readouterr().err
    for option in (["--clean", "-3"], ["--min-total", "150"], ["--pixel-size", "0"], ["--clean", "2.5"]):
        with pytest.raises(SystemExit):  # refused by argparse, with the API's rule, before the map is read
            main(["map", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "x"), *option])
        assert f"argument {option[0]}: " in capsys.readouterr().err


def test_hspy_without_rosettasciio(tmp_path, monkeypatch):
    import sys

    from minml.maps.read import read_map

    path = tmp_path / "quantified.hspy"
    path.write_bytes(b"")
    for name in ("rsciio", "rsciio.hspy"):  # as if it were not installed
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "min-ml\[eds\]"'):
        read_map(path)


def test_progress_off_a_terminal_is_a_line_now_and_then(capsys):
    """Off a terminal (a log, a batch job) the map's progress is a line of its own, not a bar
    redrawn with carriage returns on one endless line."""
    demo = read_map(ROOT / "examples" / "demo_map.npz")
    capsys.readouterr()
    classify_map(demo, block_pixels=128 * 32, progress=True)
    lines = [line.strip() for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[0].startswith("classifying map: 0/4 block (")
    assert lines[-1].startswith("classifying map: 4/4 block (")
    assert all("\r" not in line for line in lines)


def test_mode_areas_sum_to_the_map_area():
    """``area_um2`` counts each pixel once: a mineral its allocated share (as ``mode_percent``),
    unknown what no mineral claims, mixture none (its pixels are its two phases'), masked its own;
    the column sums to the map's area (it counted the shared pixels twice before)."""
    oxide_map = read_map(ROOT / "examples" / "demo_map.npz")
    oxide_map.pixel_size = 2.5
    result = classify_map(oxide_map)
    modes = result.modes()
    area = result.codes.size * 2.5**2
    assert modes["area_um2"].sum() == pytest.approx(area, rel=1e-9)
    minerals = modes["mode_percent"].notna()
    analysed = area - modes.loc["masked", "area_um2"]
    assert np.allclose(modes.loc[minerals, "area_um2"], modes.loc[minerals, "mode_percent"] / 100 * analysed)
    assert (
        modes.loc["mixture", "area_um2"] == 0
        and modes.loc["masked", "area_um2"] == modes.loc["masked", "pixels"] * 6.25
    )


def test_clean_replaces_speckle_the_mixture_step_left_unknown():
    """A pixel of another phase's composition inside a grain (speckle) is answered unknown by the
    mixture step (no mixture of its neighbours explains it); ``clean`` gives it its grain's mineral
    and that mineral's probability there (before, ``clean`` touched mineral pixels only: nothing)."""
    oxide_map = read_map(ROOT / "examples" / "demo_map.npz")
    result = classify_map(oxide_map)
    k = len(result.class_proba_sum)
    codes = result.codes
    inner = np.zeros_like(codes, dtype=bool)
    inner[2:-2, 2:-2] = True
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            inner[2:-2, 2:-2] &= (
                codes[2 + dr : codes.shape[0] - 2 + dr, 2 + dc : codes.shape[1] - 2 + dc] == codes[2:-2, 2:-2]
            )
    inner &= codes < k
    spots = np.argwhere(inner)[:: max(1, int(inner.sum()) // 12)][:12]  # interior pixels of several grains
    other = np.argwhere(codes < k)
    data = {name: np.array(grid, dtype=np.float32) for name, grid in oxide_map.data.items()}
    for r, c in spots:
        donor = next((rr, cc) for rr, cc in other if codes[rr, cc] != codes[r, c])  # another mineral's pixel
        for grid in data.values():
            grid[r, c] = grid[donor[0], donor[1]]
    speckled = classify_map(OxideMap(data, pixel_size=oxide_map.pixel_size))
    answers = speckled.codes[spots[:, 0], spots[:, 1]]
    assert (answers == speckled.names.index("unknown")).sum() >= 8  # what clean is for
    cleaned = clean(speckled, min_region=3)
    assert (cleaned.codes[spots[:, 0], spots[:, 1]] == codes[spots[:, 0], spots[:, 1]]).all()
    assert np.isfinite(cleaned.probability[spots[:, 0], spots[:, 1]]).all()
    untouched = cleaned.codes == speckled.codes
    assert (cleaned.codes[~untouched] < k).all() and untouched.mean() > 0.98


def test_profile_strip_draws_a_masked_point_as_masked():
    """A profile across a masked pixel (a crack) drew it in the phase strip as unknown."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex

    from minml.maps.figures import line_profile, profile_plot
    from minml.palette import mineral_colours

    oxide_map = read_map(ROOT / "examples" / "demo_map.npz")
    result = classify_map(oxide_map)
    r = np.argwhere(result.codes == result.names.index(MASKED))[0][0]
    frame = line_profile(oxide_map, result, (0, r, result.codes.shape[1] - 1, r))  # along the masked pixel's row
    assert "masked" in set(frame["flag"])
    top = profile_plot(frame)
    strip = top.figure.axes[1]
    labels = [text.get_text() for text in strip.get_legend().get_texts()]
    assert "masked" in labels
    colours = {to_hex(patch.get_facecolor()) for patch in strip.patches}
    assert to_hex(mineral_colours()["masked"]) in colours
    import matplotlib.pyplot as plt

    plt.close(top.figure)
