"""The training-label screen (minml.training.screen) on real analyses with planted mislabels."""

import shutil

import pandas as pd
import pytest

from minml.training.data import MISLABELLED_FILE, build_training_set, collect_training_set
from minml.training.screen import screen_labels

from .conftest import DATA

SCREEN = DATA / "screen"  # 100 rows per class cut from the training workbooks (make_fixtures.cut_screen)

# (taken from, filed under, rows): analyses of one mineral relabelled as another.  Left out:
# swaps the build's cation screen or oxide-sum rule drops first (plagioclase or quartz filed as
# a pyroxene or a feldspar; apatite as tourmaline); swaps between classes whose end-members
# overlap (amphibole and clinopyroxene; magnetite filed as ilmenite, on the ilmenite-hematite
# join once iron is FeOt), where the misfit cannot contradict the label and the screen keeps
# the row; pyroxene or plagioclase filed as amphibole, found only in part: amphibole's misfit
# fence is wide (its end-members miss many natural hornblendes).
PLANTED = [
    ("Olivine", "Amphibole", 5),
    ("Biotite", "Muscovite", 4),
    ("Garnet", "Clinopyroxene", 3),
    ("Zircon", "Rutile", 3),
]


def _plant(folder):
    """Copy the fixture to ``folder`` and append the PLANTED rows to their new workbooks;
    returns {(file, Excel row): true mineral} of the planted rows."""
    shutil.copytree(SCREEN, folder)
    planted = {}
    for source, target, n in PLANTED:
        rows = pd.read_excel(SCREEN / f"{source}.xlsx", engine="openpyxl").iloc[::7].head(n).copy()
        rows["Mineral"] = target
        into = pd.read_excel(SCREEN / f"{target}.xlsx", engine="openpyxl")
        first = len(into) + 2  # Excel row of the first appended row (row 1 is the header)
        pd.concat([into, rows], ignore_index=True).to_excel(folder / f"{target}.xlsx", index=False)
        planted.update({(f"{target}.xlsx", first + k): source.lower() for k in range(n)})
    return planted


@pytest.fixture(scope="module")
def planted_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("screen")
    planted = _plant(root / "training")
    return planted, build_training_set(root / "training", root / "out")


def test_planted_mislabels_are_found_and_clean_rows_kept(planted_build):
    planted, built = planted_build
    listing = pd.read_csv(built.table_path.parent / MISLABELLED_FILE)
    found = set(zip(listing["source_file"], listing["source_row"], strict=True))
    assert set(planted) <= found  # every planted row
    assert len(found - set(planted)) <= 1  # (nearly) no clean row of the 829
    for _, row in listing.iterrows():
        key = (row["source_file"], row["source_row"])
        if key in planted:  # the classifier names the mineral each really is
            assert row["answer"] == planted[key] and row["label_probability"] < 0.01
            assert row["misfit_wt%"] > row["fence_wt%"]
            assert row["reason"].startswith(f"labelled {row['label']}, but ") and planted[key] in row["reason"]
    table = built.table
    for file, excel_row in planted:
        assert not ((table["source_file"] == file) & (table["source_row"] == excel_row)).any()


def test_report_counts_the_screened_rows(planted_build):
    planted, built = planted_build
    report = built.report
    listed = report["label_screen"]["rows"]
    assert report["dropped"]["mislabelled"] == len(listed) >= len(planted)
    assert report["rows_in"] == report["rows_kept"] + sum(report["dropped"].values())
    amphibole = report["classes"]["amphibole"]
    assert amphibole["dropped"]["mislabelled"] >= 5
    assert amphibole["rows_kept"] == (built.table["mineral"] == "amphibole").sum()
    assert amphibole["rows_in"] == amphibole["rows_kept"] + sum(amphibole["dropped"].values())
    assert "source-grouped" in report["label_screen"]["rule"] and report["label_screen"]["judged_rows"] > 600
    assert "mislabelled" in report["drop_rules"]


def test_clean_fixture_loses_no_row():
    table, report = collect_training_set(SCREEN)
    assert "mislabelled" not in report["dropped"] and report["label_screen"]["rows"] == []
    assert len(table) == report["rows_kept"]
    assert report["label_screen"]["judged_rows"] >= 600


def test_screen_leaves_the_table_alone_and_judges_only_known_classes():
    table, _ = collect_training_set(SCREEN)
    table = table.copy()
    table.loc[0, "mineral"] = "olivine"  # an amphibole (fixture row 0) relabelled
    before = table.copy(deep=True)
    judged = screen_labels(table)
    pd.testing.assert_frame_equal(table, before)
    assert list(judged.index) == list(table.index)
    assert judged.loc[0, "mislabelled"] and judged.loc[0, "answer"] == "amphibole"
    # a class with fewer than SCREEN_MIN_ROWS rows outside a source is not judged
    tiny, _ = collect_training_set(DATA / "training")
    small = screen_labels(tiny)
    assert small["label_probability"].isna().all() and not small["mislabelled"].any()
