"""The palette: one colour per class, told apart by readers with common colour-vision deficiencies."""

import itertools

import numpy as np
import pytest

from minml.chemistry.minerals import class_groups
from minml.palette import NOT_A_CLASS, _ciede2000, colour_of, delta_e, mineral_colours, simulate_vision


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu & Dalal (2005), Table 1: pairs 1, 7, 17, 19, 25, 34
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert _ciede2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)
    assert _ciede2000(np.array(lab2), np.array(lab1)) == pytest.approx(expected, abs=1e-4)


def test_every_class_of_the_minerals_data_has_its_own_colour():
    colours = mineral_colours()
    assert list(colours)[: len(class_groups())] == list(class_groups())
    assert set(colours) == set(class_groups()) | set(NOT_A_CLASS)
    assert len(set(colours.values())) == len(colours)


@pytest.mark.parametrize(("vision", "least"), [("normal", 10.0), ("deuteranopia", 8.0), ("protanopia", 9.0)])
def test_no_two_colours_look_alike(vision, least):
    colours = mineral_colours()
    pairs = {(a, b): delta_e(colours[a], colours[b], vision) for a, b in itertools.combinations(colours, 2)}
    closest = min(pairs, key=pairs.get)
    assert pairs[closest] >= least, f"{closest} differ by only {pairs[closest]:.1f} (CIEDE2000) for {vision}"


@pytest.mark.parametrize(
    "pair",  # the pairs the old latent plot drew in one colour
    [("plagioclase", "biotite"), ("clinopyroxene", "ilmenite"), ("olivine", "k-feldspar"), ("quartz", "orthopyroxene")],
)
def test_the_pairs_that_shared_a_colour_are_apart(pair):
    a, b = (colour_of(name) for name in pair)
    assert min(delta_e(a, b, vision) for vision in ("normal", "deuteranopia", "protanopia")) > 10


def test_every_class_shows_on_a_white_page():
    for name, colour in mineral_colours().items():
        if name != "mixture":  # a pale grey, drawn on maps only
            assert delta_e(colour, "#FFFFFF", "deuteranopia") > 13, name


def test_simulated_deuteranopia_confuses_red_and_green_as_it_should():
    assert delta_e("#FF0000", "#00FF00") > 80
    assert delta_e("#D55E00", "#009E73", "deuteranopia") < delta_e("#D55E00", "#009E73") / 2
    assert simulate_vision("#777777", "deuteranopia") == "#777777"  # greys stay grey


def test_bad_names_and_colours_are_refused():
    with pytest.raises(KeyError, match="'feldspar' has no colour; the palette colours amphibole"):
        colour_of("feldspar")
    with pytest.raises(ValueError, match="vision must be normal or one of deuteranopia"):
        simulate_vision("#FF0000", "monochromacy")
    with pytest.raises(ValueError, match=r"#RRGGBB, got 'red'"):
        delta_e("red", "#000000")


def test_latent_plot_and_ternaries_draw_each_mineral_in_its_colour():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    import minml
    from minml.plot import latent_space, pyroxene_quadrilateral

    table = minml.read_table("examples/lepr_sample.csv")
    shown = minml.latent(table).assign(mineral=minml.classify(table)["mineral"])
    ax = latent_space(shown, "mineral", model=False)
    drawn = {label.split(" (")[0]: to_hex(h.get_facecolor()[0]) for h, label in zip(*ax.get_legend_handles_labels())}
    assert len(drawn) >= 8
    assert {name: colour.upper() for name, colour in drawn.items()} == {name: colour_of(name) for name in drawn}
    ax = pyroxene_quadrilateral(
        np.array([45.0, 2.0]), np.array([40.0, 70.0]), np.array([15.0, 28.0]), ["clinopyroxene", "orthopyroxene"]
    )
    drawn = [to_hex(c.get_facecolor()[0]).upper() for c in ax.collections]
    assert drawn == [colour_of("clinopyroxene"), colour_of("orthopyroxene")]
    plt.close("all")
