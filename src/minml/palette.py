"""One colour per mineral class, everywhere (plots, phase maps, report, app).

The colours are data (``minml/data/palette.toml``, with the source of each and how the set
was chosen); the class names come from the minerals data
(:func:`minml.chemistry.minerals.class_groups`).  The colour arithmetic here (CIELAB,
CIEDE2000, simulated colour-vision deficiency) is what the palette was chosen and is tested
with: no class may look like another to a reader with deuteranopia or protanopia.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from minml._resources import load_toml

__all__ = ["NOT_A_CLASS", "colour_of", "delta_e", "mineral_colours", "simulate_vision"]

NOT_A_CLASS = ("unknown", "mixture", "masked")
"""Names with a colour that are not classes: none of the classes; a mixture (map pixels at a
contact); masked (map pixels that are no analysis: epoxy, holes)."""


@lru_cache(maxsize=1)
def mineral_colours() -> dict[str, str]:
    """``#RRGGBB`` of every class (in the order of the minerals data), then of
    :data:`NOT_A_CLASS`.

    Raises
    ------
    ValueError
        When the minerals data name a class the palette has no colour for (the two data
        files disagree).

    Examples
    --------
    >>> colours = mineral_colours()
    >>> colours["garnet"], colours["unknown"]
    ('#CC3311', '#777777')
    >>> len(set(colours.values())) == len(colours)
    True
    """
    from minml.chemistry.minerals import class_groups

    table = load_toml("palette.toml")
    given = {name: spec["colour"] for name, spec in table["class"].items()}
    missing = [name for name in class_groups() if name not in given]
    if missing:
        raise ValueError(f"palette.toml has no colour for the classes {missing}; add one per class.")
    colours = {name: given[name] for name in class_groups()}
    colours.update({name: table["other"][name]["colour"] for name in NOT_A_CLASS})
    return colours


def colour_of(name: str) -> str:
    """The colour of a class or of unknown / mixture / masked.

    Raises
    ------
    KeyError
        For a name that is none of them, listing the names that have a colour.

    Examples
    --------
    >>> colour_of("olivine")
    '#228833'
    """
    colours = mineral_colours()
    if name not in colours:
        raise KeyError(f"{name!r} has no colour; the palette colours {', '.join(colours)}.")
    return colours[name]


# Machado, Oliveira & Fernandes (2009), IEEE TVCG 15(6) 1291-1298, severity 1.0: linear RGB -> linear RGB.
_MACHADO = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
# sRGB (D65) linear RGB -> XYZ, and the D65 white (IEC 61966-2-1).
_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _rgb(colour: str) -> np.ndarray:
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"a colour is written #RRGGBB, got {colour!r}")
    return np.array([int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4)])


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def simulate_vision(colour: str, vision: str = "normal") -> str:
    """``colour`` as a reader with ``vision`` sees it (Machado et al. 2009, severity 1).

    Parameters
    ----------
    colour : str
        ``#RRGGBB``.
    vision : {"normal", "deuteranopia", "protanopia", "tritanopia"}

    Examples
    --------
    >>> simulate_vision("#FF0000", "deuteranopia")
    '#A39000'
    """
    if vision == "normal":
        return colour
    if vision not in _MACHADO:
        raise ValueError(f"vision must be normal or one of {', '.join(_MACHADO)}, got {vision!r}")
    linear = np.clip(np.asarray(_MACHADO[vision]) @ _linear(_rgb(colour)), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return "#" + "".join(f"{round(float(v) * 255):02X}" for v in srgb)


def _lab(colour: str) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour."""
    xyz = _XYZ @ _linear(_rgb(colour)) / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(first: str, second: str, vision: str = "normal") -> float:
    """CIEDE2000 colour difference of two colours as a reader with ``vision`` sees them
    (Sharma, Wu & Dalal 2005; about 1: just noticeable; above 10: told apart at a glance).

    Examples
    --------
    >>> round(delta_e("#FFFFFF", "#000000"), 1)
    100.0
    """
    lab1, lab2 = _lab(simulate_vision(first, vision)), _lab(simulate_vision(second, vision))
    return _ciede2000(lab1, lab2)


def _ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_hue = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) > 180:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    else:
        h_mean = (h1 + h2) / 2
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    rotation = (
        -np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2)))) * 2 * np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7))
    )
    sl = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    sc, sh = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    dl, dc, dhh = (l2 - l1) / sl, (c2 - c1) / sc, d_hue / sh
    return float(np.sqrt(dl**2 + dc**2 + dhh**2 + rotation * dc * dhh))
