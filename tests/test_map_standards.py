"""The whole path spectrum -> oxide wt% -> phase on 18 real spectra of mineral standards
(../shared/eds/reference_minerals: Smithsonian NMNH specimens, EDAX Octane, 15 kV, 10 s).

k-factors come from the standards whose composition is fixed by their formula (albite,
microcline, spinel, apatite, titanite: ideal formulas of the IMA-CNMNC list of minerals; the
specimens' own analyses are not published with the spectra), each standard classified with
k-factors from the OTHER calibration standards (leave-one-out); elements no remaining standard
holds (Fe, Mn, Cr, and Na when albite is left out) get theirs from the line-energy fit.  Clays,
chlorite and titanite are none of the classifier's classes: their expected answer is unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minml.chemistry.oxides import molar_mass
from minml.maps.quantify import cliff_lorimer, k_factors_from_standards, line_intensities

from .conftest import ROOT

STANDARDS = ROOT.parent / "shared" / "eds" / "reference_minerals"
pytestmark = pytest.mark.skipif(not STANDARDS.is_dir(), reason=f"shared EDS standards not found at {STANDARDS}")
pytest.importorskip("rsciio")

ELEMENTS = ["Na", "Mg", "Al", "Si", "P", "K", "Ca", "Ti", "Cr", "Mn", "Fe"]
# oxide moles per formula unit of the ideal formulas (IMA-CNMNC List of Minerals)
FORMULAS = {
    "albite": {"Na2O": 0.5, "Al2O3": 0.5, "SiO2": 3},  # NaAlSi3O8
    "microcline": {"K2O": 0.5, "Al2O3": 0.5, "SiO2": 3},  # KAlSi3O8
    "spinel": {"MgO": 1, "Al2O3": 1},  # MgAl2O4
    "apatite": {"CaO": 5, "P2O5": 1.5},  # Ca5(PO4)3F (F is not quantified)
    "titanite": {"CaO": 1, "TiO2": 1, "SiO2": 1},  # CaTiSiO5
}
EXPECTED = {
    "albite": "plagioclase",  # Ab100: the plagioclase end-member
    "apatite": "apatite",
    "augite": "clinopyroxene",
    "biotite": "biotite",
    "enstatite": "orthopyroxene",
    "hornblende": "amphibole",
    "labradorite": "plagioclase",
    "microcline": "k-feldspar",
    "oligoclase": "plagioclase",
    "pigeonite": "clinopyroxene",  # monoclinic low-Ca pyroxene
    "spinel": "spinel",
}
NOT_A_CLASS = ["chlorite", "illite", "kaolinite", "montmorillonite", "palygorskite", "titanite", "vermiculite"]


def _weight_percent(moles: dict) -> dict:
    mass = {oxide: n * molar_mass(oxide) for oxide, n in moles.items()}
    return {oxide: 100.0 * m / sum(mass.values()) for oxide, m in mass.items()}


def _net_counts() -> dict:
    from rsciio.msa import file_reader

    out = {}
    for path in sorted(STANDARDS.glob("*.msa")):
        signal = file_reader(str(path))[0]
        axis = signal["axes"][0]
        energy = (axis["offset"] + axis["scale"] * np.arange(axis["size"])) / 1000.0  # eV -> keV
        out[path.stem] = line_intensities(signal["data"], energy, ELEMENTS)
    return out


def _leave_one_out(net: dict) -> pd.DataFrame:
    rows = {}
    for name, counts in net.items():
        calibration = [s for s in FORMULAS if s != name]
        compositions = pd.DataFrame([_weight_percent(FORMULAS[s]) for s in calibration]).fillna(0.0)
        k, _ = k_factors_from_standards(np.array([net[s] for s in calibration]), compositions, ELEMENTS)
        rows[name] = {oxide: float(v) for oxide, v in cliff_lorimer(counts, ELEMENTS, k).items()}
    return pd.DataFrame(rows).T


def test_standards_spectrum_to_phase_leave_one_out():
    import minml

    oxides = _leave_one_out(_net_counts())
    assert len(oxides) == 18
    np.testing.assert_allclose(oxides.sum(axis=1), 100.0, atol=1e-3)
    classified = minml.classify(oxides)
    answer = classified["mineral"].astype(str)
    right = [name for name, cls in EXPECTED.items() if answer[name] == cls]
    unknown = [name for name in NOT_A_CLASS if answer[name] == "unknown"]
    # measured with the shipped model of 2026-12-07 (64 x 64, tourmaline's supergroup end-members):
    # 6 of 11 named right; wrong: enstatite -> amphibole (its spectrum quantifies to (Mg + Fe) / Si
    # 0.84 by moles, the ratio of anthophyllite-cummingtonite, 0.875, not enstatite's 1.0: without
    # an absorption correction Mg is read low), hornblende -> clinopyroxene 0.66 (noted as an overlap
    # with amphibole: its spectrum gives 4 wt% Al2O3), pigeonite -> orthopyroxene (0.6 wt% CaO: this
    # specimen is nearly Ca-free); labradorite and spinel (left out, Mg from the line-energy fit)
    # unknown.  5 of 7 non-classes unknown: chlorite, kaolinite, montmorillonite, palygorskite and
    # titanite, each explained by no class's end-members (kaolinite, SiO2 and Al2O3 alone, lay within
    # tourmaline's misfit limit while it was 8.7 wt%; at 4.6 it is 7.5 wt% from every tourmaline, as
    # from every muscovite); illite -> k-feldspar 0.60 and vermiculite -> biotite (noted unusual),
    # the minerals they come from or resemble.  (The model before the synthetic amphiboles, which
    # had seen no Mg-amphibole, named the enstatite right: 7 of 11.)
    assert len(right) >= 6, dict(answer)
    assert len(unknown) >= 5, dict(answer)
    named = classified.loc[[n for n in NOT_A_CLASS if answer[n] != "unknown"]]
    odd = named["flag"].str.startswith("unusual") | (named["probability"] < 0.9)  # never a plain answer
    assert odd.all(), named[["mineral", "probability", "flag"]]
    wrong_class = [n for n in EXPECTED if answer[n] not in (EXPECTED[n], "unknown")]
    assert len(wrong_class) <= 3, dict(answer)
    enstatite = oxides.loc["enstatite"]
    assert (enstatite["MgO"] / 40.30 + enstatite["FeOt"] / 71.84) / (enstatite["SiO2"] / 60.08) < 0.875


def test_k_factors_need_si_and_enough_standards():
    net = np.array([[100.0, 200.0]])
    with pytest.raises(ValueError, match="relative to Si"):
        k_factors_from_standards(net, pd.DataFrame({"MgO": [50.0], "Al2O3": [50.0]}), ["Mg", "Al"])
    with pytest.raises(ValueError, match="No standard holds Al, and 2 k-factors are too few"):
        k_factors_from_standards(
            np.array([[100.0, 200.0, 0.0]]), pd.DataFrame({"MgO": [50.0], "SiO2": [50.0]}), ["Mg", "Si", "Al"]
        )
    with pytest.raises(ValueError, match="No k-factor for Fe"):
        cliff_lorimer(np.array([10.0, 10.0]), ["Si", "Fe"], {"Si": 1.0})
    with pytest.raises(ValueError, match="Leave O out"):
        cliff_lorimer(np.array([10.0, 10.0]), ["Si", "O"], {"Si": 1.0, "O": 1.0})


def test_standards_file_through_the_command(tmp_path):
    """--standards: a CSV naming spectra (relative paths) and their oxide wt%."""
    from minml.maps.quantify import standards_k_factors

    table = pd.DataFrame([{"spectrum": str(STANDARDS / f"{s}.msa"), **_weight_percent(FORMULAS[s])} for s in FORMULAS])
    path = tmp_path / "standards.csv"
    table.fillna(0.0).to_csv(path, index=False)
    k, notes = standards_k_factors(path)
    assert k["Si"] == pytest.approx(1.0) and set(k) == {"Na", "Mg", "Al", "Si", "P", "K", "Ca", "Ti"}
    assert 0.5 < k["Mg"] < 2 and notes == []
    table.drop(columns=["spectrum"]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="a 'spectrum' column"):
        standards_k_factors(tmp_path / "bad.csv")
