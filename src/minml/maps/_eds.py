"""Files read through rosettasciio (the optional ``eds`` extra, GPL: imported only here, only
when such a file is read): HyperSpy ``.hspy`` / ``.zspy`` signals, Bruker ``.bcf`` / ``.spx``,
Ripple ``.rpl`` (+ ``.raw``) and EMSA ``.msa`` spectra.

A signal is either **quantified** (images: one 2-D image, or a stack of shape (n, H, W) with
one image per element or oxide, named by ``metadata.Sample.elements`` / ``xray_lines`` or the
title) or **raw** (a spectrum image: its last axis is energy).  Raw spectra are quantified by
:mod:`minml.maps.quantify` with the k-factors given, or refused with the command that would
quantify them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ["EDS_SUFFIXES", "RAW_SUFFIXES", "read_signals", "signal_channels", "spectra_of"]

RAW_SUFFIXES = (".bcf", ".spx", ".rpl", ".msa", ".emsa")
EDS_SUFFIXES = (".hspy", ".zspy", *RAW_SUFFIXES)
_PLUGIN = {".hspy": "hspy", ".zspy": "zspy", ".bcf": "bruker", ".spx": "bruker", ".rpl": "ripple"}
_ENERGY_UNITS = {"ev": 1e-3, "kev": 1.0, "energy (ev)": 1e-3, "energy (kev)": 1.0}
_MICROMETRES = {"µm": 1.0, "um": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3}
_TITLE_UNITS = re.compile(r"(atomic|at\.?\s*%|weight|wt\.?\s*%)", re.IGNORECASE)


def read_signals(path: Path) -> list[dict]:
    """rosettasciio's signal dictionaries of ``path`` (``data``, ``axes``, ``metadata``)."""
    plugin = _PLUGIN.get(path.suffix.lower(), "msa")
    try:
        import importlib

        reader = importlib.import_module(f"rsciio.{plugin}").file_reader
    except ImportError as error:
        raise ImportError(
            f"Reading {path.suffix} files needs rosettasciio (GPL, an optional extra): "
            f'pip install "min-ml[eds]" ({error})'
        ) from error
    try:
        signals = reader(str(path))
    except Exception as error:  # the format's own reader failed: say which file and why
        raise ValueError(f"{path.name}: rosettasciio could not read it as {plugin} ({error}).") from error
    return [signals] if isinstance(signals, dict) else list(signals)


def _is_spectrum(signal: dict) -> bool:
    axes = signal.get("axes", [])
    units = str(axes[-1].get("units", "")).strip().lower() if axes else ""
    kind = str(signal.get("metadata", {}).get("Signal", {}).get("signal_type", ""))
    return units in _ENERGY_UNITS or kind.startswith("EDS")


def _names(signal: dict, count: int) -> list[str] | None:
    """Element/line/oxide names of a quantified signal's images, from its metadata."""
    meta = signal.get("metadata", {})
    sample = meta.get("Sample", {})
    for key in ("xray_lines", "elements"):
        names = list(sample.get(key, []) or [])
        if len(names) == count:
            return [str(n).split("_")[0] for n in names]
    title = str(meta.get("General", {}).get("title", "")).strip()
    if count == 1 and title:
        from minml.maps.read import channel_name  # the one reader of channel names (read imports this module)

        bare = channel_name(title)[0] or title  # "Al K series", "Fe_Ka", "SiO2 (wt%)": the line and units go
        last = re.split(r"[\s:]+", bare)[-1]  # "atomic percent of Fe"
        return [last.split("_")[0]]
    return None


def _units(signal: dict) -> str | None:
    meta = signal.get("metadata", {})
    text = f"{meta.get('Signal', {}).get('quantity', '')} {meta.get('General', {}).get('title', '')}"
    found = _TITLE_UNITS.search(text)
    if not found:
        return None
    return "at%" if found.group(1).lower().startswith("at") else "wt%"


def pixel_size_of(axes) -> float | None:
    """Micrometres per pixel from the two image axes (``scale`` in ``units``), when they agree."""
    image = [a for a in axes if str(a.get("units", "")) in _MICROMETRES and "scale" in a][-2:]
    scales = {round(float(a["scale"]) * _MICROMETRES[str(a["units"])], 9) for a in image}
    return scales.pop() if len(scales) == 1 and len(image) == 2 else None


def signal_channels(signals: list[dict], source: str) -> tuple[list, str | None, float | None]:
    """Quantified images of ``signals`` as ``(name, grid)`` pairs, their units (``wt%``/``at%``
    from the metadata, or None when it does not say) and the pixel size."""
    channels, units, pixel_size = [], set(), None
    for i, signal in enumerate(signals):
        data = signal["data"]
        shape = tuple(np.shape(data))
        if len(shape) == 2 and shape[0] > 1 and shape[1] > 1 and not _is_spectrum(signal):
            stack = [data]
        elif len(shape) == 3 and not _is_spectrum(signal):
            stack = [data[j] for j in range(shape[0])]
        else:
            continue
        names = _names(signal, len(stack))
        if names is None:
            raise ValueError(
                f"{source}: signal {i} holds {len(stack)} images but its metadata names no element for each "
                "(metadata.Sample.elements, one per image, or a title such as 'Fe' for one image)."
            )
        channels += list(zip(names, stack))
        found = _units(signal)
        if found:
            units.add(found)
        pixel_size = pixel_size or pixel_size_of(signal.get("axes", []))
    if len(units) > 1:
        raise ValueError(f"{source}: its signals are in both wt% and at%; quantify them in one unit.")
    return channels, units.pop() if units else None, pixel_size


def spectra_of(signals: list[dict], source: str) -> tuple[np.ndarray, np.ndarray, list, float | None]:
    """The spectrum image (or single spectrum) of ``signals``: counts (H, W, channels), energy
    of each channel (keV), the elements the metadata names, and the pixel size."""
    spectra = [s for s in signals if _is_spectrum(s)]
    if not spectra:
        raise ValueError(f"{source} holds no EDS spectra and no quantified images.")
    signal = max(spectra, key=lambda s: np.size(s["data"]))
    axis = signal["axes"][-1]
    unit = _ENERGY_UNITS.get(str(axis.get("units", "")).strip().lower(), 1.0)
    energy = (float(axis.get("offset", 0.0)) + float(axis.get("scale", 1.0)) * np.arange(int(axis["size"]))) * unit
    counts = np.asarray(signal["data"])
    counts = counts.reshape((1,) * (3 - counts.ndim) + counts.shape) if counts.ndim < 3 else counts
    if counts.ndim != 3:
        raise ValueError(f"{source}: spectra of shape {np.shape(signal['data'])}; expected (height, width, channels).")
    elements = [str(e) for e in signal.get("metadata", {}).get("Sample", {}).get("elements", []) or []]
    return counts, energy, elements, pixel_size_of(signal["axes"][:-1])
