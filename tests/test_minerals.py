import pytest

from minml.chemistry.formulas import parse_formula
from minml.chemistry.minerals import class_groups, end_member_table, mineral_table
from minml.chemistry.oxides import atomic_weight, species_table

MINERALS = mineral_table()
END_MEMBERS = end_member_table()


def _atoms(oxides: dict) -> dict:
    """Atoms per formula unit of an oxide-mole composition (halogens replace 1/2 O each)."""
    table = species_table()
    atoms = {}
    for name, moles in oxides.items():
        species = table[name]
        atoms[species.element] = atoms.get(species.element, 0.0) + moles * species.cations
        oxygen = species.oxygens * moles - (0.5 * moles if species.halogen else 0.0)
        atoms["O"] = atoms.get("O", 0.0) + oxygen
    return {k: v for k, v in atoms.items() if v}


@pytest.mark.parametrize("name", sorted(END_MEMBERS))
def test_formula_and_oxides_agree_atom_for_atom(name):
    end_member = END_MEMBERS[name]
    assert _atoms(end_member.oxides) == pytest.approx(parse_formula(end_member.formula))


@pytest.mark.parametrize("mineral", [m for m in MINERALS.values() if m.end_members], ids=lambda m: m.name)
def test_every_end_member_fills_its_class_basis(mineral):
    table = species_table()
    hydroxyl = max(END_MEMBERS[name].oxides.get("H2O", 0.0) for name in mineral.end_members)
    for name in mineral.end_members:
        oxides = END_MEMBERS[name].oxides
        counted = {k: v for k, v in oxides.items() if k not in mineral.basis_excludes and not table[k].halogen}
        oxygens = sum(v * table[k].oxygens for k, v in counted.items())
        cations = sum(v * table[k].cations for k, v in counted.items())
        # an oxo member holds O where the class's hydrous members hold OH (kaersutite's W = O2,
        # Hawthorne et al. 2012; oxy-dravite's W = O, Henry et al. 2011): each such O counts in
        # the basis that leaves the H2O out, half an O more per OH (an OH replaced by F or Cl
        # counts nothing: fluorapatite)
        halogens = sum(v for k, v in oxides.items() if table[k].halogen)
        oxo = hydroxyl - oxides.get("H2O", 0.0) - 0.5 * halogens
        assert oxygens == pytest.approx(mineral.oxygens + oxo), (mineral.name, name)
        low, high = mineral.cations if isinstance(mineral.cations, tuple) else (mineral.cations,) * 2
        assert low - 1e-9 <= cations <= high + 1e-9, (mineral.name, name, cations)
        # charge balance: cation charges equal twice the oxygens, plus one per halogen
        charge = sum(v * table[k].cations * table[k].charge for k, v in oxides.items() if not table[k].halogen)
        halogens = sum(v for k, v in oxides.items() if table[k].halogen)
        anions_o = sum(v * table[k].oxygens for k, v in oxides.items() if not table[k].halogen) - 0.5 * halogens
        assert charge == pytest.approx(2 * anions_o + halogens), (mineral.name, name)


def test_every_listed_end_member_exists_and_every_class_has_a_group():
    for mineral in MINERALS.values():
        assert set(mineral.end_members) <= set(END_MEMBERS), mineral.name
        assert mineral.end_members, f"{mineral.name} has no end-members"
    assert set(class_groups()) == set(MINERALS) | {"glass"}


def test_end_member_wt_percent_by_hand():
    # worked by hand from the IUPAC atomic weights: forsterite Mg2SiO4 = 2 MgO (2 x 40.304) +
    # SiO2 (60.083) -> MgO 80.608 / 140.691 = 57.29 wt%, SiO2 42.71 wt%; jadeite NaAlSi2O6 =
    # 0.5 Na2O (30.990) + 0.5 Al2O3 (50.981) + 2 SiO2 (120.166) = 202.137 -> 15.33 / 25.22 / 59.45
    table = species_table()

    def wt(name):
        mass = {k: v * table[k].molar_mass for k, v in END_MEMBERS[name].oxides.items()}
        return {k: round(100 * m / sum(mass.values()), 2) for k, m in mass.items()}

    assert wt("forsterite") == {"MgO": 57.29, "SiO2": 42.71}
    assert wt("jadeite") == {"Na2O": 15.33, "Al2O3": 25.22, "SiO2": 59.45}
    assert atomic_weight("Na") == 22.990


@pytest.mark.parametrize("bad", ["Mg2SiO4)", "(Mg2SiO4", "Mg2 SiO4", "Mg2Si(2O4", "mg2sio4"])
def test_parse_formula_refuses_what_it_cannot_read(bad):
    with pytest.raises(ValueError, match="formula"):
        parse_formula(bad)


def test_parse_formula_decimal_and_nested():
    assert parse_formula("Na(Li1.5Al1.5)Al6(Si6O18)(BO3)3(OH)4") == {
        "Na": 1.0,
        "Li": 1.5,
        "Al": 7.5,
        "Si": 6.0,
        "O": 31.0,
        "B": 3.0,
        "H": 4.0,
    }
