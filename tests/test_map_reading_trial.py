"""Map reading as a user trial found it wanting: pixels missing one channel, grids with a
separator at each line end, channel names as Oxford AZtec and Bruker Esprit write them, units in
the names, cracks in at% maps, single-page interleaved TIFFs, channels= where a file names its
own, and elements that the standards file has no column for.

The maps are 16 x 16 cuts of ``examples/demo_map.npz`` (a clinopyroxene and an olivine grain),
written as the instruments write them: one CSV grid per element, in wt% or at%."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minml.chemistry.oxides import atomic_weight, element_oxides
from minml.maps.classify import classify_map
from minml.maps.read import OxideMap, channel_name, read_map

from .conftest import ROOT

CPX, OL = (slice(0, 16), slice(0, 16)), (slice(56, 72), slice(56, 72))  # all clinopyroxene; all olivine


def _oxides(cut=CPX) -> dict:
    demo = read_map(ROOT / "examples" / "demo_map.npz")
    return {name: np.asarray(grid, dtype=np.float64)[cut] for name, grid in demo.data.items()}


def _elements(oxides: dict) -> dict:
    """Oxide wt% -> element wt%, O included (what EDS software exports)."""
    of_oxide = {oxide: (element, factor) for element, (oxide, factor) in element_oxides().items()}
    elements = {of_oxide[name][0]: grid / of_oxide[name][1] for name, grid in oxides.items()}
    elements["O"] = sum(oxides.values()) - sum(elements.values())
    return elements


def _atomic(elements: dict) -> dict:
    """Element wt% -> at%, normalised to 100 over the elements, as the software does."""
    moles = {e: grid / atomic_weight(e) for e, grid in elements.items()}
    total = sum(moles.values())
    return {e: 100 * m / total for e, m in moles.items()}


def _write_folder(folder, grids: dict, name: str = "{} Ka", sep: str = ",", end: str = ""):
    """One CSV grid per channel, each line ending with ``end`` (a trailing separator)."""
    folder.mkdir(exist_ok=True)
    for element, grid in grids.items():
        lines = (sep.join(f"{v:.4f}" for v in row) + end for row in np.asarray(grid))
        (folder / f"{name.format(element)}.csv").write_text("\n".join(lines) + "\n")
    return folder


# 1. a pixel missing one channel is masked, and said


def test_a_pixel_without_a_value_in_one_channel_is_masked_and_said(tmp_path):
    """An empty or 'nan' cell in ONE channel made the pixel unknown (or a mineral) from the
    other channels; it is masked now, and the notes name the channel and count the pixels."""
    folder = _write_folder(tmp_path / "aztec", _elements(_oxides()))
    grid = np.loadtxt(folder / "Na Ka.csv", delimiter=",", dtype=str)
    grid[3, 2:7] = "nan"
    grid[9, 0] = ""  # an empty cell
    (folder / "Na Ka.csv").write_text("\n".join(",".join(row) for row in grid) + "\n")
    oxide_map = read_map(folder)
    assert "masked: 6 pixels with no value (an empty or 'nan' cell, NaN) or an infinite one in 'Na Ka.csv'" in (
        " ".join(oxide_map.notes)
    )
    phases = classify_map(oxide_map).mineral()
    assert (phases[3, 2:7] == "masked").all() and phases[9, 0] == "masked"
    assert (phases[0, :] == "clinopyroxene").all()  # the other pixels as before
    assert np.isnan(oxide_map.data["Na2O"][3, 2])  # the map itself keeps what the file holds


def test_an_infinite_pixel_is_masked_without_numpy_warnings(tmp_path):
    """An 'inf' value printed numpy's "overflow encountered in multiply" (warnings are errors here)."""
    oxides = {name: grid.astype(np.float32) for name, grid in _oxides().items()}
    oxides["SiO2"][5, 5] = np.inf
    oxides["MgO"][6, 6] = -np.inf
    np.savez(tmp_path / "map.npz", **oxides)
    oxide_map = read_map(tmp_path / "map.npz")
    assert any("masked: 2 pixels" in note and "'SiO2', 'MgO'" in note for note in oxide_map.notes)
    phases = classify_map(oxide_map).mineral()
    assert phases[5, 5] == phases[6, 6] == "masked"


def test_a_map_made_by_hand_masks_partial_pixels_too():
    """OxideMap.columns masks them whatever read the map (no note: nothing read it)."""
    oxides = _oxides(OL)
    oxides["P2O5"][4, :] = np.nan
    phases = classify_map(OxideMap(oxides, pixel_size=1.0)).mineral()
    assert (phases[4] == "masked").all() and (phases[0] == "olivine").all()


def test_a_partial_pixel_is_masked_whatever_the_minimum_total():
    """With min_total=0 a pixel whose channels are blanked has a sum of 0, which passes; it is
    masked for its missing value, not classified on zeros."""
    oxides = _oxides(OL)
    oxides["P2O5"][4, :] = np.nan
    phases = classify_map(OxideMap(oxides, pixel_size=1.0), min_total=0.0).mineral()
    assert (phases[4] == "masked").all() and (phases[0] == "olivine").all()


def test_the_lazy_reader_reads_units_from_the_names(tmp_path):
    """open_lazy read a folder of 'Si At%.npy' as wt% without a word, where read_map reads at%."""
    from minml.maps._lazy import open_lazy

    folder = tmp_path / "at"
    folder.mkdir()
    for element, grid in _atomic(_elements(_oxides(OL))).items():
        np.save(folder / f"{element} At%.npy", grid.astype(np.float32))
    lazy, eager = open_lazy(folder), read_map(folder)
    assert any("read in at%" in note or "in at%, as their names say" in note for note in lazy.notes)
    for name, grid in eager.data.items():
        np.testing.assert_allclose(np.asarray(lazy.data[name]), grid, rtol=1e-5, atol=1e-5)


def test_the_absent_channel_warning_names_only_what_is_missing():
    """The advice about Al, Na and Ca came even when those were mapped."""
    oxides = _oxides(OL)
    del oxides["MnO"]
    with pytest.warns(
        UserWarning, match=r"no channel for MnO: read as 0 wt% in every pixel\. Map the elements"
    ) as seen:
        classify_map(OxideMap(oxides, pixel_size=1.0))
    assert not any("feldspars" in str(w.message) for w in seen)
    del oxides["Na2O"]
    with pytest.warns(UserWarning, match=r"without Na2O cannot tell feldspars"):
        classify_map(OxideMap(oxides, pixel_size=1.0))


# 2. a separator at each line end


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_a_separator_at_each_line_end_adds_no_column(tmp_path, sep):
    folder = _write_folder(tmp_path / "trail", _elements(_oxides()), sep=sep, end=sep)
    assert read_map(folder).shape == (16, 16)


def test_a_separator_at_each_line_end_with_labels_and_a_last_column_with_values(tmp_path):
    """The careful reader (a line of labels) drops the empty column too; a last column whose
    cells hold values stays, though each line ends with a separator."""
    grid = np.full((4, 5), 19.96)
    lines = ["\t".join(f"x{i}" for i in range(5)) + "\t", *("\t".join(f"{v:.2f}" for v in row) + "\t" for row in grid)]
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "Si Ka.txt").write_text("\n".join(lines) + "\n")
    assert read_map(folder).shape == (4, 5)
    (folder / "Si Ka.txt").write_text("".join(",".join(f"{v:.2f}" for v in row) + ",7\n" for row in grid))
    assert read_map(folder).shape == (4, 6)  # a last column with values: kept


# 3. names as AZtec and Esprit write them


@pytest.mark.parametrize(
    "name",
    ["Al K series", "Al K", "Al Ka", "Al Wt.%", "Al Wt%", "Al (wt%)", "Al-K", "Al_K", "Al Ka1", "Al Kα1,2"],
)
def test_element_channels_named_as_aztec_and_esprit_name_them(tmp_path, name):
    elements = _elements(_oxides())
    folder = _write_folder(tmp_path / "names", {e: g for e, g in elements.items() if e != "Al"})
    _write_folder(folder, {"Al": elements["Al"]}, name=name)
    oxide_map = read_map(folder)
    np.testing.assert_allclose(oxide_map.data["Al2O3"], _oxides()["Al2O3"], atol=1e-3)
    assert "SiO2" in oxide_map.data and not any("left out" in note for note in oxide_map.notes)


def test_channel_names_give_the_element_and_units():
    assert channel_name("Si Ka1") == ("Si", None) and channel_name("O K series") == ("O", None)
    assert channel_name("K K series") == ("K", None) and channel_name("K") == ("K", None)
    assert channel_name("Si wt.%") == ("Si", "wt%") and channel_name("Si_atomic%") == ("Si", "at%")
    assert channel_name("Alk") == ("Alk", None) and channel_name("Ka") == ("Ka", None)  # no line without a name


def test_names_of_no_element_are_still_left_out_or_refused(tmp_path):
    folder = _write_folder(tmp_path / "names", _elements(_oxides()), name="{} K series")
    (folder / "BSE.csv").write_text("1,2\n3,4\n")
    (folder / "Ka.csv").write_text("1,2\n3,4\n")
    assert "left out, as named by no element or oxide: BSE.csv, Ka.csv" in read_map(folder).notes
    np.save(tmp_path / "m.npy", np.ones((4, 4, 2), np.float32))
    with pytest.raises(ValueError, match="'Xy' is neither an oxide nor an element symbol"):
        read_map(tmp_path / "m.npy", channels=["Si K series", "Xy K series"])


# 4. units in the names


@pytest.mark.parametrize("name", ["{} At%", "{}_atomic%", "{} at.%"])
def test_units_in_the_names_are_read(tmp_path, name):
    elements = _elements(_oxides())
    folder = _write_folder(tmp_path / "at", _atomic(elements), name=name)
    oxide_map = read_map(folder)
    oxides = _oxides()  # at% normalised to 100: the oxides too
    np.testing.assert_allclose(oxide_map.data["MgO"], 100 * oxides["MgO"] / sum(oxides.values()), rtol=2e-3)
    assert any("read in at%, as their names say" in note for note in oxide_map.notes)
    wrong = read_map(folder, units="wt%")  # units= wins, and says so
    assert "read in wt% as units= says, though the channels' names say at%" in wrong.notes


@pytest.mark.parametrize("name", ["{} Wt%", "{} wt.%", "{}_Wt%"])
def test_units_wt_in_the_names(tmp_path, name):
    folder = _write_folder(tmp_path / "wt", _elements(_oxides()), name=name)
    oxide_map = read_map(folder)
    np.testing.assert_allclose(oxide_map.data["SiO2"], _oxides()["SiO2"], atol=1e-3)
    assert "at% converted to wt% with the standard atomic weights" not in oxide_map.notes


def test_a_folder_mixing_units_is_refused_naming_the_files(tmp_path):
    elements = _elements(_oxides())
    folder = _write_folder(tmp_path / "mixed", {e: g for e, g in elements.items() if e != "Si"}, name="{} Wt%")
    _write_folder(folder, {"Si": elements["Si"]}, name="{} At%")
    with pytest.raises(ValueError, match=r"two units \(at%: 'Si At%.csv'; wt%: 'Al Wt%.csv', .*one unit"):
        read_map(folder)
    with pytest.raises(ValueError, match="two units"):
        read_map(folder, units="wt%")


# 5. cracks in at% maps


def test_cracks_in_an_at_percent_map_are_masked(tmp_path):
    """The mapped elements of an epoxy crack sum to a few at% (its carbon is not mapped); the
    conversion to wt% normalised every pixel to 100 and named the crack clinopyroxene."""
    atoms = _atomic(_elements(_oxides()))
    for grid in atoms.values():
        grid[:, 7] *= 0.03  # a crack down column 7
    oxide_map = read_map(_write_folder(tmp_path / "at", atoms, name="{} At%"))
    assert any(note.startswith("16 pixels sum to under 80 at%") for note in oxide_map.notes)
    total = sum(np.asarray(grid) for grid in oxide_map.data.values())
    assert total[0, 7] == pytest.approx(3.0, abs=0.2) and total[0, 0] == pytest.approx(100.0, abs=1.0)
    phases = classify_map(oxide_map).mineral()
    assert (phases[:, 7] == "masked").all() and (phases[:, 0] == "clinopyroxene").all()


# 6. single-page interleaved TIFF


def test_a_single_page_interleaved_tiff_is_read_as_its_channels(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    oxides = _oxides()
    names = list(oxides)
    stack = np.stack([oxides[n] for n in names], axis=-1).astype(np.float32)  # 16 x 16 x 11
    tifffile.imwrite(tmp_path / "hwc.tif", stack, photometric="minisblack", planarconfig="contig")
    oxide_map = read_map(tmp_path / "hwc.tif", channels=names)
    for name in names:
        np.testing.assert_array_equal(oxide_map.data[name], stack[..., names.index(name)], err_msg=name)


def test_a_single_2d_tiff_is_one_channel(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "single_page.tif", _oxides()["SiO2"].astype(np.float32))
    assert list(read_map(tmp_path / "single_page.tif", channels=["SiO2"]).data) == ["SiO2"]
    with pytest.raises(ValueError, match=r"is one 2-D image \(16 x 16 pixels: one channel\), but channels= names 2"):
        read_map(tmp_path / "single_page.tif", channels=["SiO2", "MgO"])
    with pytest.raises(ValueError, match=r"is one 2-D image \(16 x 16 pixels: one channel\): give channels= one name"):
        read_map(tmp_path / "single_page.tif")


# 7. channels= where the file names its channels


def test_channels_are_refused_where_the_file_names_its_own(tmp_path):
    np.savez(tmp_path / "map.npz", **_oxides())
    with pytest.raises(
        ValueError, match=r"map.npz names its channels itself \(by its arrays' names\): leave channels="
    ):
        read_map(tmp_path / "map.npz", channels=["SiO2"])
    folder = _write_folder(tmp_path / "aztec", _elements(_oxides()))
    with pytest.raises(ValueError, match=r"names its channels itself \(by its files' names\)"):
        read_map(folder, channels=["Si"])


def test_channels_are_refused_for_hspy(tmp_path):
    pytest.importorskip("rsciio")
    pytest.importorskip("h5py")
    from rsciio.hspy import file_writer

    axes = [{"name": n, "size": 16, "scale": 1.0, "units": "µm", "offset": 0.0, "navigate": False} for n in "yx"]
    signal = {"data": _oxides()["SiO2"].astype(np.float32), "axes": axes, "metadata": {"General": {"title": "SiO2"}},
              "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
              "package_info": {"name": "hyperspy", "version": "2.1"}, "learning_results": {}, "models": {}}  # fmt: skip
    file_writer(str(tmp_path / "SiO2.hspy"), signal)
    assert list(read_map(tmp_path / "SiO2.hspy").data) == ["SiO2"]
    with pytest.raises(ValueError, match=r"SiO2.hspy names its channels itself \(by its metadata\)"):
        read_map(tmp_path / "SiO2.hspy", channels=["SiO2"])


# 8. standards without a column for an element of the spectra

STANDARDS = ROOT.parent / "shared" / "eds" / "reference_minerals"


@pytest.mark.skipif(not STANDARDS.is_dir(), reason=f"shared EDS standards not found at {STANDARDS}")
def test_an_element_no_standard_column_holds_is_extrapolated(tmp_path):
    """The standards file has no FeO column; the spectrum image names Fe: its k comes from the
    line of log k against line energy (as docs/guide/maps.md says), not left out."""
    pytest.importorskip("rsciio")
    pytest.importorskip("h5py")
    from rsciio.hspy import file_writer
    from rsciio.msa import file_reader

    from minml.maps.quantify import standards_k_factors

    augite = file_reader(str(STANDARDS / "augite.msa"))[0]
    counts = np.broadcast_to(augite["data"].astype(np.float32), (4, 4, augite["data"].size)).copy()
    axes = [{"name": n, "size": 4, "scale": 1.0, "units": "µm", "offset": 0.0, "navigate": True} for n in "yx"]
    named = ["Na", "Mg", "Al", "Si", "Ca", "Ti", "Fe"]
    signal = {"data": counts, "axes": [*axes, dict(augite["axes"][-1], navigate=False)],
              "metadata": {"General": {"title": "spectra"}, "Signal": {"signal_type": "EDS_SEM"},
                           "Sample": {"elements": named}},
              "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
              "package_info": {"name": "hyperspy", "version": "2.1"}, "learning_results": {}, "models": {}}  # fmt: skip
    file_writer(str(tmp_path / "spectra.hspy"), signal)
    standards = pd.DataFrame(
        {
            "spectrum": [str(STANDARDS / f"{m}.msa") for m in ("albite", "microcline", "spinel", "titanite")],
            "SiO2": [68.74, 64.76, 0, 30.65],
            "Al2O3": [19.44, 18.32, 71.67, 0],
            "Na2O": [11.82, 0, 0, 0],
            "K2O": [0, 16.92, 0, 0],
            "MgO": [0, 0, 28.33, 0],
            "CaO": [0, 0, 0, 28.6],
            "TiO2": [0, 0, 0, 40.75],
        }
    )
    standards.to_csv(tmp_path / "standards.csv", index=False)
    k, _ = standards_k_factors(tmp_path / "standards.csv")
    assert "Fe" not in k
    oxide_map = read_map(tmp_path / "spectra.hspy", k_factors=k)
    assert float(np.median(oxide_map.data["FeOt"])) > 3  # augite: several wt% FeO
    assert "k-factors of Fe (no standard holds them) from log k against line energy" in oxide_map.notes
    assert not any("left out" in note for note in oxide_map.notes)
    plain = read_map(tmp_path / "spectra.hspy", k_factors=dict(k))  # k-factors given by hand: not guessed
    assert "FeOt" not in plain.data
    assert any("left out: Fe (to quantify one, give its k-factor" in note for note in plain.notes)


def test_a_memory_mapped_map_is_not_read_whole_to_count_its_empty_pixels(tmp_path):
    """read_map of a .npy stack (memory-mapped: a map larger than memory) does not scan every
    channel up front to count its NaN pixels; they are masked all the same."""
    oxides = _oxides(OL)
    names = list(oxides)
    stack = np.stack([oxides[n] for n in names], axis=-1).astype(np.float32)
    stack[4, :, names.index("P2O5")] = np.nan
    np.save(tmp_path / "stack.npy", stack)
    oxide_map = read_map(tmp_path / "stack.npy", channels=names)
    assert not any(note.startswith("masked:") for note in oxide_map.notes)
    phases = classify_map(oxide_map).mineral()
    assert (phases[4] == "masked").all() and (phases[0] == "olivine").all()
