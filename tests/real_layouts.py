"""Tables written in the layouts of real instrument exports found in public repositories (a test
helper).  Each writer reproduces the structure of one real file (its title and metadata lines,
header cells, padding, separators, statistics rows and trailing lines) with analyses of our own
(LEPR rows); the file it follows is named in its docstring.  The real files were read with
``minml.read_table`` before these writers existed: what they showed wrong is fixed in
``minml.io.instruments`` and tested in ``tests/test_instruments_real.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from minml.chemistry.oxides import species_table

from .layouts import _oxides, atomic_percent, elements_of


def _stats(values: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    return [
        ("Minimum", values.min()),
        ("Maximum", values.max()),
        ("Average", values.mean()),
        ("Sigma  ", values.std().fillna(0.0)),
    ]


def write_jeol_summary(table: pd.DataFrame, path: Path, title: str = "Weight percent", qnt: str = "0004") -> Path:
    """A JEOL JXA summary report saved as comma-separated text, as in eleanor-m/n_epma_analysis,
    ``data/raw/basaltic_glasses_StA/majors_20211110/D2872_oxide.csv`` (oxide wt%) and
    ``D2893_1_stdev.txt`` (``title="Counting error(%) of X-ray intensities"``): a blank line,
    the title with ``Group :``, ``Sample :``, ``Page , 1`` cells, a blank line, ``No.`` and
    the columns padded with spaces, points numbered from 1, a comment at the end of each row,
    a blank line, ``Minimum``/``Maximum``/``Average``/``Sigma`` rows and ``"No. of data"``."""
    values = _oxides(table).round(4)
    values["Total"] = values.sum(axis=1).round(4)
    lines = [" ", f"{title}  ,      Group : 10112021      ,  Sample : 10112021_{qnt}_QNT  , Page ,  1 , ", " "]
    lines.append("   No. ," + ",".join(f"{c:^9}" for c in values.columns) + ",Comment  ")
    for i, row in enumerate(values.to_numpy().tolist()):
        cells = ",".join(f"{v:8.4f} " for v in row)
        lines.append(f"{i + 1:>5}  ," + cells + f",grain_{i + 1}_core ")
    lines.append(" ")
    for name, s in _stats(values):
        lines.append(f"{name}," + ",".join(f"{v:8.4f} " for v in s.to_numpy()) + " ")
    lines.append(f'"No. of data"   {len(values)} ')
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def write_jeol_all(table: pd.DataFrame, path: Path) -> Path:
    """JEOL's ALL report as in eleanor-m/n_epma_analysis,
    ``data/raw/basaltic_glasses_StA/majors_20211110/d2872_all.txt``: ``ALL, , ,Group: ...``, a
    blank line, ``Point,Comment`` and every oxide in (Mass%), (Norm%), (Cation) and (mole%),
    the stage position, k-ratios and trailing commas, then the statistics rows after a blank line
    (which the reader took for the end of the table: it left the file to the plain reader)."""
    values = _oxides(table).round(4)
    values["Total"] = values.sum(axis=1).round(4)
    normal = (100 * values.div(values["Total"], axis=0)).round(4)
    units = {"Mass%": values, "Norm%": normal, "Cation": (values / 10).round(4), "mole%": normal}
    header = ["Point", "Comment"] + [f"{c}({u})" for u in units for c in values.columns] + ["X", "Y", "Z"]
    header += [f"{c}(K-ratio)" for c in values.columns]
    lines = ["ALL, , ,Group: 10112021,Sample: 10112021_0004_QNT,Page,1, ", " ", ",".join(header) + ", "]
    for i in range(len(values)):
        cells = [f"{v:8.4f} " for u in units.values() for v in u.iloc[i].tolist()]
        cells += ["25.8328 ", "28.2983 ", "11.0110 "] + [f"{v / 100:8.4f} " for v in values.iloc[i]]
        lines.append(f"{i + 1:>5}  ,spot_{i + 1}," + ",".join(cells) + ", ")
    lines.append(" ")
    for name, s in _stats(values):
        stats = [f"{v:8.4f} " for v in s.to_numpy()] * len(units) + ["0.0000 "] * (3 + len(values.columns))
        lines.append(f"{name},," + ",".join(stats) + ", ")
    lines.append(f'"No. of data"   {len(values)} ')
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def write_calczaf_export(table: pd.DataFrame, path: Path, sample: str = "glass_30um") -> Path:
    """A CalcZAF / Probe for EPMA tab-delimited export as in eleanor-m/n_epma_analysis,
    ``data/processed/basaltic_glasses/calczaf_files/D2872/D2872_1_base_Export.dat``: every
    header cell quoted and padded (``"  Si WT%"``), ``SAMPLE`` cells ``"Un    1  name_1"``,
    element wt% with the oxygen of the oxides (``"   O WT%"``) and Cl by element, ``TOTAL``,
    stage positions, atomic percents and the standard's number and name.  Saved as ``.dat``,
    which the reader refused for its extension."""
    elements = elements_of(table).round(6)
    symbols = [c for c in elements.columns if c != "O"]
    header = ["  SAMPLE", "    LINE", "Relative Dist(um)"] + [f"{s:>4} WT%" for s in symbols] + ["   O WT%"]
    header += ["   TOTAL", "   X-POS", "   Y-POS", "   Z-POS"] + [f"{s:>4} AT%" for s in [*symbols, "O"]]
    header += [" N K-RAT", "N STD_NUM", "N STD_NAM"]
    lines = ["\t".join(f'"{h}"' for h in header)]
    for i in range(len(elements)):
        weights = [elements.iloc[i][s] for s in symbols] + [elements.iloc[i]["O"]]
        atoms = [w / 100 for w in weights]
        cells = [f'"Un {i + 1:>4}  {sample}_{i + 1}"', f"{i + 1:>8}", "       0"]
        cells += [f" {w:.6f}".replace(" 0.", " .") for w in [*weights, sum(weights), 0, 0, 0, *atoms, 0]]
        cells += ["608", '"GaN"']
        lines.append("\t".join(cells))
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def write_pfe_standard(table: pd.DataFrame, path: Path) -> Path:
    """Probe for EPMA's log printout of a secondary standard, as posted on the Probe Software
    forum (smf.probesoftware.com, topic 1809, "St 263 Set 1 Fe2SiO4 (synthetic fayalite), Results
    in Elemental Weight Percents"): ``ELEM:`` with the element symbols, ``O`` and ``SUM``, points
    by line number, then ``AVER:``, ``SDEV:``, ``SERR:``, ``%RSD:``, the published composition
    ``PUBL:`` (``n.a.`` where none), ``%VAR:`` and ``DIFF:`` (``---``) and ``STDS:``, one line
    after the other: the reader took PUBL:, %VAR: and DIFF: for three more analyses."""
    values = elements_of(table).round(3)
    values = values[[c for c in values.columns if c != "O"] + ["O"]]
    values["SUM"] = values.sum(axis=1).round(3)
    width = "".join(f"{c:>8}" for c in values.columns)
    lines = [
        "St  263 Set   1 LEPR glass (secondary standard), Results in Elemental Weight Percents",
        " ",
        f"ELEM: {width}",
    ]
    for i, row in enumerate(values.to_numpy().tolist()):
        lines.append(f"{131 + i:>5} " + "".join(_pfe(v) for v in row))
    mean, sd = values.mean(), values.std()
    lines.append("AVER: " + "".join(_pfe(v) for v in mean))
    lines.append("SDEV: " + "".join(_pfe(v) for v in sd))
    lines.append("SERR: " + "".join(_pfe(v) for v in sd / len(values) ** 0.5))
    lines.append("%RSD: " + "".join(_pfe(v, 2) for v in 100 * sd / mean))
    lines.append("PUBL: " + "".join(_pfe(v) if i % 2 == 0 else f"{'n.a.':>8}" for i, v in enumerate(mean)))
    lines.append("%VAR: " + "".join(f"{'-.58':>8}" if i % 2 == 0 else f"{'---':>8}" for i in range(len(mean))))
    lines.append("DIFF: " + "".join(f"{'-.080':>8}" if i % 2 == 0 else f"{'---':>8}" for i in range(len(mean))))
    lines.append("STDS: " + "".join(f"{14 + i:>8}" for i in range(len(mean) - 2)) + f"{'---':>8}")
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def _pfe(value: float, digits: int = 3) -> str:
    """A number as Probe for EPMA prints it: no zero before the point (``.005``, ``-.006``)."""
    return f"{value:>8.{digits}f}".replace("-0.", " -.").replace(" 0.", "  .")


def write_edax_spectrum(row: pd.DataFrame, path: Path, name: str, specimen: str = "", atomic: bool = False) -> Path:
    """An EDAX (APEX) single-spectrum export, as in tupuni/sem-eds-data-processing,
    ``2025-05-06_MEB-EMAE/data/raw_data/18_554_1_1_1.csv``: quoted ``key,value`` lines
    (``Creation Date``, ``Project``, ``kV``, ``Live Time`` ...), then ``Element,Weight %,Error %``
    and one element a row named with its X-ray line (``"O  K"``, ``"Si K"``), no total.  With a
    ``specimen``, the later layout of ``2025-06-12_MEB-EMAE/data/raw_data/24_081_1.csv``:
    nothing quoted, a trailing comma after each value, ``Specimen``, ``Area`` and ``Sampling
    Region`` filled.  The reader refused both (a table of 2 columns, then 3).  ``atomic``: the
    numbers under ``Weight %`` are atomic %, as in ``24_081_1.csv`` (O 62.9)."""
    values = elements_of(row)
    values = (atomic_percent(values) if atomic else values).iloc[0].round(2)
    keys = {"Creation Date": "5/6/2025 2:37:19 PM", "Project": f"EDS Spectrum: {name} | Area 1 | Full Area 1"}
    keys.update({"Specimen": specimen, "Area": "Area 1" if specimen else "", "kV": "20", "Live Time": "20"})
    rows = [["", ""]] if not specimen else []
    rows += [[key, value] for key, value in keys.items()] + [["", ""], ["Element", "Weight %", "Error %"]]
    rows += [[f"{s:<2} K", f"{v:.2f}", f"{4 + 10 / (1 + v):.2f}"] for s, v in values.items() if v > 0]
    if specimen:  # unquoted, a trailing comma after the metadata values
        lines = [",".join(r) + ("," if len(r) == 2 else "") for r in rows]
    else:
        lines = [",".join(f'"{c}"' for c in r) for r in rows]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def write_aztec_blocks(table: pd.DataFrame, path: Path) -> Path:
    """AZtec's spectrum results, one element a row, a block per spectrum: the layout mineralML's
    ``extract_aztec`` reads from real AZtec files (sarahshi/mineralML,
    ``src/mineralML/microanalysis.py``: the spectrum's name above an ``Element`` header with
    ``Wt%``, ``Wt% Sigma``, ``Oxide``, ``Oxide %``, ``Oxide % Sigma``; a ``Total`` row).  No
    real AZtec file was found to copy the layout from: the other header words follow that code's
    description and the AZtec column names."""
    oxides = _oxides(table).round(2)
    elements = elements_of(table).round(2)
    header = "Element,Line Type,Apparent Concentration,k Ratio,Wt%,Wt% Sigma,Atomic %,Oxide,Oxide %,Oxide % Sigma"
    lines: list[str] = []
    for i in range(len(table)):
        lines += [f"Spectrum {i + 1}", header]
        for oxide, value in oxides.iloc[i].items():
            if value <= 0:
                continue
            symbol = species_table()[oxide].element
            weight = elements.iloc[i][symbol]
            lines.append(
                f"{symbol},K series,{weight * 0.9:.2f},0.0{i + 1},{weight:.2f},0.10,5.00,{oxide},{value:.2f},0.20"
            )
        lines.append(f"O,K series,,,{elements.iloc[i]['O']:.2f},0.20,60.00,,,")
        lines.append(f"Total:,,,,{elements.iloc[i].sum():.2f},,100.00,,{oxides.iloc[i].sum():.2f},")
        lines.append("")
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)
