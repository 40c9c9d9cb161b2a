"""The model card is a template filled from a dict of results (``docs/model_card.json``)."""

import json

import pytest

from minml.training.card import QUICK_NOTE, render_card

from .conftest import ROOT

CARD = ROOT / "docs" / "model_card.md"


@pytest.fixture(scope="module")
def data():
    return json.loads(CARD.with_suffix(".json").read_text(encoding="utf-8"))


def test_the_card_is_its_saved_results_rendered(data):
    # the committed card is exactly what the templates make of the results saved beside it
    assert render_card(data) == CARD.read_text(encoding="utf-8")


def test_the_card_quotes_the_results_it_is_given(data):
    changed = json.loads(json.dumps(data))
    changed["lepr"]["accuracy"] = 0.12345
    changed["nested"]["per_class"][0]["precision_mean"] = 0.5
    changed["latent"]["lepr"]["scores"]["ari"] = 0.25
    text = render_card(changed)
    assert "| BNN (shipped) | 0.1235 |" in text
    assert f"| {changed['nested']['per_class'][0]['class']} | 0.5000 ± " in text
    assert "ARI 0.250 (clusters)" in text
    assert render_card({**data, "quick": True}).startswith("# Model card: MIN-ML default-v1\n\n" + QUICK_NOTE)
    without_latent = render_card({k: v for k, v in data.items() if k != "latent"})
    assert "## Latent space" not in without_latent and without_latent.endswith(
        "phases outside the classes by `benchmarks/cation_judge.py`).\n"
    )


def test_a_result_the_template_needs_is_named_when_missing(data):
    broken = json.loads(json.dumps(data))
    del broken["glass_test"]
    with pytest.raises(KeyError, match="glass_test"):
        render_card(broken)


def test_an_oxide_no_row_holds_as_a_major_one_reads_n_a(data):
    """A small data set (``minml evaluate --quick`` on 150 rows a class) may hold no row where an
    oxide is major: its median error is None, which crashed the card after the whole run."""
    changed = json.loads(json.dumps(data))
    first = changed["latent"]["reconstruction"][0]
    first["median_error_major"], first["major_rows"] = None, 0
    lepr = next(r for r in changed["latent"]["lepr"]["reconstruction"] if r["oxide"] == first["oxide"])
    lepr["median_error_major"] = float("nan")
    line = next(row for row in render_card(changed).splitlines() if row.startswith(f"| {first['oxide']} | 0 |"))
    assert line == f"| {first['oxide']} | 0 | n/a | {lepr['major_rows']:.0f} | n/a |"
