"""Where composition cannot decide between two classes, classify says so in words
(minml.classifier._overlap, data/overlaps.toml), validate's reasons carry the same words and
the command's summary counts the rows."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import minml
from minml.chemistry.misfit import member_compositions
from minml.classifier._overlap import OVERLAP_PROBABILITY, overlap_note, overlap_table, parse_overlaps
from minml.classifier.features import MODEL_OXIDES
from minml.classifier.predict import classify_table
from minml.tables.reasons import REASON_NAMES, Reason, reason_counts

from .conftest import DATA, EXAMPLE, ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# (one end of the path, the other end, the pair met on the way): end-members in wt% fractions
PATHS = {
    "orthopyroxene to clinopyroxene (Wo 0 to 30)": (
        {"enstatite": 0.8, "ferrosilite": 0.2},
        {"diopside": 0.6, "enstatite": 0.2, "ferrosilite": 0.2},
        {"orthopyroxene", "clinopyroxene"},
    ),
    "spinel to magnetite": (
        {"spinel": 0.7, "hercynite": 0.3},
        {"magnetite": 0.8, "ulvospinel": 0.2},
        {"spinel", "magnetite"},
    ),
    "garnet to orthopyroxene (majoritic garnet)": (
        {"pyrope": 0.7, "almandine": 0.2, "grossular": 0.1},
        {"enstatite": 0.85, "ferrosilite": 0.15},
        {"garnet", "orthopyroxene"},
    ),
}


def _composition(parts: dict) -> np.ndarray:
    """wt% of the model oxides of a mixture of end-members (mass fractions)."""
    names = tuple(parts)
    return np.asarray(list(parts.values())) @ member_compositions(names, MODEL_OXIDES)


def _path(start: dict, end: dict, steps: int = 401) -> pd.DataFrame:
    """Analyses on the straight line from ``start`` to ``end``: a model that answers one class
    at one end and the other at the other end passes, by continuity, where both are near 0.5."""
    f = np.linspace(0.0, 1.0, steps)[:, None]
    return pd.DataFrame((1 - f) * _composition(start) + f * _composition(end), columns=list(MODEL_OXIDES))


def _toml_words() -> dict[frozenset, str]:
    """The words of overlaps.toml, read from the file itself."""
    raw = tomllib.loads((ROOT / "src" / "minml" / "data" / "overlaps.toml").read_text(encoding="utf-8"))
    return {frozenset(e["classes"]): e["words"] for e in raw["overlap"].values()}


@pytest.mark.parametrize("name", list(PATHS))
def test_the_note_follows_the_second_probability_along_a_path_between_two_classes(name):
    start, end, pair = PATHS[name]
    table = _path(start, end)
    found = classify_table(table)
    result = found.frame()
    mineral = result["mineral"].astype(str)
    assert mineral.iloc[0] in pair and mineral.iloc[-1] in pair and mineral.iloc[0] != mineral.iloc[-1]
    named = (mineral != "unknown").to_numpy()
    expected = named & (result["second_probability"] >= OVERLAP_PROBABILITY).to_numpy()
    noted = (found.reasons & np.uint16(Reason.OVERLAP)) != 0
    np.testing.assert_array_equal(noted, expected)  # exactly where the second class is probable enough
    words = _toml_words()[frozenset(pair)]
    both = noted & (mineral.isin(pair) & result["second_mineral"].astype(str).isin(pair)).to_numpy()
    assert both.sum() >= 2  # the crossing, seen from either side
    flag = result["flag"].astype(str)
    assert flag[both].str.contains(words, regex=False).all()
    assert not flag[~noted].str.contains("composition of both", regex=False).any()
    assert (mineral[both] != "unknown").all()  # noted, still named its top class


def test_a_clean_training_olivine_is_not_noted():
    table = minml.read_table(DATA / "training" / "Olivine.xlsx")
    found = classify_table(table)
    result = found.frame()
    olivine = (result["mineral"] == "olivine").to_numpy()
    assert olivine.sum() >= 10
    assert (result["second_probability"][olivine] < OVERLAP_PROBABILITY).all()
    assert not (found.reasons[olivine] & np.uint16(Reason.OVERLAP)).any()
    assert not result["flag"][olivine].astype(str).str.contains("composition of both").any()


def test_every_pair_of_the_file_is_loaded_with_its_words_and_unlisted_pairs_read_generic():
    table = overlap_table()
    assert {pair: o.words for pair, o in table.items()} == _toml_words()
    glass = table[frozenset({"amphibole", "glass"})]
    assert glass.words.startswith("composition of both amphibole and hydrous basaltic glass")
    assert overlap_note("glass", "amphibole") == glass.note() and glass.settle in glass.note()
    assert overlap_note("olivine", "zircon") == "composition of both olivine and zircon"
    assert all(o.source for o in table.values())


def _entry(**change):
    entry = {"classes": ["amphibole", "glass"], "words": "w", "settle": "s", "source": "src"}
    return {"overlap": {"hydrous-glass": {**entry, **change}}}


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (_entry(classes=["amphibol", "glass"]), r"entry 'hydrous-glass': \['amphibol'\] not among the classes"),
        (_entry(classes=["glass", "glass"]), r"entry 'hydrous-glass': classes must be two different classes"),
        (_entry(classes=["glass"]), r"entry 'hydrous-glass': classes must be two different classes"),
        (_entry(source=""), r"entry 'hydrous-glass': missing or empty \['source'\]"),
        (_entry(wrods="x"), r"entry 'hydrous-glass': unknown field\(s\) \['wrods'\]"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(raw, match):
    with pytest.raises(ValueError, match=match):
        parse_overlaps(raw, ["amphibole", "glass", "olivine"])


def test_a_pair_listed_twice_is_refused():
    raw = _entry()
    raw["overlap"]["again"] = {"classes": ["glass", "amphibole"], "words": "w", "settle": "s", "source": "src"}
    with pytest.raises(ValueError, match=r"entry 'again': the pair \['amphibole', 'glass'\] is listed already"):
        parse_overlaps(raw, ["amphibole", "glass"])


def test_validate_gives_the_words_where_the_label_is_the_overlapping_class():
    table = _path(*PATHS["orthopyroxene to clinopyroxene (Wo 0 to 30)"][:2]).assign(Mineral="cpx")
    validated = minml.validate(table)
    result = minml.classify(table)
    second_is_label = (result["second_mineral"].astype(str) == "clinopyroxene").to_numpy()
    noted = (result["second_probability"] >= OVERLAP_PROBABILITY).to_numpy() & second_is_label
    disputed = validated["verdict"].isin(["uncertain", "disagree"]).to_numpy()
    assert (noted & disputed).any()
    # a label composition cannot tell from the answer is uncertain, never disagree (the class
    # cut-offs of the prediction sets can leave it out of the set there)
    assert (validated["verdict"][noted & disputed] == "uncertain").all()
    reason, mineral = validated["reason"].astype(str), validated["mineral"].astype(str)
    for i in np.flatnonzero(noted & disputed):
        assert reason.iloc[i].endswith("; " + overlap_note(mineral.iloc[i], "clinopyroxene"))
    assert not reason[~(noted & disputed)].str.contains("composition of both", regex=False).any()
    words = _toml_words()[frozenset({"orthopyroxene", "clinopyroxene"})]
    assert reason[mineral == "orthopyroxene"].str.contains(words, regex=False).any()


def test_the_command_summary_counts_the_noted_rows(tmp_path):
    from minml.pipelines import classify_file

    src = tmp_path / "path.csv"
    _path(*PATHS["spinel to magnetite"][:2]).to_csv(src, index=False)
    summary = classify_file(src, tmp_path / "out.csv")
    written = pd.read_csv(tmp_path / "out.csv")
    noted = int(written["flag"].fillna("").str.contains("composition of both spinel and magnetite").sum())
    assert noted and summary.by_reason["composition of two classes"] == noted
    assert f"composition of two classes {noted}" in "\n".join(summary.lines())


def test_every_reason_bit_is_named_for_the_summary_and_a_flag_is_a_bit():
    """The summary's counts per kind cover every flagged row: each Reason bit has a name
    (a bit without one would go uncounted), and on real rows a flag is written exactly where
    a bit is set."""
    assert set(REASON_NAMES) == set(Reason) and len(set(REASON_NAMES.values())) == len(Reason)
    table = pd.concat([pd.read_csv(EXAMPLE), _path(*PATHS["spinel to magnetite"][:2])], ignore_index=True)
    found = classify_table(table)
    flagged = found.columns["flag"] != ""
    np.testing.assert_array_equal(found.reasons != 0, flagged)
    counts = reason_counts(found.reasons)
    assert counts["composition of two classes"] >= 2 and sum(counts.values()) >= flagged.sum()


@pytest.mark.parametrize("name", list(PATHS))
def test_every_noted_row_has_both_classes_in_its_prediction_set(name):
    """The note and the prediction set say the same thing: wherever a row is noted as an
    overlap, its set holds its class and the second one at every coverage (no class cut-off
    exceeds the note's probability)."""
    start, end, _ = PATHS[name]
    table = _path(start, end)
    for coverage in (0.9, 0.99):
        found = classify_table(table, coverage=coverage)
        result = found.frame()
        noted = (found.reasons & np.uint16(Reason.OVERLAP)) != 0
        assert noted.sum() >= 2
        sets = result["prediction_set"].astype(str).str.split("|")
        for members, top, second in zip(
            sets[noted], result["mineral"][noted], result["second_mineral"][noted], strict=True
        ):
            assert top in members and second in members


@pytest.mark.parametrize(
    ("case", "pair"),
    [
        ("pigeonite (Wo ~8)", {"orthopyroxene", "clinopyroxene"}),
        ("cummingtonite", {"orthopyroxene", "amphibole"}),
        ("majoritic garnet", {"garnet", "orthopyroxene"}),
    ],
)
def test_a_member_outside_the_compilations_is_noted_as_both_classes(case, pair):
    """Analyses of tests/test_misfit.py where the training data hold only one side of the pair
    (docs/guide/overlaps.md): the shipped model names one of the two, notes the pair in words,
    and its prediction set at the coverage validate uses holds both."""
    from .test_misfit import OUTSIDE_THE_COMPILATIONS

    row = pd.DataFrame([OUTSIDE_THE_COMPILATIONS[case][1]], columns=list(MODEL_OXIDES))
    result = minml.classify(row, coverage=0.99)
    assert {result["mineral"].iloc[0], result["second_mineral"].iloc[0]} == pair
    assert result["second_probability"].iloc[0] >= OVERLAP_PROBABILITY
    assert set(result["prediction_set"].iloc[0].split("|")) >= pair
    assert _toml_words()[frozenset(pair)] in result["flag"].iloc[0]
