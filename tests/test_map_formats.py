"""Map formats as microscopists have them: HyperSpy signals written by rosettasciio itself,
per-element exports, raw spectrum images (the real Bruker, EMSA and Ripple files in
../shared/eds), and the spectrum -> oxide wt% -> phase path on 18 mineral standards."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

from minml.cli import main
from minml.maps.classify import classify_map
from minml.maps.read import read_map, to_oxides

from .conftest import DATA, ROOT

EDS = ROOT.parent / "shared" / "eds"
needs_eds = pytest.mark.skipif(not EDS.is_dir(), reason=f"shared EDS files not found at {EDS}")
pytest.importorskip("rsciio")
pytest.importorskip("h5py")

FO = {"Si": 18.9, "Mg": 29.8, "Fe": 7.5, "O": 43.6}  # forsterite-rich olivine, element wt%


def _write_hspy(path, data, metadata, axes):
    """A signal saved by rosettasciio's own HyperSpy writer (as hs.save does)."""
    from rsciio.hspy import file_writer

    signal = {
        "data": data,
        "axes": axes,
        "metadata": metadata,
        "original_metadata": {},
        "tmp_parameters": {},
        "attributes": {"_lazy": False},
        "package_info": {"name": "hyperspy", "version": "2.1"},
        "learning_results": {},
        "models": {},
    }
    file_writer(str(path), signal)


def _image_axes(h, w, scale=0.5, units="µm"):
    return [
        {"name": "y", "size": h, "scale": scale, "units": units, "offset": 0.0, "navigate": False},
        {"name": "x", "size": w, "scale": scale, "units": units, "offset": 0.0, "navigate": False},
    ]


def test_stacked_hspy_round_trip(tmp_path):
    """A quantified stack (n, H, W) named by metadata.Sample.elements, units from the quantity."""
    stack = np.stack([np.full((3, 4), v, dtype=np.float32) for v in FO.values()])
    stack[0, 0, 0] = 19.5  # one pixel different: the order of the images is kept
    axes = [{"name": "element", "size": 4, "navigate": True}, *_image_axes(3, 4)]
    meta = {
        "General": {"title": "quant"},
        "Signal": {"quantity": "Weight percent (wt%)"},
        "Sample": {"elements": list(FO)},
    }
    _write_hspy(tmp_path / "stack.HSPY", stack, meta, axes)  # extension in capitals
    m = read_map(tmp_path / "stack.HSPY")
    assert m.shape == (3, 4) and m.pixel_size == pytest.approx(0.5)
    assert sorted(m.data) == ["FeOt", "MgO", "SiO2"]
    assert float(m.data["SiO2"][0, 0]) == pytest.approx(19.5 * 60.084 / 28.085, rel=1e-3)
    assert float(m.data["SiO2"][1, 1]) == pytest.approx(18.9 * 60.084 / 28.085, rel=1e-3)
    meta["Sample"] = {}  # no names for the images: refused, saying where names are read
    _write_hspy(tmp_path / "unnamed.hspy", stack, meta, axes)
    with pytest.raises(ValueError, match=r"holds 4 images but its metadata names no element for each"):
        read_map(tmp_path / "unnamed.hspy")


def test_zspy_written_by_rosettasciio_reads_as_its_hspy_twin(tmp_path, capsys):
    """A .zspy (a Zarr folder) saved by rosettasciio's own writer (tests/data/make_zspy.py:
    the same stack as the .hspy round trip) is one signal, not a folder of grids."""
    m = read_map(DATA / "stack.zspy")
    assert m.shape == (3, 4) and m.pixel_size == pytest.approx(0.5)
    assert sorted(m.data) == ["FeOt", "MgO", "SiO2"]
    assert float(m.data["SiO2"][0, 0]) == pytest.approx(19.5 * 60.084 / 28.085, rel=1e-3)
    assert float(m.data["MgO"][2, 3]) == pytest.approx(29.8 * 40.304 / 24.305, rel=1e-3)
    assert main(["map", str(DATA / "stack.zspy"), "-o", str(tmp_path / "out")]) == 0
    modes = pd.read_csv(tmp_path / "out" / "modes.csv", index_col=0)
    assert modes.loc["olivine", "pixels"] == 12


def test_folder_of_per_element_hspy_in_atomic_percent(tmp_path):
    """One signal per element (titles as HyperSpy's quantification writes them), at%."""
    folder = tmp_path / "quant"
    folder.mkdir()
    atoms = {"Mg": 2 / 7 * 100, "Si": 1 / 7 * 100, "O": 4 / 7 * 100}  # forsterite, at%
    for element, value in atoms.items():
        meta = {"General": {"title": f"atomic percent of {element}"}, "Signal": {"quantity": "Atomic percent (at%)"}}
        _write_hspy(folder / f"{element}.hspy", np.full((2, 3), value, np.float32), meta, _image_axes(2, 3, 200, "nm"))
    m = read_map(folder)
    assert m.pixel_size == pytest.approx(0.2) and "at% converted to wt% with the standard atomic weights" in m.notes
    assert float(m.data["MgO"][0, 0]) == pytest.approx(57.29, abs=0.05)
    (folder / "O.hspy").unlink()  # at% without oxygen cannot be turned into wt%
    with pytest.raises(ValueError, match=r"at% need every element, O included.*No O channel among Mg, Si"):
        read_map(folder)


def test_at_percent_without_oxygen_is_refused():
    with pytest.raises(ValueError, match="export the O map too, or the maps in wt%"):
        to_oxides({"Mg": np.ones((1, 1)), "Si": np.ones((1, 1))}, units="at%")


def test_extensions_in_any_case(tmp_path):
    import tifffile

    stack = np.stack([np.full((5, 6), 42.7), np.full((5, 6), 57.3)]).astype(np.float32)
    tifffile.imwrite(tmp_path / "stack.TIF", stack)
    assert read_map(tmp_path / "stack.TIF", channels=["SiO2", "MgO"]).shape == (5, 6)
    folder = tmp_path / "export"
    folder.mkdir()
    for name, value in (("Si_wt%", 19.96), ("Mg_wt%", 34.55)):  # AZtec / Esprit naming, upper-case extension
        np.savetxt(folder / f"{name}.CSV", np.full((4, 4), value), delimiter=",")
    assert sorted(read_map(folder).data) == ["MgO", "SiO2"]


def test_grids_read_by_the_c_engine_as_the_careful_reader_reads_them(tmp_path):
    """Grids are read straight to float32 (11 grids of 1024^2 took 6.7 s with the Python
    engine); what the fast path refuses (a header, text) is read cell by cell as before."""
    from minml.maps.read import _read_grid, _read_grid_carefully

    rng = np.random.default_rng(0)
    grid = rng.uniform(0, 60, (300, 400)).astype(np.float32)
    grid[3, 5] = np.nan
    for sep, name in ((",", "a.csv"), (";", "b.csv"), ("\t", "c.txt"), (" ", "d.txt")):
        path = tmp_path / name
        pd.DataFrame(grid).to_csv(path, sep=sep, header=False, index=False, na_rep="nan", float_format="%.4f")
        fast = _read_grid(path)
        slow = _read_grid_carefully(path, dict(sep=sep if sep != " " else r"\s+", header=None, engine="python"))
        np.testing.assert_array_equal(fast, slow)
        assert fast.dtype == np.float32 and np.isnan(fast[3, 5])
    big = tmp_path / "big.csv"
    pd.DataFrame(rng.uniform(0, 60, (1024, 1024))).to_csv(big, header=False, index=False, float_format="%.3f")
    start = time.perf_counter()
    assert _read_grid(big).shape == (1024, 1024)
    assert time.perf_counter() - start < 20  # a gross regression guard only; timings live in benchmarks/


def test_grids_of_a_folder_read_two_at_a_time_in_the_folders_order(tmp_path):
    """The grid files are parsed two at a time: the channels keep the files' order and values,
    and of two bad files the first in that order is named."""
    from minml.maps.read import _read_grid

    rng = np.random.default_rng(1)
    folder = tmp_path / "grids"
    folder.mkdir()
    for name in ("Al", "Ca", "Fe", "Mg", "Na", "Si"):
        pd.DataFrame(rng.uniform(0, 30, (40, 50))).to_csv(folder / f"{name}.csv", header=False, index=False)
    read = read_map(folder, units="wt%")
    serial = to_oxides({p.stem: _read_grid(p) for p in sorted(folder.glob("*.csv"))})[0]
    assert list(read.data) == list(serial)
    for name, grid in serial.items():
        np.testing.assert_array_equal(read.data[name], grid)
    (folder / "Fe.csv").write_text("1,2\n3,abc\n")
    (folder / "Si.csv").write_text("1,2\n3,xyz\n")
    with pytest.raises(ValueError, match=r"^Fe.csv: cell \(row 1, column 1\) is not a number"):
        read_map(folder)


@needs_eds
@pytest.mark.parametrize(
    "name, shape",
    [
        ("bruker/P45_the_default_job.bcf", (75, 100)),
        ("bruker/bcf_v2_50x50px.bcf", (50, 50)),
        ("msa/example1.msa", None),
    ],
)
def test_raw_spectra_are_refused_with_the_command_that_quantifies_them(name, shape):
    path = EDS / name
    if shape is None:
        with pytest.raises(ValueError, match=r"outside the spectra|raw EDS spectrum image"):
            read_map(path)
        return
    with pytest.raises(
        ValueError, match=rf"raw EDS spectrum image \({shape[0]} x {shape[1]} pixels x 2048 channels\)"
    ) as error:
        read_map(path)
    assert f"minml map {path.name} --k-factors kfactors.csv -o OUT" in str(error.value)


@needs_eds
def test_bruker_spectrum_image_quantified_with_k_factors(tmp_path):
    k = {"Al": 0.95, "Si": 1.0, "Fe": 4.0}
    m = read_map(EDS / "bruker" / "bcf_v2_50x50px.bcf", k_factors=k)
    assert m.shape == (50, 50) and m.pixel_size == pytest.approx(0.0118, rel=1e-2)
    total = sum(np.asarray(g, dtype=float) for g in m.data.values())
    assert np.allclose(total[total > 0], 100.0, atol=1e-3)  # normalised: counts give ratios
    assert float(np.median(m.data["Al2O3"])) > 80  # the file's sample is aluminium (its metadata: Al, Ag, Cu, C, O)
    assert any("no k-factor was given for, left out: Ag, C, Cu" in note for note in m.notes)
    low = read_map(EDS / "bruker" / "16x16_12bit_packed_8bit.bcf", k_factors=k)  # 0.1 s per pixel: too few counts
    assert all(float(np.abs(g).max()) == 0 for g in low.data.values())
    assert any("fewer than 50 net counts" in note for note in low.notes)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        empty = classify_map(low)  # the advice to lower min_total would not help: every pixel is a hole
    texts = [str(w.message) for w in said]
    assert any("0 wt% in every channel: there is nothing to classify" in t and "bin it" in t for t in texts)
    assert not any("lower min_total" in t for t in texts)
    assert (empty.codes == empty.names.index("masked")).all()
    with pytest.raises(ValueError, match=r"test_ripple.*Al Ka \(1.4867 keV\) lies outside the spectra"):
        read_map(next((EDS / "ripple").glob("*.rpl")), k_factors=k)  # an EELS file: no X-ray lines
    kfile = tmp_path / "k.csv"
    pd.DataFrame({"element": list(k), "k": list(k.values())}).to_csv(kfile, index=False)
    assert (
        main(
            ["map", str(EDS / "bruker" / "bcf_v2_50x50px.bcf"), "-o", str(tmp_path / "out"), "--k-factors", str(kfile)]
        )
        == 0
    )


@pytest.mark.parametrize("suffix", [".tif", ".npy"])
def test_one_array_without_channel_names_is_refused_with_its_channel_count(tmp_path, suffix):
    """A multi-page TIFF's channels are its pages, a .npy's its last axis: the message counts the
    right one (it gave a TIFF's width, 128, for its 11 pages)."""
    demo = read_map(ROOT / "examples" / "demo_map.npz")
    stack = np.stack([np.asarray(grid, dtype=np.float32) for grid in demo.data.values()])  # 11 x 128 x 128
    path = tmp_path / f"map{suffix}"
    if suffix == ".tif":
        tifffile = pytest.importorskip("tifffile")
        tifffile.imwrite(path, stack)
    else:
        np.save(path, np.moveaxis(stack, 0, -1))
    with pytest.raises(ValueError, match=rf"map{suffix} is one array: give channels=\[...\] naming its 11 channels"):
        read_map(path)


def test_a_folder_of_npy_channels_reads_as_open_lazy_reads_it(tmp_path):
    """read_map refused the folder of .npy channels that open_lazy reads; it reads it now, the same
    values as the .npz it came from, memory-mapped; a 3-D array in such a folder is refused."""
    demo = read_map(ROOT / "examples" / "demo_map.npz")
    folder = tmp_path / "npy"
    folder.mkdir()
    for name, grid in demo.data.items():
        np.save(folder / f"{name}.npy", np.asarray(grid))
    np.save(folder / "BSE.npy", np.zeros((128, 128)))  # an image that names no element: left out
    read = read_map(folder)
    assert set(read.data) == set(demo.data)
    for name, grid in demo.data.items():
        np.testing.assert_array_equal(np.asarray(read.data[name]), np.asarray(grid), err_msg=name)
    assert (classify_map(read).codes == classify_map(demo).codes).all()
    np.save(folder / "MgO.npy", np.zeros((2, 128, 128)))
    with pytest.raises(ValueError, match=r"MgO.npy holds an array of shape \(2, 128, 128\): a folder's .npy files"):
        read_map(folder)
