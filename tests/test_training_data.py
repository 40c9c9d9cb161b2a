import json

import pandas as pd
import pytest

from minml.chemistry.minerals import mineral_table
from minml.training.data import DROP_REASONS, build_training_set, content_hash

from .conftest import DATA

FIXTURE = DATA / "training"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_training_set(FIXTURE, tmp_path_factory.mktemp("build"))


def test_report_accounts_for_every_row(built):
    report = built.report
    assert report["rows_kept"] == len(built.table)
    assert report["rows_in"] == sum(len(pd.read_excel(p, engine="openpyxl")) for p in FIXTURE.glob("*.xlsx"))
    assert report["rows_in"] == report["rows_kept"] + sum(report["dropped"].values())
    for name, counts in report["classes"].items():
        assert counts["rows_in"] == counts["rows_kept"] + sum(counts["dropped"].values()), name
        assert set(counts["dropped"]) <= set(DROP_REASONS)
    assert set(report["classes"]) == set(mineral_table())
    assert report["content_sha256"] == content_hash(built.table)


def test_kept_rows_trace_back_to_their_source(built):
    table = built.table
    for (name, file), rows in table.groupby(["mineral", "source_file"]):
        raw = pd.read_excel(FIXTURE / file, engine="openpyxl")  # another reader than the build's
        original = raw.loc[rows["source_row"] - 2]
        assert (original["Sample Name"].astype(str).str.strip().to_numpy() == rows["sample_name"].to_numpy()).all()
        got = rows["MgO"].to_numpy()
        want = pd.to_numeric(original["MgO"].astype(str).str.strip(), errors="coerce").fillna(0).clip(lower=0)
        assert got == pytest.approx(want.to_numpy()), name


def test_no_within_class_duplicates(built):
    species = [c for c in built.table.columns if c[0].isupper()]
    assert not built.table.duplicated(["mineral", *species]).any()
    assert built.report["dropped"]["duplicate"] >= 10


def test_rules_applied(built):
    table, classes = built.table, built.report["classes"]
    # spinel rows with 'FeOT' beside Fe2O3 and no FeO: iron cannot be settled
    assert classes["spinel"]["dropped"]["unusable value"] == 2
    # garnet numbers stored as text with a no-break space are read, not dropped
    garnet = table[table["mineral"] == "garnet"]
    assert len(garnet) == classes["garnet"]["rows_kept"] and garnet["SiO2"].between(35, 45).all()
    # rutile with TiO2 just over 100 (a pure phase) is kept; its 'bdl.' Nb2O5 is 0
    rutile = table[table["mineral"] == "rutile"]
    assert (rutile["TiO2"] > 100).sum() == 2 and rutile["Nb2O5"].min() == 0
    # tourmaline without analysed H2O is judged with its nominal H2O added
    tourmaline = table[table["mineral"] == "tourmaline"]
    no_water = tourmaline["H2O"].fillna(0) == 0
    assert tourmaline.loc[no_water, "total"].between(84.5, 88).sum() >= 1
    # orthopyroxene rows whose cations do not make a pyroxene (4 per 6 O) are dropped
    assert classes["orthopyroxene"]["dropped"]["cation sum off"] == 3
    assert table.loc[table["mineral"] == "orthopyroxene", "SiO2"].min() > 40
    # every kept row lies inside the accepted range (after the class's nominal species)
    others = table[table["mineral"] != "tourmaline"]
    assert others["total"].between(88, 105).all()
    assert table["total"].max() <= 105


def test_second_build_is_byte_identical(built, tmp_path):
    again = build_training_set(FIXTURE, tmp_path)
    assert again.report_path.read_bytes() == built.report_path.read_bytes()
    assert again.table_path.read_bytes() == built.table_path.read_bytes()
    assert json.loads(again.report_path.read_text()) == built.report


def test_missing_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="No training data folder"):
        build_training_set(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match=r"lacks \['Amphibole.xlsx'"):
        build_training_set(tmp_path, tmp_path / "out")


@pytest.mark.shared_data
@pytest.mark.slow
def test_full_build(shared_data, tmp_path):
    result = build_training_set(shared_data / "training", tmp_path)
    report = result.report
    assert report["rows_in"] == 85508
    # 84-85k expected before the cation screen; it drops 1,306 corrupt orthopyroxene rows of one source
    assert 83000 <= report["rows_kept"] <= 85000
    assert report["classes"]["orthopyroxene"]["dropped"]["cation sum off"] == 1306
    # the floor for unscreened classes: 26 "biotites", 10 of them feldspar and quartz analyses
    # (Lubbers et al. 2020; SiO2 51-98 wt%, K2O < 8), 16 K-poor altered ones (Chamberlain et al. 2015)
    assert report["classes"]["biotite"]["dropped"]["cation sum off"] == 26
    biotite = result.table[result.table["mineral"] == "biotite"]
    assert biotite["SiO2"].max() < 60 and "cation sum off" not in report["classes"]["amphibole"]["dropped"]
    assert report["classes"]["quartz"]["rows_kept"] == 38
    # the label screen: 48 rows whose chemistry and other sources' analyses contradict the label,
    # among them three grossular-rich garnets of one source filed as amphibole (Schulz et al. 2019),
    # three augites (CaO 20-22 wt%, sums 98-99) of another (Peters et al. 2017) and, since the
    # tourmaline supergroup's calcic and oxy end-members narrowed tourmaline's fence to 4.6 wt%,
    # one "tourmaline" 8.4 wt% from every mixture of them (Chen et al. 2023)
    listed = pd.read_csv(tmp_path / "mislabelled.csv")
    assert report["dropped"]["mislabelled"] == len(listed) == 48
    tourmaline = listed[listed["label"] == "tourmaline"]
    assert set(tourmaline["source"]) == {"Chenetal2023"} and len(tourmaline) == 1
    augites = listed[(listed["label"] == "amphibole") & (listed["answer"] == "clinopyroxene")]
    assert set(augites["source"]) == {"Petersetal2017"} and len(augites) == 3
    garnets = listed[(listed["label"] == "amphibole") & (listed["answer"] == "garnet")]
    assert set(garnets["source"]) == {"Schulzetal2019"} and len(garnets) == 3
    assert set(result.table["mineral"]) == set(mineral_table())


def test_cation_floor_drops_other_minerals_under_a_mica_label():
    from minml.tables.checks import check_oxides
    from minml.training.data import CATION_FLOOR, _drop_reasons

    # three rows of the biotite compilation (Lubbers et al. 2020): an alkali feldspar, a
    # quartz, and a real biotite (5.6 and 6.8 vs 7.8 cations per 11 O)
    rows = pd.DataFrame(
        {
            "SiO2": [66.48, 97.76, 37.59],
            "TiO2": [0.0223, 0.6505, 6.74],
            "Al2O3": [19.44, 0.657, 13.84],
            "FeOT": [0.2068, 1.1934, 13.53],
            "MnO": [0.0167, 0.0346, 0.3251],
            "MgO": [0.0069, 0.894, 14.9],
            "CaO": [0.6573, 0.0441, 0.008],
            "Na2O": [5.18, 0.0, 0.8415],
            "K2O": [7.92, 0.0247, 8.25],
        }
    )
    biotite = mineral_table()["biotite"]
    assert not biotite.screen_cations and CATION_FLOOR == -1.0
    reasons = _drop_reasons(check_oxides(rows, total_range=None), biotite, (88.0, 105.0))
    # feldspar and quartz sum to ~100 wt% (their totals pass), but make no mica's cations; the
    # 96 wt% biotite (H2O not analysed) is kept
    assert reasons.tolist() == ["cation sum off", "cation sum off", ""]
    # the floor reads the lowest ideal of a range (amphibole 15-16 per 23 O): a real amphibole passes
    hornblende = pd.DataFrame(
        {
            "SiO2": [44.0],
            "TiO2": [1.5],
            "Al2O3": [10.0],
            "FeOt": [14.0],
            "MnO": [0.3],
            "MgO": [13.0],
            "CaO": [11.0],
            "Na2O": [2.0],
            "K2O": [0.6],
        }
    )
    assert _drop_reasons(
        check_oxides(hornblende, total_range=None), mineral_table()["amphibole"], (88.0, 105.0)
    ).tolist() == [""]
