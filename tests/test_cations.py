"""The cation-sum judge of classify (minml.classifier._cations): a named row whose class's
formula its cation sum cannot fill, and which a phase outside the classes explains, is unknown."""

import warnings

import numpy as np
import pandas as pd
import pytest

import minml
from minml.chemistry._stoichiometry import cation_brackets
from minml.chemistry.minerals import mineral_table
from minml.chemistry.misfit import member_compositions
from minml.chemistry.phases import analysed_share
from minml.classifier import _cations
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.predict import classify_table
from minml.tables.reasons import Reason
from minml.training.evaluation import lepr_correct


def _classify(table, tolerance=None, sum_gap=None):
    """classify_table with the judge's settings (np.inf for both: the judge off)."""
    saved = _cations.TOLERANCE, _cations.SUM_GAP
    if tolerance is not None:
        _cations.TOLERANCE = tolerance
    if sum_gap is not None:
        _cations.SUM_GAP = sum_gap
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LEPR's extra columns are named in a warning
            return classify_table(table)
    finally:
        _cations.TOLERANCE, _cations.SUM_GAP = saved


def _phase_analysis(member: str) -> pd.DataFrame:
    """The ideal analysis of a phases.toml end-member: its oxides as the microprobe reports them
    (H2O unanalysed, so the sum falls as the formula says)."""
    oxides = tuple(MODEL_OXIDES)
    share = analysed_share(member, oxides)[0]
    values = member_compositions((member,), oxides, "phases.toml")[0] * share
    return pd.DataFrame([values], columns=list(oxides))


@pytest.fixture(scope="module")
def lepr_all(shared_data):
    return pd.read_csv(shared_data / "test" / "lepr_allphases.csv", low_memory=False)


def test_brackets_hold_the_formula_of_every_judged_class_end_member():
    """Each end-member of a judged class fills its class's cation sum within its iron bracket:
    the judge cannot reject a class's own formulas."""
    for mineral in mineral_table().values():
        if not mineral.judge_cations:
            continue
        members = member_compositions(mineral.end_members, tuple(MODEL_OXIDES))
        high, low = cation_brackets(members, MODEL_OXIDES)
        sums = np.atleast_1d(np.asarray(mineral.cations, dtype=float)) / mineral.oxygens
        assert (high >= sums.min() * (1 - 1e-6)).all(), mineral.name
        assert (low <= sums.max() * (1 + 1e-6)).all(), mineral.name


def test_talc_is_no_amphibole():
    """Talc's formula, as analysed (H2O unanalysed, ~95 wt%), reads as amphibole to the network;
    its 14.6 cations per 23 oxygens make it unknown, with talc named."""
    talc = _phase_analysis("talc")
    off = _classify(talc, tolerance=np.inf, sum_gap=np.inf).frame()
    assert off["mineral"].iloc[0] == "amphibole" and off["probability"].iloc[0] > 0.9  # what the judge mends
    found = _classify(talc)
    result = found.frame()
    assert result["mineral"].iloc[0] == "unknown"
    assert result["second_mineral"].iloc[0] == "amphibole"
    assert "no amphibole: 14.6" in result["flag"].iloc[0] and "talc explains it" in result["flag"].iloc[0]
    assert "unusual" not in result["flag"].iloc[0]  # the outlier test does not speak for a row the sums reject
    assert not found.reasons[0] & np.uint16(Reason.UNUSUAL)
    high, low = cation_brackets(talc.to_numpy(), MODEL_OXIDES)
    assert round(float(high[0]) * 23, 2) == round(float(low[0]) * 23, 2) == 14.64  # Mg3Si4O11 on 23 O
    assert found.none_of_the_classes()[0]
    assert found.reasons[0] & np.uint16(Reason.NONE_OF_THE_CLASSES)


def test_lawsonite_is_no_plagioclase():
    """Lawsonite is anorthite plus water: the same oxides in the same proportions, summing to
    ~88.5 wt% as analysed. Named plagioclase by the network; its sum, 11.5 below the least a
    plagioclase gives, makes it unknown, with lawsonite named."""
    lawsonite = _phase_analysis("lawsonite")
    assert lawsonite.sum(axis=1).round(1).iloc[0] == 88.5
    off = _classify(lawsonite, tolerance=np.inf, sum_gap=np.inf).frame()
    assert off["mineral"].iloc[0] == "plagioclase" and off["probability"].iloc[0] > 0.9
    assert _classify(lawsonite, sum_gap=np.inf).frame()["mineral"].iloc[0] == "plagioclase"  # cations: no help
    result = _classify(lawsonite).frame()
    assert result["mineral"].iloc[0] == "unknown"
    assert "no plagioclase: oxide sum 88.5 wt% (its formulas 100.0 or more" in result["flag"].iloc[0]
    assert "lawsonite explains it" in result["flag"].iloc[0]


def test_real_armalcolite_named_rutile_is_unknown(lepr_all):
    """LEPR's armalcolites: the one the network names rutile (its cation sum 1.14-1.19 per 2 O)
    is answered unknown, armalcolite named; the others were unknown already."""
    rows = lepr_all[lepr_all["Mineral"] == "Armalcolite"]
    assert len(rows) == 11
    before = _classify(rows, tolerance=np.inf, sum_gap=np.inf).frame()
    after = _classify(rows).frame()
    assert (after["mineral"] == "unknown").all()
    mended = (before["mineral"] != "unknown").to_numpy()
    assert mended.sum() >= 1
    assert after["flag"][mended].str.contains("armalcolite explains it").all()


def test_real_members_keep_their_class(shared_data):
    """On LEPR the judge changes few rows (measured: none), each to unknown with the phase that
    explains it, and no pyroxene, feldspar, garnet, spinel or amphibole named rightly is lost.
    (Before SUM_EXCESS two Si-poor experimental forsterites summing 100-102 wt% went to humite,
    and three Fe-Ti oxides to pseudobrookite.)"""
    lepr = pd.read_csv(shared_data / "test" / "lepr_allphases_lim.csv")
    before = _classify(lepr, tolerance=np.inf, sum_gap=np.inf).frame()
    after = _classify(lepr).frame()
    changed = (before["mineral"] != after["mineral"]).to_numpy()
    assert changed.sum() <= 0.0005 * len(lepr)
    assert (after["mineral"][changed] == "unknown").all()
    assert after["flag"][changed].str.contains(" explains it ").all()
    right = lepr_correct(lepr["Mineral"], before["mineral"])
    lost = set(before["mineral"][changed & right].astype(str))
    assert lost <= {"olivine", "ilmenite", "magnetite"}, lost


def test_unjudged_classes_and_unexplained_rows_are_left_alone(lepr_all):
    """Even with no tolerance at all: LEPR's biotites (micas are not judged: vacancies move their
    sum) keep their answers, and of the clinopyroxenes whose sum misses 4 per 6 O only those a
    phase outside the classes explains could change (a poor analysis is no other phase; measured:
    none does). That the judge acts at all is the other tests' part."""
    biotite = lepr_all[lepr_all["Mineral"] == "Biotite"]
    assert not mineral_table()["biotite"].judge_cations
    judged_hard = _classify(biotite, tolerance=0.0, sum_gap=0.0).frame()["mineral"]
    assert (judged_hard == _classify(biotite).frame()["mineral"]).all()
    cpx = lepr_all[lepr_all["Mineral"] == "Clinopyroxene"].reset_index(drop=True)
    before = _classify(cpx, tolerance=np.inf, sum_gap=np.inf)
    named = before.frame()["mineral"] == "clinopyroxene"
    high, low = cation_brackets(before.values, MODEL_OXIDES)
    off = named.to_numpy() & ((high < 4 / 6) | (low > 4 / 6))
    after = _classify(cpx, tolerance=0.0).frame()
    changed = (after["mineral"] != before.frame()["mineral"]).to_numpy()
    assert off.sum() > 100  # most analyses miss the ideal sum a little
    assert changed.sum() < off.sum() / 10
    assert after["flag"][changed].str.contains("explains it").all()


def test_unusable_rows_are_not_judged():
    """A row with a NaN oxide is flagged by the reader, not by the judge."""
    talc = pd.concat([_phase_analysis("talc")] * 2, ignore_index=True)
    talc.loc[1, "SiO2"] = np.nan
    result = minml.classify(talc)
    assert "talc explains it" in result["flag"].iloc[0]
    assert "talc explains it" not in result["flag"].iloc[1]


def test_the_map_path_judges_as_classify_does():
    """classify_values (the maps' path) answers talc and lawsonite unknown as classify does, and a
    pixel with an infinite value is unknown without a warning (numpy warnings are errors here)."""
    from minml.classifier.predict import classify_values, load_default

    runtime = load_default()
    rows = pd.concat([_phase_analysis("talc"), _phase_analysis("lawsonite")], ignore_index=True)
    rows.loc[2] = rows.loc[0]
    rows.loc[2, "MgO"] = np.inf
    codes, probability = classify_values(rows.to_numpy(np.float32), runtime)
    assert (codes == len(runtime.classes)).all() and np.isnan(probability).all()
    assert (minml.classify(rows.iloc[:2])["mineral"] == "unknown").all()


def test_models_of_other_classes_are_not_judged():
    """A model whose classes minerals.toml does not know (and whose inputs the species table
    does not hold) is left alone, with no error."""
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    flag, reasons = np.array(["", ""], dtype=object), np.zeros(2, dtype=np.uint16)
    rejected = _cations.judge_cation_sums(
        values, ("Foo", "Bar"), None, np.array([0.0, 1.0]), np.array([0, 1]), np.ones(2, bool), (flag, reasons)
    )
    assert not rejected.any() and (flag == "").all() and not reasons.any()


def test_the_box_bound_never_exceeds_the_misfit(lepr_all):
    """name_phases skips a phase for rows farther from its end-members' box than its limit: that
    distance must be a lower bound of the misfit, for every phase, on real analyses."""
    from minml.chemistry.misfit import end_member_misfit
    from minml.chemistry.phases import _box_distance, _fitted, phase_table

    oxides = tuple(MODEL_OXIDES)
    values = lepr_all.reindex(columns=list(oxides)).fillna(0.0).to_numpy(float)
    values[:, oxides.index("FeOt")] = lepr_all["FeO"].fillna(0.0) + 0.8998 * lepr_all["Fe2O3"].fillna(0.0)
    values = values[values.sum(axis=1) > 0][:4000]
    normalised = 100.0 * values / values.sum(axis=1, keepdims=True)
    for phase in phase_table().values():
        members, E, _, _ = _fitted(phase.name, oxides)
        if members:
            misfit = end_member_misfit(values, E)[0]
            assert (_box_distance(normalised, E) <= misfit + 1e-9).all(), phase.name


@pytest.mark.parametrize(
    ("member", "named", "phase"), [("clinohumite", "olivine", "humite"), ("vesuvianite", "garnet", "vesuvianite")]
)
def test_phases_within_two_percent_of_a_class_need_the_one_percent_tolerance(member, named, phase):
    """Clinohumite's cation sum is 1.96 % above olivine's, vesuvianite's 2.04 % above garnet's: the
    network names them those classes; the judge at 2 % lets clinohumite pass, at 1 % (the shipped
    tolerance) both are unknown, a phase of their group named."""
    analysis = _phase_analysis(member)
    assert _classify(analysis, tolerance=np.inf, sum_gap=np.inf).frame()["mineral"].iloc[0] == named
    if member == "clinohumite":  # 1.96 % off: within 2 % (the ideal vesuvianite is 2.04 % off)
        assert _classify(analysis, tolerance=0.02).frame()["mineral"].iloc[0] == named
    assert _cations.TOLERANCE == 0.01
    result = _classify(analysis).frame()
    assert result["mineral"].iloc[0] == "unknown"
    assert f"no {named}:" in result["flag"].iloc[0] and "explains it" in result["flag"].iloc[0]


def test_hydrous_phases_claim_no_analysis_summing_over_theirs():
    """An anhydrous forsterite summing 100 wt% with 3.04 cations per 4 O (LEPR's experimental
    Si-poor forsterites) is near humite's composition, but humite's analyses sum ~96 wt%: it
    stays olivine (SUM_EXCESS); the same composition summing 96 wt% is humite's."""
    oxides = list(MODEL_OXIDES)
    row = dict.fromkeys(oxides, 0.0)
    row.update(SiO2=40.75, MgO=59.20, CaO=0.02)  # LEPR row 8233 (sum 100.0)
    forsterite = pd.DataFrame([row])
    assert _classify(forsterite).frame()["mineral"].iloc[0] == "olivine"
    low = forsterite * 0.96
    result = _classify(low).frame()
    assert result["mineral"].iloc[0] == "unknown" and "humite explains it" in result["flag"].iloc[0]
