"""minml.pipelines: a file in, a file out, the summary the command prints; the reason codes
that decisions read instead of the flag text."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from minml import (
    Reason,
    check_file,
    check_oxides,
    classify,
    classify_file,
    formula,
    formula_file,
    latent_file,
    read_table,
    validate,
    validate_file,
)
from minml.cli import main

from .conftest import EXAMPLE, ROOT


def test_classify_file_writes_what_classify_returns_by_either_route(tmp_path):
    table = read_table(EXAMPLE)
    expected = classify(table)
    for name, route in [("out.csv", "arrow"), ("out.parquet", "pandas")]:
        summary = classify_file(EXAMPLE, tmp_path / name)
        assert summary.route == route and summary.output == tmp_path / name
        written = read_table(tmp_path / name)
        assert written["mineral"].astype(str).tolist() == expected["mineral"].astype(str).tolist()
        assert written["flag"].fillna("").tolist() == expected["flag"].tolist()
        assert list(written.columns[: len(table.columns)]) == list(table.columns)  # the input's columns first
        counts = expected["mineral"].astype(str).value_counts()
        assert dict(summary.counts) == {k: v for k, v in counts.items() if v}
        assert summary.rows == len(table) and summary.flagged == int((expected["flag"] != "").sum())
        novel = expected["flag"].str.contains("unknown: unlike the training data").sum()
        assert summary.unknown == int((expected["mineral"] == "unknown").sum())
        blank = int(expected["flag"].str.startswith(("empty row", "statistics row")).sum())
        assert (summary.none_of_the_classes, summary.without_analysis) == (novel, blank)
        assert summary.bad_analyses == summary.unknown - novel - blank
    assert summary.lines()[0].startswith(f"{len(table)} analyses classified: ")
    assert summary.lines()[-1] == f"wrote {tmp_path / 'out.parquet'}"


def test_classify_file_default_output_and_a_shared_file(tmp_path, shared_data):
    source = shared_data / "test" / "glasses_df.csv"
    arrow = classify_file(source, tmp_path / "glasses.csv", coverage=0.95)
    pandas_route = classify_file(source, tmp_path / "glasses.parquet", coverage=0.95)
    assert (arrow.route, pandas_route.route) == ("arrow", "pandas")
    assert arrow.counts == pandas_route.counts and arrow.flagged == pandas_route.flagged
    assert dict(arrow.counts).get("glass", 0) > 0.9 * arrow.rows  # a table of glasses
    a, b = read_table(tmp_path / "glasses.csv"), pd.read_parquet(tmp_path / "glasses.parquet")
    assert a["prediction_set"].fillna("").tolist() == b["prediction_set"].tolist()
    import shutil

    copy = shutil.copy(EXAMPLE, tmp_path / "mine.csv")
    assert classify_file(copy).output == tmp_path / "mine_classified.csv"
    assert (tmp_path / "mine_classified.csv").exists()


def test_pipelines_refuse_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="is the input"):
        classify_file(EXAMPLE, EXAMPLE)
    with pytest.raises(ValueError, match=r"Pass label_column=NAME|holds phase names"):
        validate_file(EXAMPLE, tmp_path / "v.csv", label_column="Phase")
    with pytest.raises(ValueError, match="fill_missing must be an amount in wt%"):
        classify_file(EXAMPLE, tmp_path / "c.csv", fill_missing=-1)
    assert list(tmp_path.iterdir()) == []


def test_validate_file_ranks_and_counts(tmp_path):
    summary = validate_file(EXAMPLE, tmp_path / "validated.csv", label_column="Mineral")
    expected = validate(read_table(EXAMPLE), "Mineral")
    assert dict(summary.verdicts) == expected["verdict"].value_counts().to_dict()
    written = read_table(tmp_path / "validated.csv")
    assert written["validate_rank"].tolist() == sorted(expected["rank"])  # most certain disagreements first
    assert sorted(written["validate_row"]) == list(range(1, len(expected) + 1))
    assert summary.per_label.loc["Olivine", "rows"] == int((expected["label"] == "Olivine").sum())


def test_formula_file_counts_reasons_as_data(tmp_path, shared_data):
    source = shared_data / "test" / "lepr_allphases_lim.csv"
    summary = formula_file(source, tmp_path / "formula.parquet", mineral_column="Mineral")
    expected = formula(read_table(source), mineral_column="Mineral")
    assert summary.computed == int((expected["mineral"] != "").sum()) and summary.rows == len(expected)
    first = expected.loc[expected["mineral"] == "", "flag"].str.split("; ").str[0].str.removeprefix("no formula: ")
    assert [(r, c) for r, c, _ in summary.no_formula] == list(first.value_counts().head(10).items())
    assert pd.read_parquet(tmp_path / "formula.parquet")["mineral"].tolist() == expected["mineral"].tolist()


def test_latent_file_checks_the_table_once(tmp_path, monkeypatch):
    import minml.tables.checks as checks

    calls = []
    real = checks._check
    monkeypatch.setattr(checks, "_check", lambda *a, **k: calls.append(1) or real(*a, **k))
    summary = latent_file(
        EXAMPLE,
        tmp_path / "latent.csv",
        plot=tmp_path / "space.png",
        color_by="mineral",
        plot_reconstruction=tmp_path / "rebuilt.png",
    )
    assert len(calls) == 1  # placing, the classifier's colours and the reconstruction plot share one check
    assert [p.name for p in summary.written] == ["latent.csv", "space.png", "space.svg", "rebuilt.png", "rebuilt.svg"]
    assert all(p.stat().st_size > 0 for p in summary.written)
    assert sum(count for _, count in summary.clusters) == summary.rows == 76


def test_check_file_writes_only_when_asked(tmp_path):
    summary = check_file(EXAMPLE)
    assert summary.output is None and "Flagged rows: 12 of 76" in summary.text
    summary = check_file(EXAMPLE, tmp_path / "checked.csv")
    assert (read_table(tmp_path / "checked.csv")["flag"].fillna("") != "").sum() == 12


def test_a_bad_total_carries_its_code_and_the_same_text():
    table = pd.DataFrame(
        {"SiO2 (wt%)": ["40.1", "40,2", "abc", 0.0], "FeO*": [9.5, 9.4, 9.0, 0.0], "MgO": [49.8, "bdl", 49.0, 0.0]}
    )
    checked = check_oxides(table)
    assert checked.flags["flag"].tolist() == [
        "",
        "total outside 88-105: 49.6 wt%",
        "SiO2 not a number: 'abc'; total outside 88-105: 58.0 wt%",
        "empty row: no oxide values",
    ]
    assert checked.reasons.tolist() == [
        Reason.NONE,
        Reason.TOTAL_OUTSIDE,
        Reason.UNUSABLE_VALUE | Reason.TOTAL_OUTSIDE,
        Reason.EMPTY_ROW,
    ]
    assert np.isnan(checked.oxides.loc[2, "SiO2"]) and checked.total[1] == pytest.approx(49.6)  # the values beside
    wider = check_oxides(table, total_range=(40, 105))
    assert wider.reasons[1] == 0 and wider.flags["flag"][1] == ""


def test_decisions_read_codes_not_text(tmp_path):
    """A junk cell whose text reads like the classifier's own reason ('unknown: ...') is a bad
    analysis, not one that is none of the classes: the verdict and the summary read the codes."""
    table = read_table(EXAMPLE)
    row = table.index[table["Mineral"] == "Olivine"][0]
    table["SiO2"] = table["SiO2"].astype(object)
    table.loc[row, "SiO2"] = "unknown: unlike"
    result = classify(table)
    assert result.loc[row, "flag"].startswith("SiO2 not a number: 'unknown: unlike'")
    assert validate(table).loc[row, "verdict"] == "bad_analysis"
    source = tmp_path / "junk.csv"
    table.to_csv(source, index=False)
    summary = classify_file(source, tmp_path / "out.csv")
    novel = int(result["flag"].str.contains("unknown: unlike the training data").sum())
    blank = int(result["flag"].str.startswith(("empty row", "statistics row")).sum())
    assert summary.none_of_the_classes == novel and summary.bad_analyses == summary.unknown - novel - blank


def test_cli_imports_public_names_only():
    """The commands that read tables, and the command's frame, call the library's public API
    only (the maintainer commands and the map command reach into their own subpackages)."""
    modules = set()
    for name in ("__init__", "_options", "_tables", "_app"):
        tree = ast.parse((ROOT / "src" / "minml" / "cli" / f"{name}.py").read_text())
        modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    public = {"minml", "minml.pipelines", "minml.app"}
    assert {m for m in modules if m.startswith("minml") and not m.startswith("minml.cli")} <= public


def test_cli_speaks_in_options_and_ends_quietly_on_ctrl_c(tmp_path, capsys, monkeypatch):
    renamed = tmp_path / "renamed.csv"
    read_table(EXAMPLE).rename(columns={"Mineral": "PHASE NAME"}).to_csv(renamed, index=False)
    assert main(["validate", str(renamed), "-o", str(tmp_path / "v.csv")]) == 2
    err = capsys.readouterr().err
    assert "'PHASE NAME' holds phase names: pass --label-column 'PHASE NAME'." in err and "label_column" not in err
    assert main(["formula", str(renamed), "--mineral-column", "Mineral", "-o", str(tmp_path / "f.csv")]) == 2
    assert "pass --mineral-column 'PHASE NAME'." in capsys.readouterr().err

    import minml.pipelines

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(minml.pipelines, "classify_file", interrupted)  # the command's parser takes it from there
    assert main(["classify", str(EXAMPLE), "-o", str(tmp_path / "c.csv")]) == 130
    captured = capsys.readouterr()
    assert captured.err.strip() == "minml classify: interrupted" and "Traceback" not in captured.err
